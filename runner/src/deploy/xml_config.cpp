// Placeholder: being written.
// Tested by tests/deploy/xml_config_test.cpp
#include "cuttle/runner/deploy/xml_config.hpp"

namespace cuttle::runner::deploy {

xdt_outcome apply_xdt(std::string_view, std::string_view) {
  xdt_outcome out;
  out.error = "not implemented";
  return out;
}

replace_outcome replace_config_settings(std::string_view, std::span<const structured_variable>) {
  replace_outcome out;
  out.error = "not implemented";
  return out;
}

}  // namespace cuttle::runner::deploy
