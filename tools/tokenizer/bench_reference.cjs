#!/usr/bin/env node
// The reference point for bench/tokenizer_bench.cpp: the npm tiktoken package
// (Rust compiled to WASM) encoding the same 64 KiB texts, read from the
// benchmark's own source so both always measure the same input.
//   node tools/tokenizer/bench_reference.cjs
"use strict";
const fs = require("fs");
const path = require("path");
const { get_encoding } = require("tiktoken");

const src = fs.readFileSync(path.join(__dirname, "..", "..", "bench", "tokenizer_bench.cpp"), "utf8");
// A C++ constant made of adjacent string literals with \n and \" escapes only,
// which read the same as JSON strings.
function literal(name) {
  const m = src.match(new RegExp(`constexpr const char\\* ${name} =([\\s\\S]*?);\\n`));
  if (!m) throw new Error(`${name} not found in bench/tokenizer_bench.cpp`);
  return [...m[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => JSON.parse(`"${x[1]}"`)).join("");
}

for (const [name, unit] of [["prose", literal("kProse")], ["code", literal("kCode")],
                            ["chinese", literal("kChinese")]]) {
  let text = "";
  while (Buffer.byteLength(text) < 64 * 1024) text += unit;
  const bytes = Buffer.byteLength(text);
  for (const e of ["o200k_base", "cl100k_base"]) {
    const enc = get_encoding(e);
    let tokens = 0;
    let iters = 0;
    const start = process.hrtime.bigint();
    while (process.hrtime.bigint() - start < 2_000_000_000n) {
      tokens += enc.encode_ordinary(text).length;
      ++iters;
    }
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`${e.padEnd(12)} ${name.padEnd(8)} ${(tokens / s / 1e6).toFixed(2)}M tokens/s  ` +
                `${(iters * bytes / s / 1048576).toFixed(1)} MiB/s`);
    enc.free();
  }
}
