#include "ai/tokenizer/model_encoding.hpp"

#include <array>

namespace gatehouse::ai {
namespace {

struct Family {
  std::string_view prefix;
  Encoding encoding;
};

// Order matters: the first prefix that matches wins, so the o200k families
// ("gpt-4o", "gpt-4.1", "gpt-4.5") come before their cl100k parent "gpt-4".
constexpr std::array<Family, 16> kFamilies = {{
    {"gpt-4o", Encoding::kO200kBase},
    {"gpt-4.1", Encoding::kO200kBase},
    {"gpt-4.5", Encoding::kO200kBase},
    {"gpt-5", Encoding::kO200kBase},
    {"gpt-oss", Encoding::kO200kBase},
    {"chatgpt-4o", Encoding::kO200kBase},
    {"o1", Encoding::kO200kBase},
    {"o3", Encoding::kO200kBase},
    {"o4", Encoding::kO200kBase},
    {"gpt-4", Encoding::kCl100kBase},
    {"gpt-3.5", Encoding::kCl100kBase},
    {"gpt-35", Encoding::kCl100kBase},  // Azure's spelling
    {"text-embedding-3", Encoding::kCl100kBase},
    {"text-embedding-ada-002", Encoding::kCl100kBase},
    {"davinci-002", Encoding::kCl100kBase},
    {"babbage-002", Encoding::kCl100kBase},
}};

// "o1" must not match "o10" or "o1x": a family prefix ends the name or is
// followed by a separator. A dot continues only the o200k families ("gpt-5.1"):
// an unknown "gpt-4.7" is a new model, and new models use o200k_base.
bool family_match(std::string_view model, const Family& f) {
  if (model.substr(0, f.prefix.size()) != f.prefix) return false;
  if (model.size() == f.prefix.size()) return true;
  char next = model[f.prefix.size()];
  if (next == '.') return f.encoding == Encoding::kO200kBase;
  return next == '-' || next == ':' || next == '_' || next == '@';
}

}  // namespace

ModelEncoding encoding_for_model(std::string_view model) {
  if (size_t slash = model.rfind('/'); slash != std::string_view::npos) {
    model.remove_prefix(slash + 1);
  }
  if (model.substr(0, 3) == "ft:") model.remove_prefix(3);
  for (const auto& f : kFamilies) {
    if (family_match(model, f)) return {f.encoding, true};
  }
  return {Encoding::kO200kBase, false};
}

}  // namespace gatehouse::ai
