// HTTP/JSON to gRPC on routes with grpc_transcode: (docs/grpc.md#httpjson-
// transcoding): the request becomes one gRPC message for the binding it
// matched, the gRPC answer becomes JSON. forward_h2.cpp's exchange does the
// upstream call (pick, retry, deadlines) exactly as for gRPC clients.
//
// Decisions: the request body is read whole (bounded by max_body) because a
// JSON document converts only whole, and then every call is replayable. A
// unary answer is held until its status arrives (the HTTP status depends on
// it); a server-streaming one is sent as each message comes, so its HTTP
// status is settled by the first message (or by the status when none came)
// and a later error becomes the stream's last element. Response metadata
// reaches the client as grpc-gateway sends it (grpc-metadata-<key>,
// grpc-trailer-<key>; transcode/metadata.hpp). google.api.HttpBody answers
// are their raw bytes, a stream of them the bytes one after another.
#include <boost/json.hpp>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/percent.hpp"
#include "common/strings.hpp"
#include "net/worker.hpp"
#include "proxy/exchange.hpp"
#include "proxy/forward_h2.hpp"
#include "proxy/forward_h2_call.hpp"
#include "proxy/grpc.hpp"
#include "proxy/h2_fields.hpp"
#include "proxy/http_util.hpp"
#include "proxy/session.hpp"
#include "proxy/snapshot.hpp"
#include "transcode/metadata.hpp"
#include "transcode/status.hpp"

namespace gatehouse::proxy {

namespace {

// A unary answer is held whole; past this the upstream is misbehaving.
constexpr size_t kMaxResponse = 64 * 1024 * 1024;
// A client-streaming HttpBody method gets the request body in messages of
// this size: well under gRPC servers' usual 4 MiB receive limit.
constexpr size_t kRawChunk = 1024 * 1024;
constexpr std::string_view kOctetStream = "application/octet-stream";

std::string problem_with_field(int status, std::string_view code, std::string_view detail,
                               std::string_view rid, std::string_view field) {
  std::string body = problem_json(status, code, detail, rid);
  if (field.empty()) return body;
  boost::system::error_code ec;
  auto v = parse_json(body, ec);
  if (ec || !v.is_object()) return body;
  v.as_object()["field"] = boost::json::string(field);
  return boost::json::serialize(v);
}

// Whole gRPC messages at the front of `buf` are moved to `out`; false when a
// frame is compressed (we never offer compression, so the peer broke the
// contract) or larger than `max`.
bool take_frames(std::string& buf, std::vector<std::string>& out, size_t max, std::string& why) {
  size_t at = 0;
  while (buf.size() - at >= 5) {
    auto b = [&](size_t i) { return static_cast<uint8_t>(buf[at + i]); };
    if (b(0) != 0) {
      why = b(0) == 1 ? "upstream sent a compressed message" : "upstream sent a malformed frame";
      return false;
    }
    size_t len = (size_t{b(1)} << 24) | (size_t{b(2)} << 16) | (size_t{b(3)} << 8) | b(4);
    if (len > max) {
      why = "upstream message larger than " + std::to_string(max) + " bytes";
      return false;
    }
    if (buf.size() - at - 5 < len) break;
    out.emplace_back(buf.substr(at + 5, len));
    at += 5 + len;
  }
  buf.erase(0, at);
  return true;
}

std::string field_value(const std::vector<H2Field>& a, const std::vector<H2Field>& b,
                        std::string_view name) {
  std::string v(find_field(a, name));
  if (v.empty()) v = std::string(find_field(b, name));
  return v;
}

}  // namespace

awaitable<bool> H2Forward::transcode_answer(Session& s, Exchange& ex, int status,
                                            std::string_view content_type, std::string body,
                                            bool close, std::vector<http1::Header> extra,
                                            std::vector<http1::Header> trailers) {
  const http1::RequestHead& head = *ex.head;
  const bool send_body = !ex.method_head;
  // Trailing metadata goes as trailers only to a client that said it takes
  // them (TE: trailers, grpc-gateway's rule); any other gets them as header
  // fields, which it can read: the status is known before the head goes.
  const bool chunked =
      !trailers.empty() && send_body && head.version_minor >= 1 && accepts_trailers(head);
  http1::ResponseHead resp;
  resp.status = status;
  resp.reason = reason_phrase(status);
  resp.headers.push_back({"content-type", std::string(content_type)});
  for (auto& h : extra) resp.headers.push_back(std::move(h));
  if (chunked) {
    resp.body = http1::BodyKind::kChunked;
  } else {
    for (auto& h : trailers) resp.headers.push_back(std::move(h));
    resp.headers.push_back({"content-length", std::to_string(body.size())});
    resp.body = http1::BodyKind::kContentLength;
    resp.content_length = body.size();
  }
  for_each_policy_run(ex, true, [&](const policy::Policy& p) {
    p.on_response(ex.pctx, resp.status, resp.headers);
  });
  for (auto& h : ex.pctx.response_headers) resp.headers.push_back(std::move(h));
  ex.pctx.response_headers.clear();
  close = close || !head.keep_alive || s.worker_.draining();
  std::string out =
      build_downstream_head(resp, head.version_minor, chunked ? 1 : 0, close, ex.request_id, true);
  const size_t body_size = body.size();
  if (chunked) {
    // Announced (build_downstream_head drops a Trailer field as hop-by-hop).
    std::string names;
    for (const auto& t : trailers) names += (names.empty() ? "" : ", ") + t.name;
    out.insert(out.size() - 2, "Trailer: " + names + "\r\n");
    std::string framed;
    if (!body.empty()) framed = chunk_line(body.size()) + body + "\r\n";
    framed += last_chunk(trailers);
    body = std::move(framed);
  }
  bool ok = co_await s.write_all(s.stream_, s.deadline_, out,
                                 send_body ? std::string_view(body) : std::string_view{}, 30'000);
  s.deadline_.disarm();
  ex.status = status;
  ex.bytes_out = send_body ? body_size : 0;
  if (close) s.closing_ = true;
  co_return ok && !close;
}

awaitable<bool> H2Forward::transcode_unmatched(Session& s, Exchange& ex, Call& c) {
  const http1::RequestHead& head = *ex.head;
  const bool close = head.body != http1::BodyKind::kNone;
  const int status = c.tm.path_known ? 405 : 404;
  const std::string code =
      c.tm.path_known ? "transcode_method_not_allowed" : "transcode_no_binding";
  const std::string detail =
      c.tm.path_known ? head.method + " is not bound for " + ex.target.path
                      : "no gRPC method is bound to " + head.method + " " + ex.target.path;
  ex.error = code;
  co_return co_await transcode_answer(s, ex, status, "application/problem+json",
                                      problem_json(status, code, detail, ex.request_id), close);
}

awaitable<H2Forward::WebBody> H2Forward::transcode_request_body(Session& s, Exchange& ex, Call& c,
                                                                bool owned, std::string& body) {
  const uint64_t limit = c.tc->config().max_body;
  auto too_large = [&](bool close) -> awaitable<bool> {
    ex.error = "body_too_large";
    co_return co_await transcode_answer(
        s, ex, 413, "application/problem+json",
        problem_json(
            413, "body_too_large",
            "request body exceeds " + std::to_string(limit) + " bytes (grpc_transcode.max_body)",
            ex.request_id),
        close);
  };
  WebBody r = co_await read_converted_body(s, ex, owned, limit, body, too_large);
  if (r.answered) co_return r;
  const std::string& query = ex.pctx.query_overridden ? ex.pctx.query_override : ex.target.query;
  const std::string* ctype = ex.head->find("content-type");
  const bool raw = c.tm.binding->raw_request;
  // A client-streaming method takes a JSON array as its messages, in order;
  // an HttpBody one takes the bytes in pieces of kRawChunk.
  std::vector<std::string> docs;
  if (raw && c.tm.method->client_streaming) {
    for (size_t at = 0; at < body.size(); at += kRawChunk)
      docs.push_back(body.substr(at, kRawChunk));
    if (docs.empty()) docs.emplace_back();
  } else if (c.tm.method->client_streaming && c.tm.binding->body == "*") {
    boost::system::error_code ec;
    auto v = parse_json(body, ec);
    if (!ec && v.is_array())
      for (const auto& e : v.as_array()) docs.push_back(boost::json::serialize(e));
    else
      docs.push_back(body);
  } else {
    docs.push_back(body);
  }
  std::string framed;
  for (const auto& d : docs) {
    std::string msg;
    transcode::Problem why;
    if (!c.tc->request(c.tm, query, d, msg, why, ctype ? std::string_view(*ctype) : "")) {
      r.answered = true;
      ex.error = why.code;
      r.keep = co_await transcode_answer(
          s, ex, why.status, "application/problem+json",
          problem_with_field(why.status, why.code, why.message, ex.request_id, why.field), false);
      co_return r;
    }
    const uint32_t n = static_cast<uint32_t>(msg.size());
    framed += '\0';
    framed += static_cast<char>(n >> 24);
    framed += static_cast<char>(n >> 16);
    framed += static_cast<char>(n >> 8);
    framed += static_cast<char>(n);
    framed += msg;
  }
  body = std::move(framed);
  co_return r;
}

void H2Forward::transcode_fields(std::vector<H2Field>& fields) {
  // The upstream sees a gRPC call: its content type, no content negotiation
  // meant for the JSON answer.
  std::erase_if(fields, [](const H2Field& f) {
    return f.name == "content-type" || f.name == "accept" || f.name == "accept-encoding" ||
           f.name == "grpc-accept-encoding" || f.name == "grpc-encoding";
  });
  fields.push_back({"content-type", "application/grpc"});
}

awaitable<bool> H2Forward::transcode_respond(Session& s, Exchange& ex, Call& c) {
  const http1::RequestHead& head = *ex.head;
  H2Stream& st = *c.st;
  H2ClientConn& conn = *c.conn;
  const config::TimeoutsConfig& to = *c.to;
  const transcode::Transcoder& tc = *c.tc;
  const bool streaming = c.tm.method->server_streaming;
  const bool ndjson = tc.config().ndjson;
  const bool raw = c.tm.binding->raw_response;

  // Not a gRPC answer at all (a proxy's error page, a non-gRPC server).
  std::string uct(find_field(st.headers, "content-type"));
  if (st.status != 200 || !grpc::is_grpc(uct)) {
    ex.error = "upstream_not_grpc";
    co_return co_await transcode_answer(
        s, ex, 502, "application/problem+json",
        problem_json(502, "upstream_not_grpc",
                     "upstream answered HTTP " + std::to_string(st.status) +
                         (uct.empty() ? "" : " " + uct) + ", not gRPC",
                     ex.request_id),
        false);
  }

  const int64_t idle = to.idle_ms > 0 ? to.idle_ms : 60'000;
  const int64_t stream_idle = to.stream_idle_ms > 0 ? to.stream_idle_ms : idle;
  int64_t stream_end = to.stream_total_ms > 0 ? steady_ms() + to.stream_total_ms : 0;
  if (c.grpc_deadline_ms && (!stream_end || c.grpc_deadline_ms < stream_end))
    stream_end = c.grpc_deadline_ms;

  std::string buf;
  std::vector<std::string> msgs;
  std::string bad;  // a framing or conversion failure: the answer is a 502
  bool up_failed = false, timed_out = false, head_sent = false, ok_down = true;
  const bool client11 = head.version_minor >= 1;
  const int framing = client11 ? 1 : 2;
  const bool close_down = !head.keep_alive || s.worker_.draining() || framing == 2;
  size_t sent = 0;  // messages written (streaming)
  net::Deadline wdl;
  // A raw stream's type is its first HttpBody's (Envoy's rule: one response
  // has one Content-Type).
  std::string stream_type(raw      ? kOctetStream
                          : ndjson ? "application/x-ndjson"
                                   : "application/json");

  // Streaming: the head goes with the first message; each message after.
  auto write_piece = [&](std::string piece, bool with_head) -> awaitable<bool> {
    std::string out;
    if (with_head) {
      http1::ResponseHead resp;
      resp.status = 200;
      resp.reason = reason_phrase(200);
      resp.headers.push_back({"content-type", stream_type});
      transcode::metadata_headers(st.headers, false, resp.headers);
      resp.body = http1::BodyKind::kChunked;
      for_each_policy_run(ex, true, [&](const policy::Policy& p) {
        p.on_response(ex.pctx, resp.status, resp.headers);
      });
      for (auto& h : ex.pctx.response_headers) resp.headers.push_back(std::move(h));
      ex.pctx.response_headers.clear();
      out = build_downstream_head(resp, head.version_minor, framing, close_down, ex.request_id,
                                  false);
      ex.status = 200;
    }
    if (!piece.empty() && !ex.method_head) {
      if (framing == 1) out += chunk_line(piece.size());
      out += piece;
      if (framing == 1) out += "\r\n";
      ex.bytes_out += piece.size();
    }
    wdl.arm(s.worker_.deadlines(), &s.stream_.socket(), steady_ms() + idle);
    auto [wec, wn] = co_await asio::async_write(s.stream_, asio::buffer(out), use_nothrow);
    wdl.disarm();
    if (ex.first_byte_us < 0) ex.first_byte_us = steady_us() - ex.start_us;
    co_return !wec;
  };

  for (;;) {
    if (!st.rx.empty()) {
      std::string data;
      data.swap(st.rx);
      conn.consume(st, data.size());
      buf += data;
      if (!take_frames(buf, msgs, kMaxResponse, bad)) break;
      if (!streaming && msgs.size() > 1) {
        bad = "upstream sent more than one message for a unary call";
        break;
      }
      if (streaming) {
        for (auto& m : msgs) {
          std::string piece;
          transcode::Problem why;
          if (raw) {
            std::string type;
            if (!tc.raw_response(c.tm, m, type, piece, why)) {
              bad = why.message;
              break;
            }
            if (!head_sent && !type.empty()) stream_type = std::move(type);
          } else {
            std::string json;
            if (!tc.response(c.tm, m, json, why)) {
              bad = why.message;
              break;
            }
            piece = ndjson ? json + "\n" : (sent == 0 ? "[" : ",") + json;
          }
          if (!transcode::valid_field_value(stream_type)) {
            bad = "upstream HttpBody content_type is not a valid header value";
            break;
          }
          if (!co_await write_piece(std::move(piece), !head_sent)) {
            ok_down = false;
            break;
          }
          head_sent = true;
          ++sent;
        }
        msgs.clear();
        if (!ok_down || !bad.empty()) break;
      }
    }
    if (st.rx_end && st.rx.empty()) break;
    if (st.closed && st.rx.empty()) {
      up_failed = true;
      break;
    }
    int64_t at = steady_ms() + stream_idle;
    if (stream_end && stream_end < at) at = stream_end;
    if (!co_await st.rx_wake.wait(at)) {
      timed_out = true;
      break;
    }
  }
  wdl.unlink();
  if (!ok_down) {
    conn.abandon(st);
    ex.error = "client_aborted";
    s.closing_ = true;
    co_return false;
  }
  if (!buf.empty() && bad.empty() && !up_failed && !timed_out)
    bad = "upstream ended inside a message frame";

  // The call's status: trailers, or the head of a trailers-only answer.
  int code = -1;
  std::string message;
  std::string details;
  if (!bad.empty()) {
    code = grpc::kInternal;
    message = bad;
    ex.error = "transcode_bad_response";
  } else if (up_failed || timed_out) {
    conn.abandon(st);
    c.wu->stats->failures.inc();
    if (timed_out) c.wu->stats->timeouts.inc();
    code = timed_out ? grpc::kDeadlineExceeded : grpc::kUnavailable;
    message = timed_out ? "deadline exceeded at the gateway" : "upstream reset the stream";
    ex.error = timed_out ? "grpc_deadline_exceeded" : "upstream_body_aborted";
  } else {
    std::string gs = field_value(st.trailers, st.headers, "grpc-status");
    code = grpc::parse_status(gs.empty() ? nullptr : &gs);
    std::string gm = field_value(st.trailers, st.headers, "grpc-message");
    message = percent_decode_strict(gm, false).value_or(gm);
    details = field_value(st.trailers, st.headers, "grpc-status-details-bin");
    if (code < 0) {
      code = grpc::kInternal;
      message = "upstream ended the call without grpc-status";
      ex.error = "transcode_bad_response";
    }
  }
  ex.grpc_status = code;

  // Metadata: the upstream's headers, and its trailers (in a trailers-only
  // answer, the one HEADERS block is the trailers).
  std::vector<http1::Header> head_md, trailer_md;
  if (bad.empty() && !up_failed && !timed_out && st.trailers.empty() &&
      !find_field(st.headers, "grpc-status").empty()) {
    transcode::metadata_headers(st.headers, true, trailer_md);
  } else {
    if (!head_sent) transcode::metadata_headers(st.headers, false, head_md);
    if (bad.empty() && !up_failed && !timed_out)
      transcode::metadata_headers(st.trailers, true, trailer_md);
  }

  if (head_sent && raw && code != grpc::kOk) {
    // Raw bytes have no room for an error element: the stream is cut (no
    // chunked terminator, the connection closed) so the client cannot take
    // it for complete.
    wdl.unlink();
    if (ex.error.empty()) ex.error = "grpc_stream_error";
    s.closing_ = true;
    co_return false;
  }
  if (head_sent) {
    // Streaming, already 200: the end of the array (or stream), with the
    // error as its last element when the call failed; trailing metadata as
    // trailers when the client takes them (else they are dropped, as
    // grpc-gateway does).
    std::string tail;
    if (code != grpc::kOk) {
      std::string err = "{\"error\":" + tc.error_body(code, message, details) + "}";
      tail = ndjson ? err + "\n" : "," + err;
    }
    if (!ndjson && !raw) tail += "]";
    bool ok = co_await write_piece(std::move(tail), false);
    if (!accepts_trailers(head)) trailer_md.clear();
    if (ok && framing == 1)
      ok = co_await s.write_all(s.stream_, wdl, last_chunk(trailer_md), {}, idle);
    wdl.unlink();
    if (!ok || close_down) s.closing_ = true;
    co_return ok && !close_down;
  }
  if (code != grpc::kOk) {
    const int status = !bad.empty() ? 502 : transcode::http_status_for_grpc(code);
    co_return co_await transcode_answer(s, ex, status, "application/json",
                                        tc.error_body(code, message, details), false,
                                        std::move(head_md), std::move(trailer_md));
  }
  std::string json;
  std::string type(streaming && ndjson ? "application/x-ndjson" : "application/json");
  if (streaming) {
    json = raw || ndjson ? "" : "[]";
    if (raw) type = kOctetStream;
  } else if (msgs.empty()) {
    ex.error = "transcode_bad_response";
    ex.grpc_status = grpc::kInternal;
    co_return co_await transcode_answer(
        s, ex, 502, "application/json",
        tc.error_body(grpc::kInternal, "upstream answered OK without a message", ""), false);
  } else {
    transcode::Problem why;
    std::string raw_type;
    const bool converted = raw ? tc.raw_response(c.tm, msgs[0], raw_type, json, why)
                               : tc.response(c.tm, msgs[0], json, why);
    if (converted && raw) {
      type = raw_type.empty() ? std::string(kOctetStream) : std::move(raw_type);
      if (!transcode::valid_field_value(type)) {
        why = {502, "bad_upstream_message",
               "upstream HttpBody content_type is not a valid header value", ""};
        json.clear();
      }
    }
    if (!why.code.empty()) {
      ex.error = why.code;
      ex.grpc_status = grpc::kInternal;
      co_return co_await transcode_answer(s, ex, 502, "application/json",
                                          tc.error_body(grpc::kInternal, why.message, ""), false);
    }
  }
  co_return co_await transcode_answer(s, ex, 200, type, std::move(json), false, std::move(head_md),
                                      std::move(trailer_md));
}

}  // namespace gatehouse::proxy
