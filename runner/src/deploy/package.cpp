// Placeholder: being written.
// Tested by tests/deploy/package_test.cpp
#include "cuttle/runner/deploy/package.hpp"

namespace cuttle::runner::deploy {

std::optional<package_name> parse_package_file_name(std::string_view) { return std::nullopt; }

extract_result extract_package(const std::string&, const std::string&) {
  extract_result r;
  r.error = "not implemented";
  return r;
}

}  // namespace cuttle::runner::deploy
