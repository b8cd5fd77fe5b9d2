// Fuzzes replace_properties. Input: byte 0 picks a key of the document, byte 1 picks the value (or, when the
// rest holds a NUL, the text after it is the value), the rest is the document. Invariants: no crash; without
// matching variables the output is the input; after a replacement the output still parses, holds only the
// input's bytes plus printable ASCII, and replacing again with the same value changes nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/runner/deploy/structured_config.hpp"

namespace {

using cuttle::runner::deploy::replace_properties;
using cuttle::runner::deploy::structured_variable;

void check(bool ok) {
  if (!ok) std::abort();
}

/// Rough key candidates: each line's text before its first '=', ':' or blank, leading blanks dropped.
std::vector<std::string> candidate_keys(std::string_view doc) {
  std::vector<std::string> keys;
  std::size_t i = 0;
  while (i < doc.size()) {
    std::size_t eol = doc.find_first_of("\r\n", i);
    if (eol == std::string_view::npos) eol = doc.size();
    std::string_view line = doc.substr(i, eol - i);
    const std::size_t start = line.find_first_not_of(" \t\f");
    if (start != std::string_view::npos) {
      line.remove_prefix(start);
      const std::size_t end = line.find_first_of("=: \t\f\\");
      keys.emplace_back(line.substr(0, end));
    }
    i = eol + 1;
  }
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t selector = data[0];
  const std::uint8_t mode = data[1];
  std::string_view doc(reinterpret_cast<const char*>(data + 2), size - 2);
  std::optional<std::string> value;
  const std::size_t nul = doc.find('\0');
  static const char* const values[] = {"x",  " lead", "a\\b", "line\nline", "#c",
                                       "!c", "=:",    "é😀",   "\t\r\f",     ""};
  if (nul != std::string_view::npos) {
    value = std::string(doc.substr(nul + 1));
    doc = doc.substr(0, nul);
  } else if (mode % 16 < sizeof values / sizeof values[0]) {
    value = values[mode % 16];
  }

  // Octopus's own variables never match, whatever the document holds.
  const std::vector<structured_variable> none{{"Octopus.Bogus", "x"}, {"octopus:X", std::nullopt}};
  const auto plain = replace_properties(doc, none);
  if (!plain.parsed) {
    check(plain.text.empty() && plain.error.starts_with("line "));
    return 0;
  }
  check(plain.replaced == 0 && plain.text == doc && plain.warnings.empty());

  const auto keys = candidate_keys(doc);
  const std::string name = keys.empty() ? "a" : keys[selector % keys.size()];
  std::vector<structured_variable> vars{{name, value}};
  if (mode & 0x80U) vars.push_back({"OctopusIgnored", "z"});
  const auto out = replace_properties(doc, vars);
  check(out.parsed);
  check(out.warnings.empty());
  if (out.replaced == 0) check(out.text == doc);
  // Values are written escaped: any byte the input did not have is printable ASCII.
  bool seen[256] = {};
  for (const char c : doc) seen[static_cast<unsigned char>(c)] = true;
  for (const char c : out.text) {
    const auto u = static_cast<unsigned char>(c);
    check(seen[u] || (u >= 0x20 && u < 0x7F));
  }
  const auto again = replace_properties(out.text, vars);
  check(again.parsed);
  check(again.replaced == out.replaced);
  check(again.text == out.text);
  return 0;
}
