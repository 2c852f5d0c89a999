#include "net/http2/bridge.hpp"

#include <algorithm>
#include <cstdio>

#include "common/strings.hpp"

namespace gatehouse::net::http2 {

BodyFraming framing_for(const Request& r) {
  if (!r.protocol.empty()) return BodyFraming::kTunnel;
  if (r.end_stream) return BodyFraming::kNone;
  return r.has_content_length ? BodyFraming::kLength : BodyFraming::kChunked;
}

std::string request_head_to_http1(const Request& r, std::string_view ws_key) {
  std::string out;
  out.reserve(256);
  const bool tunnel = !r.protocol.empty();
  out += tunnel ? std::string_view("GET") : std::string_view(r.method);
  out += ' ';
  out += r.path;
  out += " HTTP/1.1\r\n";
  // A missing :authority and Host leaves Host out: the HTTP/1.1 parser then
  // answers 400 with its own precise error.
  if (!r.authority.empty()) {
    out += "Host: ";
    out += r.authority;
    out += "\r\n";
  }
  for (const auto& h : r.headers) {
    if (tunnel && (h.name == "sec-websocket-key" || h.name == "sec-websocket-version")) continue;
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  // Tells the pipeline the client takes response trailers (RFC 9110 10.1.4);
  // it is hop-by-hop, so it stops there.
  if (r.te_trailers) out += "TE: trailers\r\n";
  switch (framing_for(r)) {
    case BodyFraming::kTunnel:
      out += "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
      out += "Sec-WebSocket-Key: ";
      out += ws_key;
      out += "\r\n";
      break;
    case BodyFraming::kNone:
      // A POST without a body still says so, as HTTP/1.1 clients do.
      if (r.has_content_length) out += "Content-Length: 0\r\n";
      break;
    case BodyFraming::kLength:
      out += "Content-Length: ";
      out += std::to_string(r.content_length);
      out += "\r\n";
      break;
    case BodyFraming::kChunked:
      out += "Transfer-Encoding: chunked\r\n";
      break;
  }
  out += "\r\n";
  return out;
}

void append_body(std::string& out, BodyFraming f, std::string_view data) {
  if (data.empty() || f == BodyFraming::kNone) return;
  if (f == BodyFraming::kChunked) {
    char line[24];
    int n = std::snprintf(line, sizeof line, "%zx\r\n", data.size());
    out.append(line, static_cast<size_t>(n));
    out += data;
    out += "\r\n";
    return;
  }
  out += data;
}

void append_body_end(std::string& out, BodyFraming f, const std::vector<Field>& trailers) {
  if (f != BodyFraming::kChunked) return;
  out += "0\r\n";
  for (const auto& t : trailers) {
    out += t.name;
    out += ": ";
    out += t.value;
    out += "\r\n";
  }
  out += "\r\n";
}

ResponseReader::ResponseReader(std::string_view request_method, bool tunnel)
    : method_(tunnel ? std::string_view("GET") : request_method), tunnel_(tunnel) {
  chunked_.keep_trailers();
}

std::vector<Field> ResponseReader::trailers() const {
  std::vector<Field> out;
  for (const auto& t : chunked_.trailers()) out.push_back({t.name, t.value});
  return out;
}

ResponseReader::Output ResponseReader::feed(std::string_view in) {
  Output o;
  while (o.consumed < in.size() || state_ == State::kHead) {
    std::string_view rest = in.substr(o.consumed);
    switch (state_) {
      case State::kHead: {
        if (rest.empty()) return o;
        http1::ResponseHead h;
        http1::ParseError err;
        http1::Limits limits;
        auto st = http1::parse_response_head(rest, limits, method_, h, err);
        if (st == http1::ParseStatus::kIncomplete) return o;
        if (st == http1::ParseStatus::kError) {
          state_ = State::kError;
          o.error = true;
          return o;
        }
        o.consumed += h.head_bytes;
        if (h.status == 101 && tunnel_) {
          // The upgrade took: from here on the bytes are the tunnel's.
          head_ = std::move(h);
          o.head_ready = true;
          state_ = State::kUntilClose;
          break;
        }
        if (h.status < 200) continue;  // interim responses are not relayed
        head_ = std::move(h);
        o.head_ready = true;
        switch (head_.body) {
          case http1::BodyKind::kNone:
            state_ = State::kDone;
            break;
          case http1::BodyKind::kContentLength:
            remaining_ = head_.content_length;
            state_ = remaining_ == 0 ? State::kDone : State::kLength;
            break;
          case http1::BodyKind::kChunked:
            state_ = State::kChunked;
            break;
          case http1::BodyKind::kUntilClose:
            state_ = State::kUntilClose;
            break;
        }
        if (state_ == State::kDone) {
          o.done = true;
          return o;
        }
        break;
      }
      case State::kLength: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        o.data.push_back(rest.substr(0, n));
        o.consumed += n;
        remaining_ -= n;
        if (remaining_ == 0) {
          state_ = State::kDone;
          o.done = true;
        }
        return o;
      }
      case State::kChunked: {
        auto c = chunked_.feed(rest);
        o.consumed += c.consumed;
        for (auto d : c.data) o.data.push_back(d);
        if (c.error) {
          state_ = State::kError;
          o.error = true;
        } else if (c.done) {
          state_ = State::kDone;
          o.done = true;
        }
        return o;
      }
      case State::kUntilClose:
        o.data.push_back(rest);
        o.consumed += rest.size();
        return o;
      case State::kDone:
      case State::kError:
        // Bytes past the end of the response: the pipeline never sends
        // those on a stream's own connection; treat them as an error.
        o.error = true;
        return o;
    }
  }
  return o;
}

bool ResponseReader::on_eof() {
  if (state_ == State::kUntilClose) state_ = State::kDone;
  return state_ == State::kDone;
}

std::vector<Field> ResponseReader::fields() const {
  std::vector<Field> out;
  out.reserve(head_.headers.size());
  for (const auto& h : head_.headers) {
    if (is_connection_specific(h.name) || iequals(h.name, "te")) continue;
    // The accept proves the handshake to the key we made up (checked by the
    // pipeline); an RFC 8441 client has no key to check it against.
    if (tunnel_open() && iequals(h.name, "sec-websocket-accept")) continue;
    // Content-Length stays: it is end-to-end and lets clients show progress.
    out.push_back({h.name, h.value});
  }
  return out;
}

}  // namespace gatehouse::net::http2
