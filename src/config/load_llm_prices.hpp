// llm.prices and llm.currency (the AI gateway's price table), read apart from
// loader.cpp so the loader only calls in.
#pragma once

#include "config/loader_reader.hpp"

namespace gatehouse::config::detail {

// `s` is one item of llm.prices.
LlmPriceConfig parse_llm_price(Reader& r, const Slot& s);

}  // namespace gatehouse::config::detail
