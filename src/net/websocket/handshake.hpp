// The RFC 6455 4 opening handshake's key and accept values. The gateway
// makes a key when it turns an RFC 8441 extended CONNECT into an HTTP/1.1
// upgrade, and checks every upstream's Sec-WebSocket-Accept against the key
// it forwarded (so a server that did not understand the upgrade is a 502,
// not a tunnel).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gatehouse::net::websocket {

// 16 random bytes, base64 (RFC 6455 4.1, item 7).
std::string new_key();
// base64(SHA-1(key + the RFC's GUID)) (RFC 6455 4.2.2, item 5.4).
std::string accept_for(std::string_view key);
// A masking key for a frame the gateway sends to a server (RFC 6455 5.3).
std::array<uint8_t, 4> new_mask_key();

}  // namespace gatehouse::net::websocket
