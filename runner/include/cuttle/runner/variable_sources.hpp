// Loading variables from the command line's sources, in order: --variables files, --sensitive-variables
// files and --set NAME=VALUE pairs; later sources override earlier ones.
//
// Example:
//   std::vector<cuttle::runner::variable_source> sources{{variable_source::kind::file, "vars.json"}};
//   cuttle::engine::variables vars;
//   std::vector<std::string> errors;
//   if (!cuttle::runner::load_variable_sources(sources, vars, errors)) { ... }
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cuttle/engine/variables.hpp"

namespace cuttle::runner {

/// One variable source given on the command line.
struct variable_source {
  enum class kind { file, sensitive_file, assignment } type = kind::file;
  std::string argument;  ///< a path, or NAME=VALUE
};

/// Loads every source in order into `vars`. Errors (unreadable file, invalid JSON with line:column, an
/// assignment without '=') are appended to `errors` as printable lines; returns false if there were any.
bool load_variable_sources(const std::vector<variable_source>& sources, engine::variables& vars,
                           std::vector<std::string>& errors);

/// A fresh, empty dictionary that lives until the process exits and is never destroyed. The CLI loads into
/// one: freeing tens of thousands of values one by one just before the process ends is work for nothing
/// (about a quarter of `cuttle eval`'s time with the 13 MB bigvars file). The dictionaries stay reachable,
/// so leak checkers do not report them. For the commands of a process, not for a long-running host.
engine::variables& process_lifetime_variables();

/// Replaces every occurrence of each secret in `text` with `********` (longest secrets first).
std::string mask_secrets(std::string_view text, const std::vector<std::string>& secrets);

}  // namespace cuttle::runner
