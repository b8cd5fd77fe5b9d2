// `cuttle mask`: filters a stream through the masker, so any log can be masked with the same rules as
// `cuttle run`'s output.
//
// Example:
//   int code = cuttle::runner::mask_filter({{variable_source::kind::sensitive_file, "secrets.json"}},
//                                          {"hunter22"}, STDIN_FILENO, STDOUT_FILENO);
#pragma once

#include <string>
#include <vector>

#include "cuttle/runner/variable_sources.hpp"

namespace cuttle::runner {

/// Copies `in_fd` to `out_fd` with every value of the sensitive `sources` and every text of `masks`
/// masked, releasing text as soon as it cannot be part of a secret. Returns 0, or 2 after a message on
/// stderr (unreadable variables file, read or write error).
int mask_filter(const std::vector<variable_source>& sources, const std::vector<std::string>& masks, int in_fd,
                int out_fd);

}  // namespace cuttle::runner
