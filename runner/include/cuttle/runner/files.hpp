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

/// Writes `content` to `path` atomically: a temporary file in the same directory, flushed, then renamed
/// over `path`. On failure the temporary file is removed and `path` is untouched.
std::optional<std::string> write_file_atomically(const std::string& path, std::string_view content);

}  // namespace cuttle::runner
