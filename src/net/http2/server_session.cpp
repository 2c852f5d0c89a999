#include "net/http2/server_session.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/clock.hpp"
#include "common/strings.hpp"
#include "net/http1/parser.hpp"
#include "net/http1/status.hpp"

namespace gatehouse::net::http2 {

struct ServerSession::Stream {
  int32_t id = 0;
  Request req;
  size_t header_bytes = 0;
  bool too_large = false;
  bool rejected = false;   // RST_STREAM sent by us; nothing more for it
  bool delivered = false;  // the owner was told about it
  bool request_ended = false;
  bool seen_host = false;
  std::string host;
  bool seen_cookie = false;
  std::string cookie;
  // Response side.
  bool responded = false;
  std::string out;
  size_t out_off = 0;
  bool out_end = false;
  bool deferred = false;
  bool above_low_water = false;
  std::vector<Field> trailers;
  std::vector<Field> req_trailers;

  size_t queued() const { return out.size() - out_off; }
};

bool is_connection_specific(std::string_view name) {
  return iequals(name, "connection") || iequals(name, "keep-alive") ||
         iequals(name, "proxy-connection") || iequals(name, "transfer-encoding") ||
         iequals(name, "upgrade");
}

namespace {

constexpr size_t kMaxPending = 64 * 1024;

bool valid_value(std::string_view v) {
  for (char c : v)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

bool valid_name(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n) {
    auto u = static_cast<unsigned char>(c);
    if (!http1::is_tchar(u) || (c >= 'A' && c <= 'Z')) return false;
  }
  return true;
}

bool valid_path(std::string_view p) {
  if (p.empty()) return false;
  for (char c : p) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

nghttp2_nv nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

// nghttp2's C callbacks, with access to the session's private parts.
struct Glue {
  static ServerSession& self(void* p) { return *static_cast<ServerSession*>(p); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* f, void* u) {
    auto& s = self(u);
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    if (s.stats_.flood_detected) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    auto st = std::make_unique<ServerSession::Stream>();
    st->id = f->hd.stream_id;
    st->req.stream_id = st->id;
    s.streams_[st->id] = std::move(st);
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* f, const uint8_t* name_p,
                       size_t name_len, const uint8_t* value_p, size_t value_len, uint8_t,
                       void* u) {
    auto& s = self(u);
    ServerSession::Stream* st = s.find(f->hd.stream_id);
    if (!st || st->rejected) return 0;
    std::string_view name(reinterpret_cast<const char*>(name_p), name_len);
    std::string_view value(reinterpret_cast<const char*>(value_p), value_len);
    // RFC 9113 10.5.1: each field counts its name, value and 32 bytes.
    st->header_bytes += name_len + value_len + 32;
    if (st->header_bytes > s.settings_.max_header_list_size) st->too_large = true;
    if (st->too_large) return 0;  // keep decoding (HPACK state), store nothing
    if (f->headers.cat == NGHTTP2_HCAT_HEADERS) {
      // A trailer section: nghttp2 already refused pseudo-headers in it; fields
      // RFC 9110 6.5.1 forbids (and anything unsafe for HTTP/1.1) are dropped.
      if (valid_value(value) && valid_name(name) && !is_connection_specific(name) &&
          !http1::is_forbidden_trailer(name))
        st->req_trailers.push_back({std::string(name), std::string(value)});
      return 0;
    }
    if (f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    if (!valid_value(value)) {
      s.reject(*st, "invalid field value");
      return 0;
    }
    if (!name.empty() && name[0] == ':') {
      Request& r = st->req;
      if (name == ":method")
        r.method = value;
      else if (name == ":scheme")
        r.scheme = value;
      else if (name == ":authority")
        r.authority = value;
      else if (name == ":path")
        r.path = value;
      else if (name == ":protocol")  // nghttp2 allows it only on CONNECT, once we enabled it
        r.protocol = value;
      else
        s.reject(*st, "unknown pseudo-header");
      return 0;
    }
    if (!valid_name(name) || is_connection_specific(name)) {
      s.reject(*st, "connection-specific or invalid field name");
      return 0;
    }
    if (name == "te") {
      if (!iequals(value, "trailers")) s.reject(*st, "te other than trailers");
      st->req.te_trailers = true;  // the bridge says so to the pipeline
      return 0;
    }
    if (name == "host") {
      if (st->seen_host) {
        s.reject(*st, "duplicate host");
        return 0;
      }
      st->seen_host = true;
      st->host = value;
      return 0;
    }
    if (name == "content-length") {
      uint64_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size() || value.empty() ||
          (st->req.has_content_length && st->req.content_length != n)) {
        s.reject(*st, "invalid content-length");
        return 0;
      }
      st->req.has_content_length = true;
      st->req.content_length = n;
      return 0;  // the bridge frames the body itself
    }
    if (name == "cookie") {  // RFC 9113 8.2.3: crumbs are joined for HTTP/1.1
      if (st->seen_cookie) st->cookie += "; ";
      st->cookie += value;
      st->seen_cookie = true;
      return 0;
    }
    // 100-continue is not relayed: the body is paced by flow control instead.
    if (name == "expect") return 0;
    st->req.headers.push_back({std::string(name), std::string(value)});
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* f, void* u) {
    auto& s = self(u);
    switch (f->hd.type) {
      case NGHTTP2_RST_STREAM:
        ++s.stats_.client_resets;
        s.count_control_frame();
        if (++s.window_resets_ > s.settings_.max_resets_per_window) s.flood("rapid_reset");
        return 0;
      case NGHTTP2_PING:
      case NGHTTP2_SETTINGS:
      case NGHTTP2_PRIORITY:
        s.count_control_frame();
        return 0;
      case NGHTTP2_DATA: {
        if (f->hd.length == 0 && !(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) s.count_control_frame();
        break;
      }
      case NGHTTP2_HEADERS:
        break;
      default:
        return 0;
    }
    ServerSession::Stream* st = s.find(f->hd.stream_id);
    if (!st) return 0;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
      s.finish_head(*st, (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0);
      return 0;
    }
    if ((f->hd.flags & NGHTTP2_FLAG_END_STREAM) && st->delivered && !st->request_ended) {
      st->request_ended = true;
      // A trailer block past the header-list limit is dropped whole.
      if (f->hd.type == NGHTTP2_HEADERS && !st->too_large && !st->req_trailers.empty())
        s.cb_.on_request_trailers(st->id, st->req_trailers);
      st->req_trailers.clear();
      s.cb_.on_request_end(st->id);
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session* sess, uint8_t, int32_t id, const uint8_t* data,
                           size_t len, void* u) {
    auto& s = self(u);
    ServerSession::Stream* st = s.find(id);
    if (!st || !st->delivered || st->rejected || st->request_ended) {
      // Nobody will read these bytes: give the window back at once.
      nghttp2_session_consume(sess, id, len);
      return 0;
    }
    s.cb_.on_request_data(id, std::string_view(reinterpret_cast<const char*>(data), len));
    return 0;
  }

  static int on_stream_close(nghttp2_session*, int32_t id, uint32_t code, void* u) {
    auto& s = self(u);
    auto it = s.streams_.find(id);
    if (it == s.streams_.end()) return 0;
    bool delivered = it->second->delivered;
    s.streams_.erase(it);
    if (delivered) s.cb_.on_stream_close(id, code);
    return 0;
  }

  static int on_frame_send(nghttp2_session*, const nghttp2_frame* f, void* u) {
    if (f->hd.type == NGHTTP2_GOAWAY) self(u).stats_.goaway_sent = f->goaway.error_code;
    return 0;
  }

  static ssize_t read_body(nghttp2_session* sess, int32_t id, uint8_t* buf, size_t length,
                           uint32_t* flags, nghttp2_data_source*, void* u) {
    auto& s = self(u);
    ServerSession::Stream* st = s.find(id);
    if (!st) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    size_t n = std::min(length, st->queued());
    if (n > 0) {
      std::memcpy(buf, st->out.data() + st->out_off, n);
      st->out_off += n;
      if (st->out_off == st->out.size()) {
        st->out.clear();
        st->out_off = 0;
      }
    }
    if (st->above_low_water && st->queued() < s.settings_.stream_send_low_water) {
      st->above_low_water = false;
      s.cb_.on_send_ready(id);
    }
    if (st->queued() == 0) {
      if (!st->out_end) {
        if (n > 0) return static_cast<ssize_t>(n);
        st->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
      }
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!st->trailers.empty()) {
        std::vector<nghttp2_nv> nva;
        for (const auto& t : st->trailers) nva.push_back(nv(t.name, t.value));
        if (nghttp2_submit_trailer(sess, id, nva.data(), nva.size()) == 0)
          *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    }
    return static_cast<ssize_t>(n);
  }
};

ServerSession::ServerSession(const Settings& s, Callbacks& cb) : settings_(s), cb_(cb) {
  nghttp2_session_callbacks* cbs = nullptr;
  if (nghttp2_session_callbacks_new(&cbs) != 0) return;
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &Glue::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &Glue::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Glue::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Glue::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Glue::on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &Glue::on_frame_send);
  nghttp2_option* opt = nullptr;
  if (nghttp2_option_new(&opt) != 0) {
    nghttp2_session_callbacks_del(cbs);
    return;
  }
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_continuations(opt, settings_.max_continuations);
  nghttp2_option_set_max_settings(opt, settings_.max_settings_entries);
  nghttp2_option_set_max_outbound_ack(opt, settings_.max_outbound_ack);
  // Our own reset counter is stricter and reports; nghttp2's token bucket
  // stays as a backstop.
  int rv = nghttp2_session_server_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0) {
    session_ = nullptr;
    return;
  }
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings_.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings_.max_header_list_size},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
  };
  size_t n_iv = sizeof iv / sizeof iv[0] - (settings_.enable_connect_protocol ? 0 : 1);
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, n_iv);
  if (settings_.connection_window_size > 65'535)
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                          static_cast<int32_t>(settings_.connection_window_size));
  window_start_ms_ = steady_ms();
}

ServerSession::~ServerSession() {
  if (session_) nghttp2_session_del(session_);
}

ServerSession::Stream* ServerSession::find(int32_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

bool ServerSession::receive(std::string_view bytes) {
  if (!session_) return false;
  ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                        bytes.size());
  if (rv < 0) {
    // Protocol errors have queued a GOAWAY already; make sure there is one.
    if (rv != NGHTTP2_ERR_FLOODED)
      nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
    return false;
  }
  // A connection error nghttp2 handled itself (e.g. too many SETTINGS
  // entries) only shows once its GOAWAY is serialised: do that now (the
  // bytes wait in pending_ for collect_output). A client that sends but
  // never reads stops this at kMaxPending; past it, frames stay inside
  // nghttp2, whose max_outbound_ack cap then ends the connection.
  if (pending_.size() < kMaxPending && !drain(pending_)) return false;
  return !stats_.flood_detected && nghttp2_session_want_read(session_);
}

bool ServerSession::collect_output(std::string& out) {
  if (!session_) return false;
  if (!pending_.empty()) {
    out += pending_;
    pending_.clear();
  }
  return drain(out);
}

bool ServerSession::drain(std::string& out) {
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
}

bool ServerSession::want_read() const {
  return session_ && nghttp2_session_want_read(session_);
}
bool ServerSession::want_write() const {
  return session_ && nghttp2_session_want_write(session_);
}

void ServerSession::count_control_frame() {
  int64_t now = steady_ms();
  if (now - window_start_ms_ >= settings_.flood_window_ms) {
    window_start_ms_ = now;
    window_resets_ = 0;
    window_control_ = 0;
  }
  if (++window_control_ > settings_.max_control_frames_per_window) flood("control_frames");
}

void ServerSession::flood(const char*) {
  if (stats_.flood_detected) return;
  stats_.flood_detected = true;
  nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
}

void ServerSession::reject(Stream& s, const char*) {
  if (s.rejected) return;
  s.rejected = true;
  ++stats_.rejected_malformed;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_PROTOCOL_ERROR);
}

void ServerSession::respond_error(Stream& s, int status, std::string_view code,
                                  std::string_view detail) {
  // The same problem+json shape the HTTP/1.1 pipeline answers with; the
  // stream has no request id yet (the proxy assigns it after the head).
  std::string body = http1::problem_json(status, code, detail, {});
  submit_response(s.id, status,
                  {{"content-type", "application/problem+json"},
                   {"content-length", std::to_string(body.size())}},
                  false);
  send_data(s.id, body);
  end_response(s.id);
}

void ServerSession::finish_head(Stream& s, bool end_stream) {
  if (s.rejected) return;
  if (s.too_large) {
    ++stats_.refused_too_large;
    respond_error(
        s, 431, "headers_too_large",
        "header list exceeds " + std::to_string(settings_.max_header_list_size) + " bytes");
    return;
  }
  Request& r = s.req;
  if (r.method.empty() || !valid_name(lower(r.method))) {
    reject(s, "bad method");
    return;
  }
  if (r.method == "CONNECT") {
    // Plain CONNECT (a TCP tunnel) is not offered; extended CONNECT only for
    // WebSocket (RFC 8441). Other protocols get 501 as RFC 9110 15.6.2 has it
    // for a method feature the server does not implement.
    if (r.protocol.empty()) {
      respond_error(s, 501, "connect_unsupported", "CONNECT is not supported over HTTP/2");
      return;
    }
    if (r.protocol != "websocket") {
      respond_error(s, 501, "protocol_unsupported",
                    "extended CONNECT supports :protocol websocket only");
      return;
    }
    if (end_stream) {  // a tunnel that is closed before it opens
      reject(s, "extended CONNECT with END_STREAM");
      return;
    }
  } else if (!r.protocol.empty()) {
    reject(s, ":protocol outside CONNECT");
    return;
  }
  if (!valid_path(r.path)) {
    reject(s, "bad path");
    return;
  }
  // :authority wins; a Host naming something else is malformed (RFC 9113 8.3.1).
  if (r.authority.empty()) {
    r.authority = s.host;
  } else if (s.seen_host && !iequals(s.host, r.authority)) {
    reject(s, "host differs from :authority");
    return;
  }
  for (char c : r.authority) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '/' || c == '?' || c == '#' || c == '@') {
      reject(s, "bad authority");
      return;
    }
  }
  if (s.seen_cookie) r.headers.push_back({"cookie", std::move(s.cookie)});
  if (end_stream && r.has_content_length && r.content_length != 0) {
    reject(s, "content-length without body");
    return;
  }
  r.end_stream = end_stream;
  s.delivered = true;
  s.request_ended = end_stream;
  ++stats_.requests;
  cb_.on_request(r);
}

void ServerSession::submit_response(int32_t id, int status, const std::vector<Field>& headers,
                                    bool end_stream) {
  Stream* s = find(id);
  if (!s || s->responded || s->rejected) return;
  s->responded = true;
  std::string status_str = std::to_string(status);
  // HTTP/2 field names are lower-case; HTTP/1.1 ones arrive in any case.
  std::vector<std::string> names;
  names.reserve(headers.size());
  std::vector<nghttp2_nv> nva;
  nva.reserve(headers.size() + 1);
  nva.push_back(nv(":status", status_str));
  for (const auto& h : headers) {
    if (is_connection_specific(h.name) || iequals(h.name, "te") || h.name.empty() ||
        h.name[0] == ':' || !valid_value(h.value))
      continue;
    names.push_back(lower(h.name));
  }
  size_t k = 0;
  for (const auto& h : headers) {
    if (is_connection_specific(h.name) || iequals(h.name, "te") || h.name.empty() ||
        h.name[0] == ':' || !valid_value(h.value))
      continue;
    nva.push_back(nv(names[k++], h.value));
  }
  if (end_stream) {
    s->out_end = true;
    nghttp2_submit_response(session_, id, nva.data(), nva.size(), nullptr);
    return;
  }
  nghttp2_data_provider prd;
  prd.source.ptr = nullptr;
  prd.read_callback = &Glue::read_body;
  nghttp2_submit_response(session_, id, nva.data(), nva.size(), &prd);
}

void ServerSession::send_data(int32_t id, std::string_view data) {
  Stream* s = find(id);
  if (!s || s->out_end || data.empty()) return;
  s->out.append(data);
  if (s->queued() >= settings_.stream_send_low_water) s->above_low_water = true;
  if (s->deferred) {
    s->deferred = false;
    nghttp2_session_resume_data(session_, id);
  }
}

void ServerSession::end_response(int32_t id, std::vector<Field> trailers) {
  Stream* s = find(id);
  if (!s || s->out_end) return;
  s->out_end = true;
  for (auto& t : trailers) {
    if (is_connection_specific(t.name) || t.name.empty() || t.name[0] == ':' ||
        !valid_value(t.value))
      continue;
    t.name = lower(t.name);
    s->trailers.push_back(std::move(t));
  }
  if (s->deferred) {
    s->deferred = false;
    nghttp2_session_resume_data(session_, id);
  }
}

size_t ServerSession::queued(int32_t id) const {
  Stream* s = find(id);
  return s ? s->queued() : 0;
}

void ServerSession::reset_stream(int32_t id, uint32_t error_code) {
  Stream* s = find(id);
  if (!s) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, error_code);
}

void ServerSession::consume(int32_t id, size_t n) {
  if (session_ && n > 0) nghttp2_session_consume(session_, id, n);
}

void ServerSession::shutdown() {
  if (!session_) return;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

void ServerSession::terminate(uint32_t error_code) {
  if (session_) nghttp2_session_terminate_session(session_, error_code);
}

}  // namespace gatehouse::net::http2
