#!/usr/bin/env node
// Writes tests/fixtures/tokenizer/golden.json: input strings and the token ids the
// reference implementation (the npm package tiktoken, pinned in package.json here)
// gives for them under o200k_base and cl100k_base. The C++ tokenizer's tests
// compare against this file exactly. Run once after `scripts/bootstrap` and commit
// the output; rerun only when adding cases:
//   node tools/tokenizer/gen_golden.cjs
"use strict";
const fs = require("fs");
const path = require("path");
const { get_encoding } = require("tiktoken");

const ENCODINGS = ["o200k_base", "cl100k_base"];

// Each case: [name, text] (specials treated as plain text) or
// [name, text, "all"] (every special token of the encoding allowed).
const cases = [
  ["empty", ""],
  ["ascii_sentence", "Hello, world! This is a simple sentence."],
  ["prose", "The quick brown fox jumps over the lazy dog. It wasn't the fox's fault; " +
    "the dog had been sleeping since 3:45 p.m., and nobody (not even Dr. Smith) noticed."],
  ["contractions_lower", "I'm sure they're here, we'll see, you've been, he'd go, it's, don't"],
  ["contractions_upper", "I'M SURE THEY'RE HERE, WE'LL SEE, YOU'VE BEEN, HE'D GO, IT'S, DON'T"],
  ["contractions_mixed", "It'S We'Ll They'rE you'VE 'sHello 'Dog 'll 're"],
  ["contraction_long_s", "it\u017f don'\u017f '\u017fx"],
  ["apostrophes", "'''quoted''' rock'n'roll O'Neil ' s 'x"],
  ["numbers", "1 12 123 1234 12345 123456 1234567 12345678901234567890"],
  ["number_formats", "3.14159 -42 +7 1,000,000 0x1F 1e10 2024-01-31 12:30:45 50% $19.99"],
  ["unicode_digits", "\u0661\u0662\u0663\u0664 \u0967\u0968\u0969 \uff11\uff12\uff13\uff14 \u2460\u2461 \u00bd\u00be"],
  ["spaces_between", "hello   world    again     x"],
  ["trailing_spaces", "trailing spaces   "],
  ["leading_spaces", "   leading spaces"],
  ["only_spaces", "     "],
  ["newlines", "\n"],
  ["newlines_many", "\n\n\n"],
  ["paragraphs", "First line.\n\nSecond paragraph.\n\n\nThird.\n"],
  ["crlf", "line1\r\nline2\r\n\r\nline3"],
  ["space_newline_mix", "a \n b  \n\n  c   \n"],
  ["tabs", "\tindented\n\t\tdouble\n \t mixed \t"],
  ["unicode_spaces", "a\u00a0b\u3000c\u2003d\u2028e\u0085f  \u3000\u3000g"],
  ["cjk_chinese", "你好，世界！这是一个测试。"],
  ["cjk_japanese", "こんにちは世界。カタカナとひらがな、漢字。"],
  ["korean", "안녕하세요 세계"],
  ["emoji", "Hello 👋 world 🌍! 🎉🎉🎉"],
  ["emoji_zwj", "family: 👨‍👩‍👧‍👦 flag: 🇺🇸🇫🇷 skin: 👍🏽"],
  ["accented", "café naïve résumé Ångström façade coöperate"],
  ["combining_marks", "e\u0301cole cafe\u0301 \u0301abc !\u0301 a\u0308\u0304"],
  ["uppercase_accented", "ÉCOLE ÜBER STRAßE ÇA"],
  ["greek_cyrillic", "Γειά σου Κόσμε. Привет, мир! ПРИВЕТ Мир"],
  ["arabic_hebrew", "مرحبا بالعالم שלום עולם"],
  ["devanagari", "नमस्ते दुनिया हिन्दी"],
  ["thai", "สวัสดีชาวโลก"],
  ["case_shapes", "HelloWorld HTTPServer iPhone camelCaseVariable SCREAMING_SNAKE_CASE XMLHttpRequest"],
  ["titlecase_modifier", "\u01c5ungla \u01c8ubljana \u02b0\u02b2x a\u02bcb \u3005\u3005"],
  ["upper_contractions", "ABCdef's HELLO'S Don'T McDONALD'S"],
  ["mixed_scripts", "Hello世界123abcПривет!? mixedСкрипт"],
  ["code_cpp", "#include <vector>\n\nint main() {\n  std::vector<int> v{1, 2, 3};\n" +
    "  for (auto& x : v) x *= 2;  // double\n  return v.size() > 2 ? 0 : 1;\n}\n"],
  ["code_python", "def fib(n: int) -> int:\n    if n < 2:\n        return n\n" +
    "    return fib(n - 1) + fib(n - 2)\n\n\nprint([fib(i) for i in range(10)])\n"],
  ["code_json", "{\"model\": \"gpt-4o\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], " +
    "\"temperature\": 0.7, \"stream\": true}"],
  ["urls_paths", "https://example.com/a/b?c=d&e=f#frag /usr/local//bin/ ./a/../b C:\\Windows\\x //x/\n/"],
  ["punctuation_runs", "!!! ??? ... --- *** ### @@@ \"\"\" ''' ;;; ::: !?!\n\n!!\n/ ,,, \u00bf\u00a1 \u2014\u2013 \u201chi\u201d"],
  ["html", "<div class=\"x\">Hello &amp; <b>bye</b></div>\n<br/>"],
  ["markdown", "# Title\n\n- item *one*\n- item **two**\n\n```js\nconst a = 1;\n```\n"],
  ["special_as_text", "before <|endoftext|> after <|fim_prefix|><|endofprompt|>"],
  ["special_allowed", "before <|endoftext|> after <|fim_prefix|>x<|endofprompt|>", "all"],
  ["special_adjacent", "<|endoftext|><|endoftext|>text<|endoftext|>", "all"],
  ["special_partial", "<|endoftext| <|endoftext <|x|> <| |>", "all"],
  ["long_a", "a".repeat(10000)],
  ["long_spaces", " ".repeat(1000) + "x"],
  ["long_newlines", "\n".repeat(300)],
  ["long_bang", "!".repeat(5000)],
  ["long_ab", "ab".repeat(3000)],
  ["long_digits", "1".repeat(100)],
  ["long_cjk", "测".repeat(2000)],
  ["long_emoji", "😀".repeat(500)],
  ["long_mixed_word", "Supercalifragilisticexpialidocious".repeat(50)],
];

// Deterministic pseudo-random strings over a pool of characters of every class
// the pre-tokenizer distinguishes, so the two implementations meet edge cases
// nobody thought to write down.
const pool = [
  "a", "b", "z", "A", "Z", "e", "s", "S", "t", "T", "'", "'", "'", " ", " ", " ", "  ", "\t",
  "\n", "\r", "\r\n", "0", "7", "42", "!", "?", ".", ",", "/", "-", "_", "(", ")", "{", "\"",
  "é", "É", "ß", "ø", "\u0301", "\u0308", "\u093f", "\u0947", "ǅ", "ʰ", "々", "你", "好",
  "カ", "한", "Я", "я", "λ", "Λ", "ا", "\u00a0", "\u3000", "\u2003", "😀", "👍🏽", "\u200d",
  "\u017f", "\u0661", "\u2460", "\u00bd", "ʼ", "\u2019", "$", "%", "\u00bf", "<", "|", ">",
];
let seed = 20240601;
function rand(n) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
}
for (let i = 0; i < 60; i++) {
  const len = 1 + rand(80);
  let s = "";
  for (let j = 0; j < len; j++) s += pool[rand(pool.length)];
  cases.push([`random_${i}`, s]);
}

// OpenAI's documented chat accounting (their cookbook's num_tokens_from_messages):
// 3 per message, every string field's tokens, +1 per name, +3 reply priming. The
// messages are the cookbook's own example, whose published counts are 129
// (gpt-4, cl100k_base) and 124 (gpt-4o, o200k_base).
const cookbookMessages = [
  { role: "system", content: "You are a helpful, pattern-following assistant that translates corporate jargon into plain English." },
  { role: "system", name: "example_user", content: "New synergies will help drive top-line growth." },
  { role: "system", name: "example_assistant", content: "Things working well together will increase revenue." },
  { role: "system", name: "example_user", content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage." },
  { role: "system", name: "example_assistant", content: "Let's talk later when we're less busy about how to do better." },
  { role: "user", content: "This late pivot means we don't have time to boil the ocean for the client deliverable." },
];
const chatRequests = [
  ["cookbook_gpt4", "cl100k_base", { model: "gpt-4", messages: cookbookMessages }],
  ["cookbook_gpt4o", "o200k_base", { model: "gpt-4o", messages: cookbookMessages }],
  ["unicode_gpt41", "o200k_base", { model: "gpt-4.1-mini", messages: [
    { role: "developer", content: "Réponds en français. 日本語もOK 👍" },
    { role: "user", name: "alice", content: "What's 12345 + 678?\n\n  Explain   briefly.  " },
  ] }],
];
function cookbookCount(enc, messages) {
  let n = 0;
  for (const m of messages) {
    n += 3;
    for (const [k, v] of Object.entries(m)) {
      n += enc.encode_ordinary(v).length;
      if (k === "name") n += 1;
    }
  }
  return n + 3;
}

const encoders = Object.fromEntries(ENCODINGS.map((e) => [e, get_encoding(e)]));
const out = {
  generator: "tools/tokenizer/gen_golden.cjs",
  tiktoken: JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", "tiktoken", "package.json"))).version,
  cases: cases.map(([name, text, allowed]) => {
    const c = { name, text, allowed_special: allowed || "none" };
    for (const e of ENCODINGS) {
      const enc = encoders[e];
      // "none": specials are ordinary text (encode_ordinary), which is what the
      // gateway does with user content.
      const ids = allowed === "all" ? enc.encode(text, "all") : enc.encode_ordinary(text);
      c[e] = Array.from(ids);
    }
    return c;
  }),
  chat: chatRequests.map(([name, encoding, request]) => ({
    name, encoding, request, tokens: cookbookCount(encoders[encoding], request.messages),
  })),
};
for (const e of Object.values(encoders)) e.free();

const dest = path.join(__dirname, "..", "..", "tests", "fixtures", "tokenizer", "golden.json");
fs.mkdirSync(path.dirname(dest), { recursive: true });
// One case per line: small diffs when cases are added.
const lines = out.cases.map((c) => "    " + JSON.stringify(c));
fs.writeFileSync(dest, "{\n" +
  `  "generator": ${JSON.stringify(out.generator)},\n` +
  `  "tiktoken": ${JSON.stringify(out.tiktoken)},\n` +
  "  \"cases\": [\n" + lines.join(",\n") + "\n  ],\n" +
  "  \"chat\": [\n" + out.chat.map((c) => "    " + JSON.stringify(c)).join(",\n") + "\n  ]\n}\n");
console.log(`wrote ${out.cases.length} cases to ${path.relative(process.cwd(), dest)}`);
