// Pieces of a WebSocket tunnel shared by the HTTP/1.1 relay (upgrade.cpp,
// where they are defined) and the HTTP/2 upstream tunnel (forward_h2_tunnel.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "net/http1/parser.hpp"

namespace gatehouse::proxy {

struct Exchange;

// How long a tunnel may sit with no byte either way: the route's
// websocket.idle_timeout, else `fallback_ms`, else 60 s.
int64_t tunnel_idle_ms(const Exchange& ex, int64_t fallback_ms);

// The client's 101: `head` after the route's response policies, with
// Connection/Upgrade (hop-by-hop everywhere else, the answer itself here)
// and `extra` ("Name: value\r\n" lines) added.
std::string upgrade_response_head(Exchange& ex, http1::ResponseHead head, std::string_view extra);

// A frame the scanner refused: the access log's error and a warning line.
void note_refused_frame(Exchange& ex, uint16_t close_code, std::string_view why, bool from_client);

}  // namespace gatehouse::proxy
