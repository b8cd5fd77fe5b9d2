// How `cuttle run` prints a script's output: log levels (calamari-spec §3.2 `stdout-*` / `stderr-*`),
// progress, and cuttle's own notes, in one of three formats.
//
// - plain: text at the info level (stdout) and error level (stderr) is written unchanged; every line at
//   another level starts with a prefix naming it ("verbose: ", "warning: " ...). Progress is a line
//   "progress: 50% message". Nothing is held back: a prefix is written with the first byte of its line.
// - terminal: as plain, but levels are told apart by colour instead of prefixes, and progress draws a bar
//   that is redrawn in place while nothing else is written.
// - json: one JSON object per line on stdout: {"time","stream","level","text"} (progress adds
//   "percentage"). A line becomes a record when it ends; a partial line is written as its own record when
//   the level changes, the stream ends, it grows past 64 KiB, or flush_partial() is called (the runner does
//   after a short idle time), so output is never held indefinitely.
//
// The writer is given text that is already masked; it never sees secrets.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace cuttle::runner {

enum class log_format : std::uint8_t { plain, terminal, json };

/// The level of a piece of output. `ignore` output is dropped.
enum class log_level : std::uint8_t { info, verbose, highlight, wait, warning, error, ignore };

/// The script's two output streams, and cuttle's own notes.
enum class log_stream : std::uint8_t { out, err, cuttle };

std::string_view level_name(log_level l);

/// The level a mode message selects: `stdout-verbose` -> verbose, `stderr-progress` -> verbose ...
/// nullopt when `name` is not a mode message of that stream.
std::optional<log_level> mode_level(std::string_view name, log_stream s);

class log_writer {
 public:
  /// Writes to `out_fd` (stdout text, JSON records) and `err_fd` (stderr text, cuttle's notes in the
  /// plain and terminal formats). `now` gives the time for JSON records (default: the system clock).
  log_writer(log_format format, int out_fd, int err_fd, std::function<std::string()> now = {});
  ~log_writer();
  log_writer(const log_writer&) = delete;
  log_writer& operator=(const log_writer&) = delete;

  /// Script output of stream `s` at level `l`.
  void text(log_stream s, log_level l, std::string_view text);
  /// A progress report.
  void progress(int percentage, std::string_view message);
  /// A note of cuttle's own (one line, no newline needed).
  void note(log_level l, std::string_view text);
  /// Writes any partial JSON line as its own record (json format only).
  void flush_partial();
  /// True while a partial JSON line is waiting.
  [[nodiscard]] bool has_partial() const;
  /// Ends the output: completes open lines, resets colours, ends a progress bar.
  void finish();
  /// False once writing to `out_fd` failed (closed pipe); the writer then drops stdout output.
  [[nodiscard]] bool out_ok() const { return out_ok_; }

 private:
  struct stream_state {
    bool at_line_start = true;
    log_level level = log_level::info;  ///< level of the current (partial) line
    std::string partial;                ///< json: the text of the current line
  };

  void write(int fd, std::string_view bytes);
  void end_progress_line();
  void json_record(log_stream s, log_level l, std::string_view text, std::optional<int> percentage = {});
  void text_lines(log_stream s, log_level l, std::string_view text);
  stream_state& state(log_stream s) { return streams_[static_cast<std::size_t>(s)]; }

  log_format format_;
  int out_fd_;
  int err_fd_;
  std::function<std::string()> now_;
  std::array<stream_state, 3> streams_{};
  bool progress_line_open_ = false;  ///< terminal: a progress bar is the last thing on stderr
  bool out_ok_ = true;
  std::string buffer_;
};

}  // namespace cuttle::runner
