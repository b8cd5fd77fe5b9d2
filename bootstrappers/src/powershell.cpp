// The PowerShell bootstrap: not written yet; an empty preamble makes is_supported() false.
// Tested by tests/bootstrappers/bootstrap_test.cpp

#include <string>

#include "cuttle/bootstrappers/bootstrap.hpp"
#include "languages.hpp"

namespace cuttle::bootstrappers::detail {

std::string powershell_preamble() { return {}; }

launch_plan powershell_plan(const std::string& /*script*/, const std::vector<std::string>& /*args*/,
                            const engine::variables& /*vars*/) {
  return {};
}

}  // namespace cuttle::bootstrappers::detail
