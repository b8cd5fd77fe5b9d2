// Parse and render options: the evaluation mode and every named resource limit.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace cuttle::engine {

class filter_registry;

/// How a template is compiled.
struct parse_options {
  /// Name used in diagnostics (a file name, or `<eval>`).
  std::string source_name = "<template>";
  /// Octostache's haltOnError: true returns the whole text verbatim when any `#{` fails to parse;
  /// false keeps the unparseable characters as text and goes on.
  bool halt_on_error = true;
  /// Limit `template_bytes`: templates larger than this are refused.
  std::size_t max_template_bytes = std::size_t{1} << 30;
  /// Limit `nesting_depth`: constructs nested inside each other (#{if}, #{each}, options, calc parentheses).
  int max_nesting_depth = 64;
};

/// The clock and local time zone the date filters read (NowDate, NowDateUtc, and local-time parsing in
/// AddHours, AddDays and Format). Empty functions mean the system clock and the process's local time zone
/// (the TZ environment variable). Tests inject fixed values so date output is deterministic.
struct clock_options {
  /// The current instant.
  std::function<std::chrono::system_clock::time_point()> now;
  /// The offset of local time from UTC at the instant `utc` (east of Greenwich is positive).
  std::function<std::chrono::seconds(std::chrono::system_clock::time_point utc)> local_offset;
};

/// How a compiled template is rendered.
struct render_options {
  /// Limit `reference_depth`: variable values that reference further variables, nested this deep.
  int max_reference_depth = 128;
  /// Limit `loop_iterations`: total #{each} iterations in one render.
  std::size_t max_iterations = 10'000'000;
  /// Limit `output_bytes`: size of the rendered text.
  std::size_t max_output_bytes = std::size_t{1} << 31;
  /// Custom filters consulted after the built-in ones (may be null). Unlike Octostache they work
  /// everywhere: loop bodies, filter options and referenced variable values.
  const filter_registry* filters = nullptr;
  /// Clock and time zone for the date filters.
  clock_options clock;
};

}  // namespace cuttle::engine
