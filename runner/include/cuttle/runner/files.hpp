// File helpers for the CLI: whole-file reads (with stdin as "-") and atomic writes.
//
// Example:
//   std::string text;
//   if (auto err = cuttle::runner::read_file("app.config.template", text)) std::cerr << *err;
//   if (auto err = cuttle::runner::write_file_atomically("app.config", text)) std::cerr << *err;
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cuttle::runner {

/// Reads the whole of `path` ("-" reads standard input) into `out`; returns an error message on failure.
std::optional<std::string> read_file(const std::string& path, std::string& out);

/// A file's contents, memory-mapped when it is a regular file (no copy), read otherwise (stdin, pipes).
class file_contents {
 public:
  file_contents() = default;
  ~file_contents();
  file_contents(const file_contents&) = delete;
  file_contents& operator=(const file_contents&) = delete;

  /// Opens `path` ("-" is standard input); returns an error message on failure.
  std::optional<std::string> open(const std::string& path);
  /// The bytes (valid while this object lives).
  std::string_view view() const {
    return map_ != nullptr ? std::string_view(map_, size_) : std::string_view(data_);
  }

 private:
  char* map_ = nullptr;
  std::size_t size_ = 0;
  std::string data_;
};

/// Writes all of `text` to descriptor `fd`, retrying short writes and EINTR. False when a write failed
/// (errno tells why, e.g. EPIPE for a closed pipe).
bool write_all(int fd, std::string_view text);

/// Writes `content` to `path` atomically: a temporary file in the same directory, flushed, then renamed
/// over `path`. On failure the temporary file is removed and `path` is untouched. A file being replaced
/// keeps its permissions. `durable` = false skips the fsync (still never half-written, but not
/// guaranteed to survive a power loss): for the many files of a deployment.
std::optional<std::string> write_file_atomically(const std::string& path, std::string_view content,
                                                 bool durable = true);

/// As write_file_atomically, but the file gets mode 0600 whatever mode a file being replaced had (for files
/// that hold secrets).
std::optional<std::string> write_private_file_atomically(const std::string& path, std::string_view content);

/// Writes `content` to a new file `path` with mode 0600; never follows or replaces an existing file.
std::optional<std::string> write_new_private_file(const std::string& path, std::string_view content);

/// A private directory (mode 0700, under $TMPDIR, named `<prefix>-XXXXXX`), removed with everything in it
/// when this object goes.
class private_dir {
 public:
  private_dir() = default;
  ~private_dir();
  private_dir(const private_dir&) = delete;
  private_dir& operator=(const private_dir&) = delete;

  /// Creates the directory; returns an error message on failure.
  std::optional<std::string> create(std::string_view prefix = "cuttle-run");
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cuttle::runner
