#include "proxy/access_log.hpp"

#include <limits.h>
#include <cstdio>
#include <unistd.h>

#include "ai/usage/cost.hpp"
#include "common/log.hpp"

namespace gatehouse::proxy {

namespace {
void str_field(std::string& out, const char* key, std::string_view v) {
  out += ",\"";
  out += key;
  out += "\":\"";
  log::json_escape(out, v);
  out += '"';
}
void num_field(std::string& out, const char* key, long long v) {
  out += ",\"";
  out += key;
  out += "\":";
  out += std::to_string(v);
}
}  // namespace

void AccessLog::write(const AccessRecord& r) {
  if (fd_ < 0) return;
  buf_ += "{\"time\":\"";
  buf_ += log::now_rfc3339();
  buf_ += '"';
  str_field(buf_, "request_id", r.request_id);
  str_field(buf_, "client", r.client);
  if (!r.protocol.empty()) str_field(buf_, "protocol", r.protocol);
  str_field(buf_, "method", r.method);
  str_field(buf_, "host", r.host);
  str_field(buf_, "path", r.path);
  str_field(buf_, "route", r.route);
  str_field(buf_, "upstream", r.upstream);
  str_field(buf_, "upstream_target", r.upstream_target);
  if (!r.consumer.empty()) str_field(buf_, "consumer", r.consumer);
  num_field(buf_, "status", r.status);
  num_field(buf_, "bytes_in", static_cast<long long>(r.bytes_in));
  num_field(buf_, "bytes_out", static_cast<long long>(r.bytes_out));
  num_field(buf_, "upstream_connect_us", r.connect_us);
  num_field(buf_, "upstream_first_byte_us", r.first_byte_us);
  num_field(buf_, "duration_us", r.total_us);
  num_field(buf_, "retries", r.retries);
  if (r.grpc_status >= 0) num_field(buf_, "grpc_status", r.grpc_status);
  if (!r.error.empty()) str_field(buf_, "error", r.error);
  if (!r.mock.empty()) str_field(buf_, "mock", r.mock);
  if (!r.validation.empty()) str_field(buf_, "validation", r.validation);
  str_field(buf_, "scheme", r.tls_version.empty() ? std::string_view("http") : "https");
  if (!r.tls_version.empty()) {
    str_field(buf_, "tls_version", r.tls_version);
    str_field(buf_, "tls_cipher", r.tls_cipher);
    if (!r.sni.empty()) str_field(buf_, "sni", r.sni);
    if (!r.client_subject.empty()) str_field(buf_, "client_subject", r.client_subject);
  }
  if (const AccessLlm* l = r.llm) {
    buf_ += ",\"llm\":{\"stream\":";
    buf_ += l->stream ? "true" : "false";
    str_field(buf_, "model", l->model);
    str_field(buf_, "served_model", l->served_model);
    str_field(buf_, "provider", l->provider);
    str_field(buf_, "provider_model", l->provider_model);
    num_field(buf_, "attempts", l->attempts);
    num_field(buf_, "cooldowns", l->cooldowns);
    num_field(buf_, "cooling_skips", l->cooling_skips);
    num_field(buf_, "ttft_us", l->ttft_us);
    if (!l->guardrails.empty()) str_field(buf_, "guardrails", l->guardrails);
    if (!l->cache.empty()) str_field(buf_, "cache", l->cache);
    if (!l->semantic.empty()) str_field(buf_, "semantic_cache", l->semantic);
    if (l->similarity >= -1.0 + 1e-9) {
      char sim[32];
      std::snprintf(sim, sizeof sim, ",\"similarity\":%.4f", l->similarity);
      buf_ += sim;
    }
    buf_ += ",\"usage_known\":";
    buf_ += l->usage_known ? "true" : "false";
    buf_ += ",\"partial\":";
    buf_ += l->partial ? "true" : "false";
    num_field(buf_, "input_tokens", l->input_tokens);
    num_field(buf_, "cache_read_tokens", l->cache_read_tokens);
    num_field(buf_, "cache_write_tokens", l->cache_write_tokens);
    num_field(buf_, "output_tokens", l->output_tokens);
    num_field(buf_, "reasoning_tokens", l->reasoning_tokens);
    if (l->cost >= 0) {
      buf_ += ",\"cost\":";
      buf_ += ai::usage::format_cost(l->cost);
    }
    buf_ += '}';
  }
  if (const AccessMcp* m = r.mcp) {
    buf_ += ",\"mcp\":{\"method\":\"";
    log::json_escape(buf_, m->method);
    buf_ += '"';
    if (!m->server.empty()) str_field(buf_, "server", m->server);
    if (!m->name.empty()) str_field(buf_, "name", m->name);
    num_field(buf_, "rpc_error", m->rpc_error);
    buf_ += ",\"tool_error\":";
    buf_ += m->tool_error ? "true" : "false";
    num_field(buf_, "upstream_us", m->upstream_us);
    if (!m->limited.empty()) str_field(buf_, "limited", m->limited);
    // Arguments are raw JSON the upstream accepted; they are only logged
    // when the route's log_arguments asks for it.
    if (!m->arguments.empty()) {
      buf_ += ",\"arguments\":";
      buf_ += m->arguments;
    }
    buf_ += '}';
  }
  buf_ += "}\n";
  if (buf_.size() >= 32 * 1024) flush();
}

void AccessLog::flush() {
  if (fd_ < 0 || buf_.empty()) return;
  size_t pos = 0;
  while (pos < buf_.size()) {
    // Largest run of whole lines that fits in PIPE_BUF (or one long line).
    size_t end = pos;
    for (;;) {
      size_t nl = buf_.find('\n', end);
      if (nl == std::string::npos) { end = buf_.size(); break; }
      if (nl + 1 - pos > PIPE_BUF && end > pos) break;
      end = nl + 1;
      if (end - pos >= PIPE_BUF) break;
    }
    const char* p = buf_.data() + pos;
    size_t left = end - pos;
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n <= 0) { left = 0; break; }  // a full disk must not stall the proxy
      p += n;
      left -= static_cast<size_t>(n);
    }
    pos = end;
  }
  buf_.clear();
  if (buf_.capacity() > 256 * 1024) buf_.shrink_to_fit();
}

}  // namespace gatehouse::proxy
