// Small crypto helpers for policies (OpenSSL 3).
#pragma once

#include <string>
#include <string_view>

namespace gatehouse::policy {

std::string sha256(std::string_view data);            // 32 raw bytes
std::string hex(std::string_view bytes);
bool constant_time_equal(std::string_view a, std::string_view b);
std::string base64_decode(std::string_view in, bool url = false, bool* ok = nullptr);
std::string base64_encode(std::string_view in, bool url = false);

}  // namespace gatehouse::policy
