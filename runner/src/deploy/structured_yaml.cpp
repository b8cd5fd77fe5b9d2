// Placeholder: being written.
// Tested by tests/deploy/structured_config_test.cpp
#include "cuttle/runner/deploy/structured_config.hpp"

namespace cuttle::runner::deploy {

replace_outcome replace_yaml(std::string_view, std::span<const structured_variable>) {
  replace_outcome out;
  out.error = "not implemented";
  return out;
}

}  // namespace cuttle::runner::deploy
