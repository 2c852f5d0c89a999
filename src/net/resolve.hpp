// Name resolution for outbound connections. Asio's resolver runs every
// lookup on a background thread, even for an IP literal; a provider, MCP
// server or Redis at 127.0.0.1 or 10.0.0.7 then paid a round trip through
// that thread (and getaddrinfo) on every new connection. A literal host
// becomes its endpoint at once; names still go to the resolver.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <string>
#include <string_view>
#include <tuple>

#include "net/asio.hpp"

namespace gatehouse {

inline awaitable<std::tuple<boost::system::error_code, tcp::resolver::results_type>> resolve(
    tcp::resolver& resolver, std::string_view host, std::string_view port) {
  std::string_view literal = host;
  if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']')
    literal = literal.substr(1, literal.size() - 2);
  boost::system::error_code aec;
  auto addr = asio::ip::make_address(literal, aec);
  unsigned short p = 0;
  auto [end, perr] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (!aec && perr == std::errc() && end == port.data() + port.size())
    co_return std::tuple{boost::system::error_code{},
                         tcp::resolver::results_type::create(tcp::endpoint(addr, p),
                                                             std::string(host), std::string(port))};
  co_return co_await resolver.async_resolve(std::string(host), std::string(port), use_nothrow);
}

}  // namespace gatehouse
