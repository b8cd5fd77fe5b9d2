// Install-test consumer: renders "Hello #{Name}" with Name=World through the installed cuttle::engine.
// Exits 0 only when the output is exactly "Hello World".
#include <cstdio>
#include <string>

#include "cuttle/engine.hpp"

int main() {
  cuttle::engine::variables vars;
  vars.set("Name", "World");
  const auto tpl = cuttle::engine::compiled_template::parse("Hello #{Name}");
  const auto result = tpl.render(vars);
  const std::string output = result.output.value_or("<null>");
  if (output != "Hello World") {
    std::fprintf(stderr, "consumer: expected \"Hello World\", got \"%s\"\n", output.c_str());
    return 1;
  }
  std::printf("%s\n", output.c_str());
  return 0;
}
