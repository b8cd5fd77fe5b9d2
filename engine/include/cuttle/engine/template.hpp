// Compiled templates in the Octopus variable syntax (`#{Name}`, `#{Name | Filter}`, `#{if}`, `#{each}`,
// `#{calc}`). Parse once, render many: a compiled_template is immutable and may be rendered from several
// threads at once against different (or the same) variable sets. No I/O happens here.
//
// Example:
//   cuttle::engine::variables vars;
//   vars.set("Name", "World");
//   auto tpl = cuttle::engine::compiled_template::parse("Hello #{Name | ToUpper}!");
//   auto out = tpl.render(vars);          // out.output == "Hello WORLD!"
//   for (const auto& d : out.diagnostics) std::cerr << d.to_string() << '\n';
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/engine/diagnostic.hpp"
#include "cuttle/engine/options.hpp"
#include "cuttle/engine/variables.hpp"

namespace cuttle::engine {

namespace detail {
struct template_impl;
}

/// The outcome of a render.
struct render_result {
  /// The rendered text. nullopt when the template evaluated to null (the `null` filter, diagnostic
  /// `null_result`) or when rendering failed (a diagnostic with severity error explains why).
  std::optional<std::string> output;
  /// Warnings (unresolved tokens, parse errors that made the text verbatim) and errors, in order.
  std::vector<diagnostic> diagnostics;
  /// True when an error made rendering stop (recursion, limits, invalid operations).
  bool failed = false;

  /// Octostache's error text: "The following tokens were unable to be evaluated: '#{A}', ..." or the
  /// parser message; empty when there was no problem.
  std::string octostache_error;
};

/// An immutable, parsed template.
class compiled_template {
 public:
  /// Parses `text`. Never fails: a template that does not parse renders as Octostache would (verbatim in
  /// halting mode) and its parse diagnostics are kept in diagnostics().
  static compiled_template parse(std::string text, const parse_options& options = {});

  /// Renders against `vars`.
  render_result render(const variables& vars, const render_options& options = {}) const;

  /// Parse diagnostics (warnings, or an error when a limit was exceeded).
  const std::vector<diagnostic>& diagnostics() const;
  /// True when the text could not be parsed (halting mode) and renders verbatim.
  bool parse_failed() const;
  /// Octostache's normalised text of the template (the form used to echo unresolved tokens).
  std::string to_string() const;
  /// Individual identifier names referenced (Octostache's ParseTemplateAndGetArgumentNames).
  std::vector<std::string> argument_names() const;
  /// The source text.
  const std::string& source() const;

 private:
  explicit compiled_template(std::shared_ptr<const detail::template_impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const detail::template_impl> impl_;
};

/// Parses and renders `text` in one step (Octostache's Evaluate).
render_result evaluate(std::string_view text, const variables& vars, const parse_options& popts = {},
                       const render_options& ropts = {});

/// False when `text` contains no `#{`: such text is never parsed and renders as itself (Octostache's
/// CanEvaluationBeSkippedForExpression, negated). Callers may skip the engine for it.
bool needs_evaluation(std::string_view text);

/// Octostache's truthiness of an evaluated value (§6.3): "", "0", and trimmed "no"/"false" (any case) are
/// false.
bool is_truthy(std::string_view value);

/// Octostache's EvaluateTruthy: renders `text` (halting mode) and tests the result.
bool evaluate_truthy(std::string_view text, const variables& vars, const render_options& ropts = {});

}  // namespace cuttle::engine
