// Fuzzes replace_json. Input: byte 0 picks a path of the document, byte 1 picks the value (or, when the rest
// holds a NUL, the text after it is the value), the rest is the document. Invariants: no crash; without
// matching variables the output is the input; a document that parses still parses after a replacement, its
// replaced strings read back as the value, and warnings never contain the value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/runner/deploy/structured_config.hpp"

namespace {

using cuttle::runner::deploy::replace_json;
using cuttle::runner::deploy::structured_variable;

void check(bool ok) {
  if (!ok) std::abort();
}

void collect_paths(const nlohmann::json& v, const std::string& path, std::vector<std::string>& out) {
  if (!path.empty()) out.push_back(path);
  const std::string prefix = path.empty() ? "" : path + ":";
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) collect_paths(child, prefix + k, out);
  } else if (v.is_array()) {
    for (std::size_t k = 0; k < v.size(); ++k) collect_paths(v[k], prefix + std::to_string(k), out);
  }
}

const nlohmann::json* at_path(const nlohmann::json& root, const std::string& path) {
  const nlohmann::json* cur = &root;
  std::size_t i = 0;
  while (i <= path.size()) {
    const std::size_t colon = std::min(path.find(':', i), path.size());
    const std::string seg = path.substr(i, colon - i);
    if (cur->is_object() && cur->contains(seg)) {
      cur = &(*cur)[seg];
    } else if (cur->is_array() && !seg.empty() && seg.find_first_not_of("0123456789") == std::string::npos &&
               seg.size() < 9 && std::stoul(seg) < cur->size()) {
      cur = &(*cur)[std::stoul(seg)];
    } else {
      return nullptr;
    }
    i = colon + 1;
  }
  return cur;
}

bool valid_utf8(std::string_view s) {
  try {
    (void)nlohmann::json(std::string(s)).dump();
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t selector = data[0];
  const std::uint8_t mode = data[1];
  std::string_view doc(reinterpret_cast<const char*>(data + 2), size - 2);
  std::optional<std::string> value;
  const std::size_t nul = doc.find('\0');
  static const char* const values[] = {
      "x",      "42",   "-1.5e3",    "true", "FALSE",     "",     "{\"a\":[1,{}]}",
      "[1,2,]", "{bad", "\"q\\\"\"", "  7 ", "é\n\t\x01", "null", "+0.5"};
  if (nul != std::string_view::npos) {
    value = std::string(doc.substr(nul + 1));
    doc = doc.substr(0, nul);
  } else if (mode % 16 < sizeof values / sizeof values[0]) {
    value = values[mode % 16];
  }

  // Without matching variables nothing changes.
  // Octopus's own variables never match, whatever the document holds.
  const std::vector<structured_variable> none{{"Octopus.Bogus", "x"}, {"octopusX", std::nullopt}};
  const auto plain = replace_json(doc, none);
  if (!plain.parsed) {
    check(plain.text.empty() && !plain.error.empty() && plain.error.starts_with("line "));
    // Whatever strict JSON (with comments) accepts, we accept, up to the nesting limit.
    if (plain.error.find("levels of nesting") == std::string::npos)
      check(nlohmann::json::parse(doc, nullptr, false, true).is_discarded());
    return 0;
  }
  check(plain.replaced == 0 && plain.text == doc && plain.warnings.empty());

  // A path of the document, when nlohmann/json reads it too (it rejects trailing commas).
  std::vector<std::string> paths;
  const auto parsed = nlohmann::json::parse(doc, nullptr, false, true);
  if (!parsed.is_discarded()) collect_paths(parsed, "", paths);
  std::string name = paths.empty() ? "a" : paths[selector % paths.size()];
  if (mode & 0x40U) {
    for (char& c : name)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  std::vector<structured_variable> vars{{name, value}};
  if (mode & 0x80U) vars.push_back({"a", "second"});
  const auto out = replace_json(doc, vars);
  check(out.parsed);
  if (out.replaced == 0 && out.warnings.empty()) check(out.text == doc);
  for (const auto& w : out.warnings) {
    check(w.starts_with("Unable to set value for "));
    if (value && value->size() >= 4 && name.find(*value) == std::string::npos)
      check(w.find(*value) == std::string::npos);
  }
  // The result parses again, with our reader and (when the input did) with nlohmann/json.
  const auto again = replace_json(out.text, none);
  check(again.parsed && again.text == out.text);
  if (!parsed.is_discarded() && out.replaced > 0) {
    const auto back = nlohmann::json::parse(out.text, nullptr, false, true);
    check(!back.is_discarded());
    const nlohmann::json* old_node = at_path(parsed, name);
    const nlohmann::json* new_node = at_path(back, name);
    if (old_node != nullptr && old_node->is_string() && value && valid_utf8(*value) && !(mode & 0x80U)) {
      check(new_node != nullptr && *new_node == nlohmann::json(*value));
    }
    if (old_node != nullptr && !value && !(mode & 0x80U)) check(new_node != nullptr && new_node->is_null());
  }
  return 0;
}
