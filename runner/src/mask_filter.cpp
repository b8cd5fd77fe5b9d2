// `cuttle mask`: stdin through one engine::mask_stream to stdout.
// Tested by tests/runner/run_messages_test.cpp (run_mask_command)

#include "cuttle/runner/mask_filter.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "cuttle/engine/masker.hpp"
#include "cuttle/runner/files.hpp"

namespace cuttle::runner {
namespace {

void report(const std::string& message) { write_all(STDERR_FILENO, "cuttle: " + message + "\n"); }

}  // namespace

int mask_filter(const std::vector<variable_source>& sources, const std::vector<std::string>& masks, int in_fd,
                int out_fd) {
  engine::variables vars;
  std::vector<std::string> errors;
  if (!load_variable_sources(sources, vars, errors)) {
    const auto secrets = vars.sensitive_values();
    for (const auto& e : errors) report(mask_secrets(e, secrets));
    return 2;
  }
  std::vector<std::string> secrets;
  for (const auto& v : vars.entries()) {
    if (v.value && !v.value->empty()) secrets.push_back(*v.value);
  }
  secrets.insert(secrets.end(), masks.begin(), masks.end());
  engine::mask_stream stream(std::make_shared<const engine::masker>(secrets));

  std::string in(std::size_t{256} << 10U, '\0');
  std::string out;
  out.reserve(in.size() * 2);
  while (true) {
    const ssize_t n = ::read(in_fd, in.data(), in.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      report(std::string("error: cannot read the input: ") + std::strerror(errno));
      return 2;
    }
    if (n == 0) break;
    out.clear();
    stream.write(std::string_view(in.data(), static_cast<std::size_t>(n)), out);
    if (!write_all(out_fd, out)) return errno == EPIPE ? 0 : 2;
  }
  out.clear();
  stream.finish(out);
  if (!write_all(out_fd, out)) return 2;
  return 0;
}

}  // namespace cuttle::runner
