// The log writer of `cuttle run`: plain prefixed lines, colour on a terminal, or JSON records.
// Tested by tests/runner/log_output_test.cpp and tests/runner/run_messages_test.cpp

#include "cuttle/runner/log_output.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>

#include "cuttle/runner/files.hpp"

namespace cuttle::runner {
namespace {

constexpr std::size_t max_partial = std::size_t{64} << 10U;

std::string system_time() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(now)),
                     static_cast<int>(ms.count()));
}

std::string_view plain_prefix(log_stream s, log_level l) {
  // The stream's own level needs no prefix: info on stdout, error on stderr.
  if ((s == log_stream::out && l == log_level::info) || (s == log_stream::err && l == log_level::error))
    return {};
  switch (l) {
    case log_level::info:
      return "info: ";
    case log_level::verbose:
      return "verbose: ";
    case log_level::highlight:
      return "highlight: ";
    case log_level::wait:
      return "wait: ";
    case log_level::warning:
      return "warning: ";
    case log_level::error:
      return "error: ";
    case log_level::ignore:
      break;
  }
  return {};
}

/// SGR colour of a level on a terminal; empty for the stream's own level.
std::string_view colour(log_stream s, log_level l) {
  if (s == log_stream::out && l == log_level::info) return {};
  switch (l) {
    case log_level::info:
      return {};
    case log_level::verbose:
      return "\x1b[2m";  // dim
    case log_level::highlight:
      return "\x1b[1;36m";  // bold cyan
    case log_level::wait:
      return "\x1b[35m";  // magenta
    case log_level::warning:
      return "\x1b[33m";  // yellow
    case log_level::error:
      return "\x1b[31m";  // red
    case log_level::ignore:
      break;
  }
  return {};
}

constexpr std::string_view reset_colour = "\x1b[0m";

}  // namespace

std::string_view level_name(log_level l) {
  switch (l) {
    case log_level::info:
      return "info";
    case log_level::verbose:
      return "verbose";
    case log_level::highlight:
      return "highlight";
    case log_level::wait:
      return "wait";
    case log_level::warning:
      return "warning";
    case log_level::error:
      return "error";
    case log_level::ignore:
      return "ignore";
  }
  return "info";
}

std::optional<log_level> mode_level(std::string_view name, log_stream s) {
  if (s == log_stream::out) {
    if (name.substr(0, 7) != "stdout-") return std::nullopt;
    const auto mode = name.substr(7);
    if (mode == "default") return log_level::info;
    if (mode == "verbose") return log_level::verbose;
    if (mode == "highlight") return log_level::highlight;
    if (mode == "wait") return log_level::wait;
    if (mode == "warning") return log_level::warning;
    if (mode == "error") return log_level::error;
    if (mode == "ignore") return log_level::ignore;
    return std::nullopt;
  }
  if (s == log_stream::err) {
    if (name.substr(0, 7) != "stderr-") return std::nullopt;
    const auto mode = name.substr(7);
    if (mode == "default" || mode == "error") return log_level::error;
    if (mode == "progress") return log_level::verbose;
    if (mode == "ignore") return log_level::ignore;
  }
  return std::nullopt;
}

log_writer::log_writer(log_format format, int out_fd, int err_fd, std::function<std::string()> now)
    : format_(format), out_fd_(out_fd), err_fd_(err_fd), now_(now ? std::move(now) : system_time) {}

log_writer::~log_writer() = default;

void log_writer::write(int fd, std::string_view bytes) {
  if (fd == out_fd_ && !out_ok_) return;
  if (!write_all(fd, bytes) && fd == out_fd_) out_ok_ = false;
}

void log_writer::end_progress_line() {
  if (!progress_line_open_) return;
  progress_line_open_ = false;
  write(out_fd_, "\n");
}

void log_writer::json_record(log_stream s, log_level l, std::string_view text,
                             std::optional<int> percentage) {
  nlohmann::ordered_json record;
  record["time"] = now_();
  record["stream"] = s == log_stream::out ? "stdout" : s == log_stream::err ? "stderr" : "cuttle";
  record["level"] = percentage ? "progress" : level_name(l);
  if (percentage) record["percentage"] = *percentage;
  record["text"] = std::string(text);
  // Invalid UTF-8 in script output becomes U+FFFD: JSON text must be Unicode.
  buffer_ = record.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  buffer_ += '\n';
  write(out_fd_, buffer_);
}

void log_writer::text(log_stream s, log_level l, std::string_view text) {
  if (l == log_level::ignore || text.empty()) return;
  auto& st = state(s);
  if (format_ == log_format::json) {
    if (!st.partial.empty() && st.level != l) flush_partial();
    st.level = l;
    while (!text.empty()) {
      const auto nl = text.find('\n');
      if (nl == std::string_view::npos) {
        st.partial.append(text);
        if (st.partial.size() >= max_partial) {
          json_record(s, l, st.partial);
          st.partial.clear();
        }
        return;
      }
      auto line = text.substr(0, nl);
      text.remove_prefix(nl + 1);
      if (!st.partial.empty()) {
        st.partial.append(line);
        line = st.partial;
      }
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      json_record(s, l, line);
      st.partial.clear();
    }
    return;
  }
  text_lines(s, l, text);
}

void log_writer::text_lines(log_stream s, log_level l, std::string_view text) {
  auto& st = state(s);
  const int fd = s == log_stream::out ? out_fd_ : err_fd_;
  end_progress_line();
  const std::string_view start = format_ == log_format::terminal ? colour(s, l) : plain_prefix(s, l);
  const bool coloured = format_ == log_format::terminal && !start.empty();
  buffer_.clear();
  // A line continued at another level starts a new line, so every line has one level.
  if (!st.at_line_start && st.level != l) {
    if (format_ == log_format::terminal && !colour(s, st.level).empty()) buffer_ += reset_colour;
    buffer_ += '\n';
    st.at_line_start = true;
  }
  st.level = l;
  while (!text.empty()) {
    if (st.at_line_start) buffer_ += start;
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) {
      buffer_.append(text);
      st.at_line_start = false;
      break;
    }
    buffer_.append(text.substr(0, nl));
    if (coloured) buffer_ += reset_colour;
    buffer_ += '\n';
    st.at_line_start = true;
    text.remove_prefix(nl + 1);
  }
  write(fd, buffer_);
}

void log_writer::progress(int percentage, std::string_view message) {
  percentage = std::clamp(percentage, 0, 100);
  switch (format_) {
    case log_format::json:
      json_record(log_stream::cuttle, log_level::info, message, percentage);
      return;
    case log_format::plain: {
      auto& st = state(log_stream::out);
      std::string line = st.at_line_start ? "" : "\n";
      st.at_line_start = true;
      line += fmt::format("progress: {}%{}{}\n", percentage, message.empty() ? "" : " ", message);
      write(out_fd_, line);
      return;
    }
    case log_format::terminal: {
      auto& st = state(log_stream::out);
      std::string line;
      if (progress_line_open_) {
        line = "\r\x1b[K";
      } else if (!st.at_line_start) {
        line = "\n";
        st.at_line_start = true;
      }
      constexpr int width = 30;
      const int filled = percentage * width / 100;
      line +=
          fmt::format("\x1b[36m[{}{}]\x1b[0m {:3d}% {}", std::string(static_cast<std::size_t>(filled), '#'),
                      std::string(static_cast<std::size_t>(width - filled), '.'), percentage, message);
      write(out_fd_, line);
      progress_line_open_ = true;
      return;
    }
  }
}

void log_writer::note(log_level l, std::string_view text) {
  if (format_ == log_format::json) {
    json_record(log_stream::cuttle, l, text);
    return;
  }
  end_progress_line();
  // Notes go to stderr on a line of their own.
  auto& err = state(log_stream::err);
  std::string line = err.at_line_start ? "" : "\n";
  err.at_line_start = true;
  const bool coloured = format_ == log_format::terminal && !colour(log_stream::cuttle, l).empty();
  if (coloured) line += colour(log_stream::cuttle, l);
  line += "cuttle: ";
  if (l != log_level::info) {
    line += level_name(l);
    line += ": ";
  }
  line += text;
  if (coloured) line += reset_colour;
  line += '\n';
  write(err_fd_, line);
}

bool log_writer::has_partial() const {
  return std::any_of(streams_.begin(), streams_.end(),
                     [](const stream_state& s) { return !s.partial.empty(); });
}

void log_writer::flush_partial() {
  for (std::size_t k = 0; k < streams_.size(); ++k) {
    auto& st = streams_[k];
    if (st.partial.empty()) continue;
    json_record(static_cast<log_stream>(k), st.level, st.partial);
    st.partial.clear();
  }
}

void log_writer::finish() {
  if (format_ == log_format::json) {
    flush_partial();
    return;
  }
  end_progress_line();
  for (const auto s : {log_stream::out, log_stream::err}) {
    auto& st = state(s);
    if (!st.at_line_start && format_ == log_format::terminal && !colour(s, st.level).empty())
      write(s == log_stream::out ? out_fd_ : err_fd_, reset_colour);
    // A last line without a newline stays so in the plain formats: the output is the script's.
    st.level = s == log_stream::out ? log_level::info : log_level::error;
  }
}

}  // namespace cuttle::runner
