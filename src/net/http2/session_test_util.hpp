// Test helpers for the HTTP/2 server session: an in-process nghttp2 client
// and a raw frame writer/reader, so tests run without a network.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "net/http2/server_session.hpp"

namespace gatehouse::net::http2::testing {

struct RawFrame {
  uint8_t type = 0;
  uint8_t flags = 0;
  int32_t stream = 0;
  std::string payload;
  uint32_t error_code() const {  // RST_STREAM and GOAWAY
    size_t off = type == NGHTTP2_GOAWAY ? 4 : 0;
    if (payload.size() < off + 4) return 0;
    auto b = [&](size_t i) {
      return static_cast<uint32_t>(static_cast<uint8_t>(payload[off + i]));
    };
    return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
  }
};

inline std::string frame(uint8_t type, uint8_t flags, int32_t stream, std::string_view payload) {
  std::string f;
  size_t n = payload.size();
  f += static_cast<char>((n >> 16) & 0xff);
  f += static_cast<char>((n >> 8) & 0xff);
  f += static_cast<char>(n & 0xff);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  f += static_cast<char>((stream >> 24) & 0x7f);
  f += static_cast<char>((stream >> 16) & 0xff);
  f += static_cast<char>((stream >> 8) & 0xff);
  f += static_cast<char>(stream & 0xff);
  f += payload;
  return f;
}

inline std::vector<RawFrame> parse_frames(std::string_view in) {
  std::vector<RawFrame> out;
  while (in.size() >= 9) {
    auto u = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(in[i])); };
    size_t len = u(0) << 16 | u(1) << 8 | u(2);
    if (in.size() < 9 + len) break;
    RawFrame f;
    f.type = static_cast<uint8_t>(in[3]);
    f.flags = static_cast<uint8_t>(in[4]);
    f.stream = static_cast<int32_t>((u(5) & 0x7f) << 24 | u(6) << 16 | u(7) << 8 | u(8));
    f.payload = std::string(in.substr(9, len));
    out.push_back(std::move(f));
    in.remove_prefix(9 + len);
  }
  return out;
}

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// HPACK for a simple GET / with :authority "a" (static table entries and one
// literal): what a minimal raw client sends.
inline std::string hpack_get() {
  return std::string(
      "\x82\x86\x84\x41\x01"
      "a",
      6);
}
// One literal field without indexing (new name), for padding header blocks.
inline std::string hpack_literal(std::string_view name, std::string_view value) {
  std::string s;
  s += '\0';
  s += static_cast<char>(name.size());
  s += name;
  s += static_cast<char>(value.size());
  s += value;
  return s;
}

// An nghttp2 client session wired to a ServerSession by pumping bytes.
class Client {
 public:
  struct Response {
    std::map<std::string, std::string> headers;
    std::map<std::string, std::string> trailers;
    std::string body;
    bool closed = false;
    uint32_t close_code = 0;
    bool got_headers = false;
  };

  Client() {
    nghttp2_session_callbacks* cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(
        cbs,
        [](nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl, const uint8_t* v,
           size_t vl, uint8_t, void* u) -> int {
          auto& r = static_cast<Client*>(u)->responses[f->hd.stream_id];
          std::string name(reinterpret_cast<const char*>(n), nl);
          std::string value(reinterpret_cast<const char*>(v), vl);
          if (r.got_headers && f->headers.cat == NGHTTP2_HCAT_HEADERS)
            r.trailers[name] = value;
          else
            r.headers[name] = value;
          return 0;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, void* u) -> int {
          auto* c = static_cast<Client*>(u);
          if (f->hd.type == NGHTTP2_HEADERS) c->responses[f->hd.stream_id].got_headers = true;
          if (f->hd.type == NGHTTP2_GOAWAY)
            c->goaway_code = static_cast<int64_t>(f->goaway.error_code);
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cbs, [](nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t n, void* u) -> int {
          static_cast<Client*>(u)->responses[id].body.append(reinterpret_cast<const char*>(d), n);
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cbs, [](nghttp2_session*, int32_t id, uint32_t code, void* u) -> int {
          auto& r = static_cast<Client*>(u)->responses[id];
          r.closed = true;
          r.close_code = code;
          return 0;
        });
    nghttp2_session_client_new(&session, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Client() { nghttp2_session_del(session); }

  int32_t request(std::vector<std::pair<std::string, std::string>> headers,
                  const std::string* body = nullptr,
                  std::vector<std::pair<std::string, std::string>> trailers = {}) {
    std::vector<nghttp2_nv> nva;
    for (auto& [n, v] : headers)
      nva.push_back({reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()),
                     n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
    if (!body)
      return nghttp2_submit_request(session, nullptr, nva.data(), nva.size(), nullptr, nullptr);
    body_ = *body;
    body_off_ = 0;
    trailers_ = std::move(trailers);
    nghttp2_data_provider prd;
    prd.source.ptr = this;
    prd.read_callback = [](nghttp2_session* sess, int32_t id, uint8_t* buf, size_t len,
                           uint32_t* flags, nghttp2_data_source* src, void*) -> ssize_t {
      auto* c = static_cast<Client*>(src->ptr);
      size_t n = std::min(len, c->body_.size() - c->body_off_);
      std::copy_n(c->body_.data() + c->body_off_, n, buf);
      c->body_off_ += n;
      if (c->body_off_ == c->body_.size()) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (!c->trailers_.empty()) {
          std::vector<nghttp2_nv> tv;
          for (auto& [tn, tval] : c->trailers_)
            tv.push_back({reinterpret_cast<uint8_t*>(tn.data()),
                          reinterpret_cast<uint8_t*>(tval.data()), tn.size(), tval.size(),
                          NGHTTP2_NV_FLAG_NONE});
          if (nghttp2_submit_trailer(sess, id, tv.data(), tv.size()) == 0)
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        }
      }
      return static_cast<ssize_t>(n);
    };
    return nghttp2_submit_request(session, nullptr, nva.data(), nva.size(), &prd, this);
  }

  // Moves bytes both ways until neither side has anything to say. Returns
  // false when the server ended the connection.
  bool pump(ServerSession& server) {
    bool alive = true;
    for (int i = 0; i < 1000; ++i) {
      std::string to_server;
      const uint8_t* d;
      ssize_t n;
      while ((n = nghttp2_session_mem_send(session, &d)) > 0)
        to_server.append(reinterpret_cast<const char*>(d), static_cast<size_t>(n));
      if (!to_server.empty() && alive) alive = server.receive(to_server);
      std::string to_client;
      server.collect_output(to_client);
      if (!to_client.empty())
        nghttp2_session_mem_recv(session, reinterpret_cast<const uint8_t*>(to_client.data()),
                                 to_client.size());
      if (to_server.empty() && to_client.empty()) break;
    }
    return alive;
  }

  nghttp2_session* session = nullptr;
  std::map<int32_t, Response> responses;
  int64_t goaway_code = -1;

 private:
  std::string body_;
  size_t body_off_ = 0;
  std::vector<std::pair<std::string, std::string>> trailers_;
};

// Records what the server session hands its owner.
struct Recorder : Callbacks {
  std::vector<Request> requests;
  std::map<int32_t, std::string> bodies;
  std::map<int32_t, bool> ended;
  std::map<int32_t, uint32_t> closed;
  std::vector<int32_t> send_ready;
  void on_request(Request& r) override { requests.push_back(r); }
  void on_request_data(int32_t id, std::string_view d) override { bodies[id].append(d); }
  std::map<int32_t, std::vector<Field>> trailers;
  void on_request_end(int32_t id) override { ended[id] = true; }
  void on_request_trailers(int32_t id, std::vector<Field>& t) override { trailers[id] = t; }
  void on_stream_close(int32_t id, uint32_t code) override { closed[id] = code; }
  void on_send_ready(int32_t id) override { send_ready.push_back(id); }
};

}  // namespace gatehouse::net::http2::testing
