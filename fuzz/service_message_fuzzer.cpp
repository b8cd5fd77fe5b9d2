// Fuzzer for the service-message parser and what `cuttle run` does with its output. Input: the first byte
// picks a chunk size (1..64) and a parser bound; the rest is a script's output. Checks that parsing in
// chunks gives the same events as parsing in one piece, that nothing is held after the end, and that the
// whole output pipeline (script_output: messages, levels, masking, JSON records) never crashes.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/engine/variables.hpp"
#include "cuttle/runner/script_output.hpp"
#include "cuttle/runner/service_messages.hpp"

namespace {

namespace cr = cuttle::runner;

struct transcript {
  std::vector<std::string> events;
  void text(std::string_view t) {
    if (!events.empty() && events.back()[0] == 'T') {
      events.back() += t;
    } else {
      events.push_back("T" + std::string(t));
    }
  }
  void message(const cr::service_message& m) { events.push_back("M" + cr::format_message(m)); }
  void malformed(std::string_view raw, std::string_view why) {
    events.push_back("X" + std::string(raw) + "|" + std::string(why));
  }
};

std::vector<std::string> parse(std::string_view input, std::size_t chunk, std::size_t bound) {
  cr::message_parser parser(bound);
  transcript t;
  for (std::size_t i = 0; i < input.size(); i += chunk) parser.feed(input.substr(i, chunk), t);
  parser.finish(t);
  if (parser.held() != 0) std::abort();
  return t.events;
}

int null_fd() {
  static const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 64 * 1024) return 0;
  const std::size_t chunk = 1 + (data[0] & 63U);
  const std::size_t bound = 64 + (data[0] >> 6U) * 32;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (parse(input, chunk, bound) != parse(input, input.size() + 1, bound)) std::abort();

  cuttle::engine::variables outputs;
  for (const auto format : {cr::log_format::plain, cr::log_format::json}) {
    cr::output_settings settings;
    settings.format = format;
    settings.secrets = {"s3cret-value", "octopus"};
    settings.max_message_body = bound;
    cr::script_output out(settings, null_fd(), null_fd(), outputs);
    for (std::size_t i = 0; i < input.size(); i += chunk) {
      out.feed(i / chunk % 3 == 2 ? cr::log_stream::err : cr::log_stream::out, input.substr(i, chunk));
      if (i / chunk % 7 == 6) out.idle_flush();
    }
    out.finish();
  }
  return 0;
}
