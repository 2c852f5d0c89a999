// routes[].websocket (docs/proxy.md#websocket), read apart from loader.cpp so
// the loader only calls in.
#pragma once

#include "config/loader_reader.hpp"

namespace gatehouse::config::detail {

// {max_frame_size, max_message_size, idle_timeout}; sizes take k/m/g
// suffixes, 0 turns a limit off; the timeout is a duration.
void parse_route_websocket(Reader& r, const Slot& s, RouteWebSocketConfig& out);

}  // namespace gatehouse::config::detail
