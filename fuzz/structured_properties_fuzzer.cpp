// Placeholder: being written.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cuttle/runner/deploy/structured_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const cuttle::runner::deploy::structured_variable vars[] = {{"a:b", "1"}};
  (void)cuttle::runner::deploy::replace_properties(text, vars);
  return 0;
}
