// Loads both encodings once per test binary; tests FAIL (not skip) when the
// rank files are missing, with the loader's message saying to run bootstrap.
#pragma once

#include <gtest/gtest.h>

#include "ai/tokenizer/tokenizer.hpp"

namespace gatehouse::ai::testing {

inline const Result<Tokenizers>& shared_tokenizers() {
  static const Result<Tokenizers> t = Tokenizers::load();
  return t;
}

// Use as: const Tokenizers* tk = tokenizers_or_fail(); if (!tk) return;
inline const Tokenizers* tokenizers_or_fail() {
  const auto& t = shared_tokenizers();
  if (!t) {
    ADD_FAILURE() << "cannot load the tokenizer rank files (run scripts/bootstrap): "
                  << t.error().message;
    return nullptr;
  }
  return &*t;
}

}  // namespace gatehouse::ai::testing
