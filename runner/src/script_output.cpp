// A script's output on its way to cuttle's: service messages acted on, secrets masked, levels printed.
// Tested by tests/runner/run_messages_test.cpp and fuzz/service_message_fuzzer.cpp

#include "cuttle/runner/script_output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace cuttle::runner {
namespace {

/// Service messages of calamari-spec §3.2 that are for Octopus tooling further on: passed on unchanged.
constexpr std::string_view passed_on[] = {"set-environmentstate",
                                          "createStepPackageTarget",
                                          "delete-target",
                                          "k8s-manifest-applied",
                                          "create-tokenaccount",
                                          "create-userpassaccount",
                                          "create-awsaccount",
                                          "create-azureaccount",
                                          "create-kubernetestarget",
                                          "create-azurewebapptarget",
                                          "create-azureservicefabrictarget",
                                          "foundPackage",
                                          "calamari-found-package",
                                          "deltaVerification",
                                          "calamari-timed-operation",
                                          "calamari-deployment-metric",
                                          "calamari-script-isolation-alert"};

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

bool is_true(const std::optional<std::string>& text) { return text && reads_true(*text); }

/// A whole decimal number, as .NET's int.Parse takes it (optional sign and surrounding white space).
std::optional<int> parse_percentage(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  std::string_view s = *text;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty() || s.size() > 11) return std::nullopt;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  long long v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  if (s[0] == '-') v = -v;
  if (v < -2147483648LL || v > 2147483647LL) return std::nullopt;
  return static_cast<int>(v);
}

}  // namespace

struct script_output::stream {
  stream(log_stream which, std::size_t max_body, std::shared_ptr<const engine::masker> m)
      : id(which),
        parser(max_body),
        level(which == log_stream::out ? log_level::info : log_level::error),
        mask(std::move(m)) {}

  log_stream id;
  message_parser parser;
  log_level level;
  engine::mask_stream mask;
  bool line_start = true;     ///< the last byte of text seen was a line break (or none yet)
  bool message_line = false;  ///< the current line held only messages so far
  bool drop_lf = false;       ///< a dropped CR wants the LF after it dropped too
  bool ended = false;
};

class script_output::handler {
 public:
  handler(script_output& o, stream& s) : out_(o), st_(s) {}
  void text(std::string_view t) { out_.emit_text(st_, t); }
  void message(const service_message& m) { out_.on_message(st_, m); }
  void malformed(std::string_view raw, std::string_view why) { out_.on_malformed(st_, raw, why); }

 private:
  script_output& out_;
  stream& st_;
};

script_output::script_output(output_settings settings, int out_fd, int err_fd, engine::variables& outputs)
    : settings_(std::move(settings)),
      outputs_(outputs),
      writer_(settings_.format, out_fd, err_fd),
      masker_(std::make_shared<const engine::masker>(settings_.secrets)),
      out_(std::make_unique<stream>(log_stream::out, settings_.max_message_body, masker_)),
      err_(std::make_unique<stream>(log_stream::err, settings_.max_message_body, masker_)) {}

script_output::~script_output() = default;

script_output::stream& script_output::get(log_stream s) { return s == log_stream::err ? *err_ : *out_; }

void script_output::feed(log_stream s, std::string_view chunk) {
  auto& st = get(s);
  handler h(*this, st);
  st.parser.feed(chunk, h);
}

void script_output::end_of_stream(log_stream s) {
  auto& st = get(s);
  if (st.ended) return;
  handler h(*this, st);
  st.parser.finish(h);
  flush_mask(st);
  st.ended = true;
}

void script_output::emit_text(stream& st, std::string_view text) {
  if ((st.message_line || st.drop_lf) && !text.empty()) {
    // The line break ending a line of nothing but messages is theirs, not the script's text. Its CR
    // and LF may come in different chunks.
    if (st.message_line && text.front() == '\r') {
      text.remove_prefix(1);
      st.message_line = false;
      st.drop_lf = true;
      if (text.empty()) return;
    }
    if (text.front() == '\n') {
      text.remove_prefix(1);
      st.line_start = true;
    }
    st.message_line = false;
    st.drop_lf = false;
  }
  if (text.empty()) return;
  st.line_start = text.back() == '\n';
  if (st.id == log_stream::err && !wrote_stderr_ && !is_blank(text)) wrote_stderr_ = true;
  if (st.level == log_level::ignore) return;
  scratch_.clear();
  st.mask.write(text, scratch_);
  writer_.text(st.id, st.level, scratch_);
}

void script_output::flush_mask(stream& st) {
  scratch_.clear();
  st.mask.finish(scratch_);
  if (st.level != log_level::ignore) writer_.text(st.id, st.level, scratch_);
}

void script_output::set_level(stream& st, log_level l) {
  if (st.level == l) return;
  flush_mask(st);  // held text belongs to the old level
  st.level = l;
}

void script_output::add_secrets(const std::vector<std::string>& secrets) {
  if (secrets.empty()) return;
  masker_ = masker_->with(secrets);
  out_->mask.update(masker_);
  err_->mask.update(masker_);
}

std::string script_output::mask(std::string_view text) const { return masker_->mask(text); }

void script_output::note(log_level l, std::string_view text) { writer_.note(l, masker_->mask(text)); }

void script_output::on_message(stream& st, const service_message& m) {
  if (st.line_start) st.message_line = true;
  st.line_start = false;
  if (const auto l = mode_level(m.name, log_stream::out)) {
    set_level(*out_, *l);
    return;
  }
  if (const auto l = mode_level(m.name, log_stream::err)) {
    set_level(*err_, *l);
    return;
  }
  if (m.name == "setVariable") {
    const auto name = m.get("name");
    if (!name || is_blank(*name)) {
      note(log_level::warning, "ignored a setVariable service message without a name");
      return;
    }
    const bool sensitive = is_true(m.get("sensitive"));
    auto value = m.get("value");
    if (sensitive && value && !value->empty()) add_secrets({*value});
    outputs_.set(*name, std::move(value), sensitive);
    note(log_level::verbose, "output variable '" + *name + "' set" + (sensitive ? " (sensitive)" : ""));
    return;
  }
  if (m.name == "mask") {
    if (auto value = m.get("value"); value && !value->empty()) add_secrets({*value});
    return;
  }
  if (m.name == "progress") {
    const auto percentage = parse_percentage(m.get("percentage"));
    if (!percentage) {
      note(log_level::warning, "ignored a progress service message without a whole-number percentage");
      return;
    }
    flush_mask(*out_);
    writer_.progress(*percentage, masker_->mask(m.get("message").value_or("")));
    return;
  }
  if (m.name == "resultMessage") {
    result_message_ = m.get("message").value_or("");
    return;
  }
  if (m.name == "createArtifact") {
    auto path = m.get("path");
    if (!path || path->empty()) {
      note(log_level::warning, "ignored a createArtifact service message without a path");
      return;
    }
    auto name = m.get("name");
    if (!name || name->empty()) {
      const auto slash = path->find_last_of('/');
      name = slash == std::string::npos ? *path : path->substr(slash + 1);
    }
    note(log_level::info, "artifact '" + *name + "' will be collected from " + *path);
    artifacts_.push_back({std::move(*path), std::move(*name)});
    return;
  }
  // Anything else is passed on as the script wrote it (re-encoded the way the helpers write it).
  if (m.name == "set-environmentstate" && is_true(m.get("sensitive"))) {
    if (auto value = m.get("value"); value && !value->empty()) add_secrets({*value});
  }
  const bool known = std::find(std::begin(passed_on), std::end(passed_on), m.name) != std::end(passed_on);
  if (!known) note(log_level::verbose, "passed on an unknown service message '" + m.name + "'");
  st.message_line = false;
  emit_text(st, format_message(m));
}

void script_output::on_malformed(stream& st, std::string_view raw, std::string_view why) {
  note(log_level::warning, fmt::format("a malformed service message is shown as text: {}", why));
  st.message_line = false;
  emit_text(st, raw);
}

void script_output::idle_flush() { writer_.flush_partial(); }

bool script_output::wants_idle_flush() const { return writer_.has_partial(); }

void script_output::finish() {
  end_of_stream(log_stream::out);
  end_of_stream(log_stream::err);
  writer_.finish();
}

}  // namespace cuttle::runner
