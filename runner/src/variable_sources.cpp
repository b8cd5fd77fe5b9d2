// Loading --variables / --sensitive-variables / --set in command-line order, and masking secrets in text.
// Tested by tests/runner/cli_test.cpp and tests/runner/run_messages_test.cpp

#include "cuttle/runner/variable_sources.hpp"

#include <memory>

#include "cuttle/engine/masker.hpp"
#include "cuttle/runner/files.hpp"

namespace cuttle::runner {

bool load_variable_sources(const std::vector<variable_source>& sources, engine::variables& vars,
                           std::vector<std::string>& errors) {
  const auto before = errors.size();
  for (const auto& s : sources) {
    if (s.type == variable_source::kind::assignment) {
      const auto eq = s.argument.find('=');
      if (eq == std::string::npos) {
        errors.push_back("--set '" + s.argument + "': expected NAME=VALUE");
        continue;
      }
      vars.set(s.argument.substr(0, eq), s.argument.substr(eq + 1));
      continue;
    }
    std::string text;
    if (auto err = read_file(s.argument, text)) {
      errors.push_back("error: " + *err);
      continue;
    }
    const auto loaded =
        engine::load_variables_json(text, s.argument, vars, s.type == variable_source::kind::sensitive_file);
    for (const auto& d : loaded.diagnostics()) errors.push_back(d.to_string());
  }
  return errors.size() == before;
}

std::string mask_secrets(std::string_view text, const std::vector<std::string>& secrets) {
  // The same masker as cuttle run's output (encodings, minimum length, one replacement per run of
  // masked bytes); built once per set of secrets, since diagnostics come one line at a time.
  thread_local std::vector<std::string> cached_secrets;
  thread_local std::shared_ptr<const engine::masker> cached;
  if (!cached || cached_secrets != secrets) {
    cached = engine::masker::make(secrets);
    cached_secrets = secrets;
  }
  return cached->mask(text);
}

}  // namespace cuttle::runner
