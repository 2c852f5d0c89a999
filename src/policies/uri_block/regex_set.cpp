#include "policies/uri_block/regex_set.hpp"

namespace gatehouse::policy {

RegexSet::RegexSet() {
  options_.set_log_errors(false);  // errors are reported through config errors
}

bool RegexSet::add(std::string_view pattern, std::string& error) {
  auto re = std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options_);
  if (!re->ok()) {
    error = re->error();
    return false;
  }
  if (!set_) set_ = std::make_unique<RE2::Set>(options_, RE2::UNANCHORED);
  if (set_->Add(re2::StringPiece(pattern.data(), pattern.size()), &error) < 0) return false;
  each_.push_back(std::move(re));
  return true;
}

bool RegexSet::compile(std::string& error) {
  compiled_ = true;
  if (!set_) return true;
  if (!set_->Compile()) {
    error = "the patterns together exceed RE2's memory budget";
    set_.reset();
    return false;
  }
  return true;
}

bool RegexSet::matches(std::string_view text) const {
  if (each_.empty()) return false;
  re2::StringPiece sp(text.data(), text.size());
  if (set_ && compiled_) {
    RE2::Set::ErrorInfo info{};
    if (set_->Match(sp, nullptr, &info)) return true;
    if (info.kind == RE2::Set::kNoError) return false;
  }
  for (const auto& re : each_)
    if (RE2::PartialMatch(sp, *re)) return true;
  return false;
}

}  // namespace gatehouse::policy
