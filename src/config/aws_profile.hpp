// The AWS shared files (~/.aws/credentials and ~/.aws/config): their INI
// dialect and the profile lookup the AWS SDKs do, for Bedrock providers whose
// credentials or region come from the AWS chain. Pure functions over the file
// text (tested and fuzzed); reading the files is the caller's job. Error
// messages name the file and line, never a line's content (it may hold a key).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace gatehouse::config::aws {

struct IniSection {
  std::string name;  // trimmed, as written ("default", "profile dev")
  int line = 0;
  std::vector<std::pair<std::string, std::string>> props;  // names lower-cased
};

// The dialect of the AWS SDKs' shared files: `[section]`, `name = value`,
// whole-line comments with '#' or ';', a comment after a value only when
// white space precedes it, indented lines continue the previous value
// (sub-properties such as `s3 =` followed by indented `name = value`), CRLF
// and a UTF-8 BOM accepted. A repeated section is merged, a repeated name
// keeps its last value. `source` names the file in errors ("path:line: why").
Result<std::vector<IniSection>> parse_ini(std::string_view text, std::string_view source);

// What a profile says, the credentials file's values over the config file's.
struct Profile {
  bool found = false;  // a section for it exists in either file
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string region;
  // Settings of credential sources we do not implement (named in errors).
  std::string unsupported;  // e.g. "role_arn", "credential_process", "sso_session"
};

// The profile `name` in parsed files: the credentials file's `[name]`, the
// config file's `[profile name]` (and `[default]` for "default", where
// `[profile default]` wins over it).
Profile find_profile(const std::vector<IniSection>& credentials,
                     const std::vector<IniSection>& config, std::string_view name);

// File locations and the profile name the SDKs use: AWS_SHARED_CREDENTIALS_FILE
// (default ~/.aws/credentials), AWS_CONFIG_FILE (~/.aws/config), and the
// configured profile, else AWS_PROFILE, else "default".
std::string credentials_file_path();
std::string config_file_path();
std::string profile_name(std::string_view configured);

// Reads and parses a shared file. A missing file is an empty one (found=false).
struct SharedFile {
  bool found = false;
  std::vector<IniSection> sections;
};
Result<SharedFile> read_shared_file(const std::string& path);

// A Bedrock provider's region when `region:` is unset: AWS_REGION, then
// AWS_DEFAULT_REGION, then the profile's `region` in the shared files; empty
// when none says (or the files do not parse: the credential chain reports that).
std::string default_region(std::string_view configured_profile);

// Whether a profile name is one we accept in the gateway config: printable,
// no white space, brackets or quotes (it is matched inside `[profile NAME]`).
bool valid_profile_name(std::string_view name);

}  // namespace gatehouse::config::aws
