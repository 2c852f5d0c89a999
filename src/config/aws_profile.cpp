// AWS shared files: see aws_profile.hpp.
#include "config/aws_profile.hpp"

#include <cstdlib>
#include <fstream>

#include "common/strings.hpp"

namespace gatehouse::config::aws {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;  // shared files are a few lines; refuse a stray huge file

Error ini_error(std::string_view source, int line, std::string why) {
  return make_error("aws_shared_file",
                    std::string(source) + ":" + std::to_string(line) + ": " + std::move(why));
}

// A value's trailing comment starts at '#' or ';' preceded by white space
// (keys and tokens may contain either character elsewhere).
std::string_view strip_value_comment(std::string_view v) {
  for (size_t i = 1; i < v.size(); ++i)
    if ((v[i] == '#' || v[i] == ';') && (v[i - 1] == ' ' || v[i - 1] == '\t'))
      return trim_ows(v.substr(0, i));
  return v;
}

IniSection* section_named(std::vector<IniSection>& out, std::string_view name) {
  for (auto& s : out)
    if (s.name == name) return &s;
  return nullptr;
}

void set_prop(IniSection& s, std::string key, std::string value) {
  for (auto& [k, v] : s.props)
    if (k == key) {
      v = std::move(value);
      return;
    }
  s.props.emplace_back(std::move(key), std::move(value));
}

const std::string* prop(const IniSection& s, std::string_view key) {
  for (const auto& [k, v] : s.props)
    if (k == key) return &v;
  return nullptr;
}

// "profile   dev" -> "dev"; anything else -> empty.
std::string_view config_profile(std::string_view section) {
  if (section.size() < 8 || section.substr(0, 7) != "profile") return {};
  if (section[7] != ' ' && section[7] != '\t') return {};
  return trim_ows(section.substr(8));
}

void apply(Profile& p, const IniSection& s) {
  p.found = true;
  auto take = [&](std::string_view key, std::string& out) {
    if (const std::string* v = prop(s, key)) out = *v;
  };
  take("aws_access_key_id", p.access_key_id);
  take("aws_secret_access_key", p.secret_access_key);
  take("aws_session_token", p.session_token);
  take("region", p.region);
  for (std::string_view k : {"role_arn", "credential_process", "sso_session", "sso_start_url",
                             "web_identity_token_file"})
    if (prop(s, k) && p.unsupported.empty()) p.unsupported = std::string(k);
}

std::string home_path(std::string_view rest) {
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "") + std::string(rest);
}

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::move(fallback);
}

}  // namespace

Result<std::vector<IniSection>> parse_ini(std::string_view text, std::string_view source) {
  std::vector<IniSection> out;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  IniSection* current = nullptr;
  std::string* last_value = nullptr;  // what an indented line continues
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string_view line = trim_ows(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (raw.front() == ' ' || raw.front() == '\t') {
      if (!last_value) return ini_error(source, line_no, "an indented line continues no property");
      *last_value += '\n';
      *last_value += line;
      continue;
    }
    if (line.front() == '[') {
      size_t close = line.find(']');
      if (close == std::string_view::npos)
        return ini_error(source, line_no, "a section header needs a closing ']'");
      std::string_view rest = trim_ows(line.substr(close + 1));
      if (!rest.empty() && rest.front() != '#' && rest.front() != ';')
        return ini_error(source, line_no, "text after a section header's ']'");
      std::string_view name = trim_ows(line.substr(1, close - 1));
      if (name.empty()) return ini_error(source, line_no, "a section needs a name");
      current = section_named(out, name);
      if (!current) {
        out.push_back(IniSection{std::string(name), line_no, {}});
        current = &out.back();
      }
      last_value = nullptr;
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      return ini_error(source, line_no, "expected a [section] or 'name = value'");
    if (!current) return ini_error(source, line_no, "a property before the first [section]");
    std::string_view key = trim_ows(line.substr(0, eq));
    if (key.empty()) return ini_error(source, line_no, "a property needs a name before '='");
    std::string name = to_lower(key);
    set_prop(*current, name, std::string(strip_value_comment(trim_ows(line.substr(eq + 1)))));
    for (auto& [k, v] : current->props)
      if (k == name) last_value = &v;
  }
  return out;
}

Profile find_profile(const std::vector<IniSection>& credentials,
                     const std::vector<IniSection>& config, std::string_view name) {
  Profile p;
  // Config file first, so the credentials file's values win.
  if (name == "default")
    for (const auto& s : config)
      if (s.name == "default") apply(p, s);
  for (const auto& s : config)
    if (config_profile(s.name) == name) apply(p, s);
  for (const auto& s : credentials)
    if (s.name == name) apply(p, s);
  return p;
}

std::string credentials_file_path() {
  return env_or("AWS_SHARED_CREDENTIALS_FILE", home_path("/.aws/credentials"));
}

std::string config_file_path() {
  return env_or("AWS_CONFIG_FILE", home_path("/.aws/config"));
}

std::string profile_name(std::string_view configured) {
  if (!configured.empty()) return std::string(configured);
  return env_or("AWS_PROFILE", "default");
}

Result<SharedFile> read_shared_file(const std::string& path) {
  SharedFile f;
  std::ifstream in(path, std::ios::binary);
  if (!in) return f;  // absent: the SDKs skip it too
  std::string text;
  text.resize(kMaxFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxFileBytes)
    return make_error("aws_shared_file", path + ": larger than 1 MiB");
  auto sections = parse_ini(text, path);
  if (!sections) return sections.error();
  f.found = true;
  f.sections = std::move(sections.value());
  return f;
}

std::string default_region(std::string_view configured_profile) {
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"})
    if (const char* v = std::getenv(var); v && *v) return v;
  auto creds = read_shared_file(credentials_file_path());
  auto cfg = read_shared_file(config_file_path());
  if (!creds || !cfg) return {};
  return find_profile(creds->sections, cfg->sections, profile_name(configured_profile)).region;
}

bool valid_profile_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (unsigned char c : name)
    if (c <= ' ' || c >= 0x7f || c == '[' || c == ']' || c == '"' || c == '\'' || c == '#' ||
        c == ';')
      return false;
  return true;
}

}  // namespace gatehouse::config::aws
