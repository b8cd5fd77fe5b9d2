// Replay driver: a main() for fuzzers built without libFuzzer. Runs LLVMFuzzerTestOneInput once on every
// file named on the command line and on every regular file below each directory named (sorted, recursive).
// Arguments starting with '-' (libFuzzer flags) are ignored. Exits 1 when a path is missing or unreadable.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

bool read_file(const fs::path& path, std::vector<std::uint8_t>& bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

// Collects the inputs named by `arg`; false when it does not exist or cannot be listed.
bool collect(const fs::path& arg, std::vector<fs::path>& inputs) {
  std::error_code ec;
  if (fs::is_directory(arg, ec)) {
    std::vector<fs::path> found;
    for (fs::recursive_directory_iterator it(arg, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec)) found.push_back(it->path());
    }
    if (ec) return false;
    std::sort(found.begin(), found.end());
    inputs.insert(inputs.end(), found.begin(), found.end());
    return true;
  }
  if (fs::is_regular_file(arg, ec)) {
    inputs.push_back(arg);
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> inputs;
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.starts_with("-")) continue;
    if (!collect(arg, inputs)) {
      std::fprintf(stderr, "replay: cannot read %s\n", arg.c_str());
      status = 1;
    }
  }
  std::vector<std::uint8_t> bytes;
  static const std::uint8_t empty = 0;  // libFuzzer never passes a null pointer, even for empty input
  for (const auto& input : inputs) {
    if (!read_file(input, bytes)) {
      std::fprintf(stderr, "replay: cannot read %s\n", input.c_str());
      status = 1;
      continue;
    }
    // A crash here leaves the name of the failing input as the last line of output.
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", input.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(bytes.empty() ? &empty : bytes.data(), bytes.size());
  }
  std::fprintf(stderr, "replay: ran %zu inputs\n", inputs.size());
  return status;
}
