#include "config/load_websocket.hpp"

namespace gatehouse::config::detail {

void parse_route_websocket(Reader& r, const Slot& s, RouteWebSocketConfig& out) {
  Fields f(r, s, {"max_frame_size", "max_message_size", "idle_timeout"});
  f.size("max_frame_size", out.max_frame_size);
  f.size("max_message_size", out.max_message_size);
  f.duration("idle_timeout", out.idle_timeout_ms);
}

}  // namespace gatehouse::config::detail
