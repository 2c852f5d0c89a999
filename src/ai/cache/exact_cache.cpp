#include "ai/cache/exact_cache.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <vector>

#include "ai/translate/translate.hpp"
#include "common/json.hpp"

namespace gatehouse::ai::cache {

namespace json = boost::json;

CacheStats& cache_stats() {
  static CacheStats s;
  return s;
}

std::string render_cache_metrics() {
  auto& s = cache_stats();
  auto line = [](const char* result, const std::atomic<uint64_t>& v) {
    return std::string("gatehouse_llm_cache_total{result=\"") + result + "\"} " +
           std::to_string(v.load(std::memory_order_relaxed)) + "\n";
  };
  return "# HELP gatehouse_llm_cache_total LLM response cache lookups (hit, miss, bypass: "
         "Cache-Control no-store/no-cache), stores, evictions and answers too large to store.\n"
         "# TYPE gatehouse_llm_cache_total counter\n" +
         line("hit", s.hits) + line("miss", s.misses) + line("bypass", s.bypasses) +
         line("store", s.stores) + line("evict", s.evictions) + line("too_large", s.too_large);
}

ExactCache::ExactCache(CacheLimits limits)
    : limits_(limits),
      shard_entries_(std::max<size_t>(1, (limits.max_entries + 15) / 16)),
      shard_bytes_(std::max<size_t>(1, limits.max_bytes / 16)) {}

ExactCache::Shard& ExactCache::shard(std::string_view key) {
  return shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

void ExactCache::drop(Shard& s, std::list<Entry>::iterator it) {
  s.bytes -= it->bytes;
  s.map.erase(std::string_view(it->key));
  s.lru.erase(it);
}

std::shared_ptr<const Response> ExactCache::get(const std::string& key, int64_t now_ms) {
  Shard& s = shard(key);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(key);
  if (it == s.map.end()) return nullptr;
  if (it->second->expires_ms <= now_ms) {
    drop(s, it->second);
    return nullptr;
  }
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->value;
}

bool ExactCache::put(const std::string& key, Response r, int64_t now_ms) {
  const size_t bytes = response_bytes(r) + key.size();
  if (bytes > limits_.max_entry_bytes || bytes > shard_bytes_) {
    cache_stats().too_large.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  auto value = std::make_shared<const Response>(std::move(r));
  Shard& s = shard(key);
  std::lock_guard lock(s.mu);
  if (auto it = s.map.find(key); it != s.map.end()) drop(s, it->second);
  // Expired entries first (from the cold end), then least recently used.
  while (!s.lru.empty() && (s.lru.size() >= shard_entries_ || s.bytes + bytes > shard_bytes_)) {
    drop(s, std::prev(s.lru.end()));
    cache_stats().evictions.fetch_add(1, std::memory_order_relaxed);
  }
  s.lru.push_front(Entry{key, std::move(value), bytes, now_ms + limits_.ttl_ms});
  s.map.emplace(std::string_view(s.lru.front().key), s.lru.begin());
  s.bytes += bytes;
  cache_stats().stores.fetch_add(1, std::memory_order_relaxed);
  return true;
}

size_t ExactCache::entries() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.lru.size();
  }
  return n;
}

size_t ExactCache::bytes() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.bytes;
  }
  return n;
}

size_t response_bytes(const Response& r) {
  std::function<size_t(const std::vector<Part>&)> parts = [&](const std::vector<Part>& ps) {
    size_t n = 0;
    for (const auto& p : ps)
      n += sizeof(Part) + p.text.size() + p.id.size() + p.name.size() + p.arguments.size() +
           p.signature.size() + p.item_id.size() + p.image.data.size() + p.image.url.size() +
           parts(p.content);
    return n;
  };
  return sizeof(Response) + r.id.size() + r.model.size() + r.stop_sequence.size() +
         parts(r.content);
}

namespace {

void canonical(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::object: {
      const auto& o = v.as_object();
      std::vector<std::pair<std::string_view, const json::value*>> kv;
      for (const auto& e : o) kv.emplace_back(e.key(), &e.value());
      std::sort(kv.begin(), kv.end());
      out += '{';
      for (size_t i = 0; i < kv.size(); ++i) {
        if (i) out += ',';
        out += json::serialize(json::string(kv[i].first));
        out += ':';
        canonical(*kv[i].second, out);
      }
      out += '}';
      break;
    }
    case json::kind::array: {
      out += '[';
      const auto& a = v.as_array();
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out += ',';
        canonical(a[i], out);
      }
      out += ']';
      break;
    }
    default:
      out += json::serialize(v);
  }
}

}  // namespace

std::string canonical_request(std::string_view resolved_model, const Request& req) {
  Request n = req;
  n.model = std::string(resolved_model);
  n.stream = false;
  n.include_usage = false;
  n.user.clear();
  n.metadata.clear();
  n.dropped.clear();
  // One wire form for every client format, then keys sorted at every level
  // (tool schemas keep whatever order the client wrote them in).
  WriteOptions wo;
  wo.chat_force_include_usage = false;
  wo.created = 1;
  wo.chat_send_reasoning_content = true;  // earlier thinking is part of the context
  std::string wire = write_request(Format::kChat, n, wo);
  boost::system::error_code ec;
  json::value v = parse_json(wire, ec);
  if (ec) return wire;
  std::string out;
  canonical(v, out);
  // What the Chat form cannot say (Anthropic-only parameters) still tells
  // requests apart.
  if (req.top_k) out += "\ntop_k=" + std::to_string(*req.top_k);
  if (req.reasoning && req.reasoning->budget_tokens)
    out += "\nbudget_tokens=" + std::to_string(req.reasoning->budget_tokens);
  return out;
}

std::string request_key(std::string_view scope, std::string_view resolved_model,
                        const Request& req) {
  std::string text(scope);
  text += '\n';
  text += canonical_request(resolved_model, req);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 15];
  }
  return hex;
}

}  // namespace gatehouse::ai::cache
