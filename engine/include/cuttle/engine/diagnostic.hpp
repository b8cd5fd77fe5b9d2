// Diagnostics: stable error codes, source positions and the result<T> carrier used by every public API.
// Bad input is a value (a diagnostic), never an exception.
//
// Example:
//   cuttle::engine::variables vars;
//   auto loaded = cuttle::engine::load_variables_json(text, "vars.json", vars);
//   if (!loaded) for (const auto& d : loaded.diagnostics()) std::cerr << d.to_string() << '\n';
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cuttle::engine {

/// Stable diagnostic codes; the numbers are documented in docs/diagnostics.md and never reused.
enum class error_code : std::uint16_t {
  parse_error = 1,           ///< a `#{` that does not start a valid construct
  unresolved_variable = 2,   ///< a substitution whose value could not be computed (echoed)
  unknown_filter = 3,        ///< a filter name that is neither built in nor registered
  filter_failed = 4,         ///< a known filter returned no value (bad arguments or input)
  recursive_definition = 5,  ///< a variable that refers to itself, directly or indirectly
  limit_exceeded = 6,        ///< a named resource limit in parse_options / render_options was hit
  invalid_json = 7,          ///< a variables file that is not a JSON object of the expected shape
  invalid_operation =
      8,  ///< input Octostache rejects with an exception (negative JSON index, loop variable `Octopus`)
  null_result = 9,  ///< the template evaluated to null through the `null` filter
};

/// Number of error codes; keep docs/diagnostics.md in step (checked by a test).
inline constexpr int error_code_count = 9;

/// The `E0xx` spelling of a code, e.g. "E002".
std::string error_code_name(error_code code);

enum class severity : std::uint8_t { warning, error };

/// One problem found in a template, a variable value or a variables file.
struct diagnostic {
  error_code code = error_code::parse_error;
  engine::severity severity = severity::warning;
  std::string source;        ///< template file name, `variable 'Name'`, or a variables file name
  std::size_t offset = 0;    ///< byte offset of the problem in `source`
  std::uint32_t line = 1;    ///< 1-based line of `offset`
  std::uint32_t column = 1;  ///< 1-based column (in bytes) of `offset`
  std::string message;       ///< what was wrong / what was expected
  std::string fragment;      ///< the offending text, possibly shortened

  /// `source:line:col: warning[E002]: message`
  std::string to_string() const;
};

/// 1-based line and column of byte `offset` in `text` (columns count bytes).
std::pair<std::uint32_t, std::uint32_t> line_column(std::string_view text, std::size_t offset);

/// A value or a failure, always with the diagnostics collected on the way.
template <typename T>
class result {
 public:
  result(T value, std::vector<diagnostic> diags = {})
      : value_(std::move(value)), diagnostics_(std::move(diags)) {}
  explicit result(std::vector<diagnostic> diags) : diagnostics_(std::move(diags)) {}

  /// True when a value is present.
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  const std::vector<diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::optional<T> value_;
  std::vector<diagnostic> diagnostics_;
};

}  // namespace cuttle::engine
