// Diagnostics: code names, line/column computation and the printed form.
// Tested by tests/engine/evaluator_test.cpp

#include "cuttle/engine/diagnostic.hpp"

#include <fmt/format.h>

#include "diagnostics.hpp"

namespace cuttle::engine {

std::string error_code_name(error_code code) { return fmt::format("E{:03}", static_cast<int>(code)); }

std::pair<std::uint32_t, std::uint32_t> line_column(std::string_view text, std::size_t offset) {
  if (offset > text.size()) offset = text.size();
  std::uint32_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, static_cast<std::uint32_t>(offset - line_start + 1)};
}

namespace detail {
diagnostic make_diagnostic(error_code code, severity sev, std::string_view source_name, std::string_view text,
                           std::size_t offset, std::string message, std::string fragment) {
  diagnostic d;
  d.code = code;
  d.severity = sev;
  d.source = std::string(source_name);
  d.offset = offset;
  const auto [line, col] = line_column(text, offset);
  d.line = line;
  d.column = col;
  d.message = std::move(message);
  d.fragment = std::move(fragment);
  return d;
}
}  // namespace detail

std::string diagnostic::to_string() const {
  return fmt::format("{}:{}:{}: {}[{}]: {}", source, line, column,
                     severity == severity::error ? "error" : "warning", error_code_name(code), message);
}

}  // namespace cuttle::engine
