#include "config/load_llm_prices.hpp"

namespace gatehouse::config::detail {

LlmPriceConfig parse_llm_price(Reader& r, const Slot& s) {
  LlmPriceConfig p;
  p.pos = s.pos;
  Fields f(r, s, {"provider", "model", "input", "output", "cache_read", "cache_write", "reasoning"});
  f.read("provider", p.provider);
  f.read("model", p.model);
  f.read("input", p.input);
  f.read("output", p.output);
  f.read("cache_read", p.cache_read);
  f.read("cache_write", p.cache_write);
  f.read("reasoning", p.reasoning);
  return p;
}

}  // namespace gatehouse::config::detail
