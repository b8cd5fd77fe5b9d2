// Test-only helpers for the engine suites: building variable sets, rendering in one call, finding
// diagnostics, and assertion predicates that print the whole render_result when they fail.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cuttle/engine.hpp"

namespace cuttle::engine {

// gtest finds these through ADL, so failing assertions show readable values.
inline void PrintTo(const diagnostic& d, std::ostream* os) {
  *os << "{code=" << static_cast<int>(d.code)
      << " severity=" << (d.severity == severity::error ? "error" : "warning") << " source=\"" << d.source
      << "\" offset=" << d.offset << " line=" << d.line << " column=" << d.column << " message=\""
      << d.message << "\" fragment=\"" << d.fragment << "\"}";
}

inline void PrintTo(const render_result& r, std::ostream* os) {
  *os << "\n  output: ";
  if (r.output) {
    *os << ::testing::PrintToString(*r.output);
  } else {
    *os << "(null)";
  }
  *os << "\n  failed: " << (r.failed ? "true" : "false")
      << "\n  octostache_error: " << ::testing::PrintToString(r.octostache_error) << "\n  diagnostics:";
  if (r.diagnostics.empty()) *os << " (none)";
  for (const auto& d : r.diagnostics) {
    *os << "\n    ";
    PrintTo(d, os);
  }
}

}  // namespace cuttle::engine

namespace cuttle::test {

namespace eng = cuttle::engine;

/// A variable set from (name, value) pairs, in order; std::nullopt sets a null value.
inline eng::variables make_variables(
    std::initializer_list<std::pair<std::string_view, std::optional<std::string>>> entries) {
  eng::variables vars;
  for (const auto& [name, value] : entries) vars.set(name, value);
  return vars;
}

/// Parses and renders `text` in halting mode (or continue mode when `halt_on_error` is false).
inline eng::render_result render(std::string_view text, const eng::variables& vars = {},
                                 bool halt_on_error = true, const eng::render_options& ropts = {}) {
  eng::parse_options popts;
  popts.halt_on_error = halt_on_error;
  return eng::evaluate(text, vars, popts, ropts);
}

/// Readable dump of a render_result for failure messages.
inline std::string describe(const eng::render_result& r) {
  std::ostringstream os;
  eng::PrintTo(r, &os);
  return os.str();
}

/// The first diagnostic with `code`, or null.
inline const eng::diagnostic* find_diagnostic(const std::vector<eng::diagnostic>& diags,
                                              eng::error_code code) {
  auto it =
      std::find_if(diags.begin(), diags.end(), [code](const eng::diagnostic& d) { return d.code == code; });
  return it == diags.end() ? nullptr : &*it;
}

/// The first error-severity diagnostic with `code`, or null.
inline const eng::diagnostic* find_error(const std::vector<eng::diagnostic>& diags, eng::error_code code) {
  auto it = std::find_if(diags.begin(), diags.end(), [code](const eng::diagnostic& d) {
    return d.code == code && d.severity == eng::severity::error;
  });
  return it == diags.end() ? nullptr : &*it;
}

/// Predicate: the render produced exactly `expected` (not null).
inline ::testing::AssertionResult output_is(const eng::render_result& r, std::string_view expected) {
  if (r.output && *r.output == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected output " << ::testing::PrintToString(std::string(expected))
         << "\nactual:" << describe(r);
}

/// Predicate: the render produced `expected` and reported no problem (no missing tokens, no diagnostics
/// of severity error, not failed).
inline ::testing::AssertionResult clean_output_is(const eng::render_result& r, std::string_view expected) {
  const bool has_error =
      std::any_of(r.diagnostics.begin(), r.diagnostics.end(),
                  [](const eng::diagnostic& d) { return d.severity == eng::severity::error; });
  if (r.output && *r.output == expected && r.octostache_error.empty() && !r.failed && !has_error) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "expected clean output " << ::testing::PrintToString(std::string(expected))
         << "\nactual:" << describe(r);
}

/// Predicate: the render stopped with an error diagnostic of `code`, and the output is null.
inline ::testing::AssertionResult failed_with(const eng::render_result& r, eng::error_code code) {
  if (r.failed && !r.output && find_error(r.diagnostics, code) != nullptr)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected a failed render with an error diagnostic of code "
                                       << static_cast<int>(code) << "\nactual:" << describe(r);
}

/// Predicate: some diagnostic (of any severity) in `diags` has `code` and its message mentions `word`.
inline ::testing::AssertionResult has_diagnostic_mentioning(const std::vector<eng::diagnostic>& diags,
                                                            eng::error_code code, std::string_view word) {
  for (const auto& d : diags) {
    if (d.code == code && d.message.find(word) != std::string::npos) return ::testing::AssertionSuccess();
  }
  auto failure = ::testing::AssertionFailure();
  failure << "no diagnostic of code " << static_cast<int>(code) << " mentioning \"" << word << "\" among:";
  if (diags.empty()) failure << " (none)";
  for (const auto& d : diags) failure << "\n  " << ::testing::PrintToString(d);
  return failure;
}

/// The Octostache missing-token message for `tokens`, each wrapped in single quotes.
inline std::string missing_tokens_error(std::initializer_list<std::string_view> tokens) {
  std::string text = "The following tokens were unable to be evaluated: ";
  bool first = true;
  for (auto token : tokens) {
    if (!first) text += ", ";
    first = false;
    text += '\'';
    text += token;
    text += '\'';
  }
  return text;
}

}  // namespace cuttle::test
