// Small helpers shared by both backends: ids, time, field checks, the JSON
// form of entities (audit rows) and opaque pagination cursors.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "store/store.hpp"

namespace gatehouse::store {

int64_t now_ms();

// A random (version 4) UUID in lower-case canonical form.
std::string new_uuid();
// Any 8-4-4-4-12 hex UUID, lower-cased; nullopt when `s` is not one.
std::optional<std::string> normalize_uuid(std::string_view s);

// `bytes` random bytes as base64url without padding (CSPRNG).
std::string random_base64url(size_t bytes);
std::string sha256_hex(std::string_view data);
bool constant_time_equal(std::string_view a, std::string_view b);

// Errors every caller maps to an HTTP answer.
Error invalid(std::string field, std::string message);  // 400 invalid_entity
Error not_found(const Ref& ref);                        // 404 not_found
Error store_failure(std::string message);               // 500 store_error

// Checks the fields the store itself relies on (the resource's own rules
// belong to the validator). `field` prefixes error field paths.
Result<void> check_entity(Entity& e, const std::string& field);
Result<void> check_kind(const std::string& kind, const std::string& field);
Result<void> check_workspace(const std::string& ws, const std::string& field);

// {id, kind, workspace, name, tags, body, version, created_at, updated_at, revision}
boost::json::value entity_to_json(const Entity& e);

std::string tags_to_json(const std::vector<std::string>& tags);
std::vector<std::string> tags_from_json(std::string_view text);
std::string body_to_json(const boost::json::value& body);
boost::json::value body_from_json(std::string_view text);  // null when unparsable

// A cursor is the sort key of the last row of a page, opaque to clients.
std::string encode_cursor(const std::vector<std::string>& key);
// `parts` values or a 400 invalid_cursor error.
Result<std::vector<std::string>> decode_cursor(std::string_view cursor, size_t parts);

}  // namespace gatehouse::store
