// Fuzzes replace_yaml. Input: byte 0 picks a path of the document (its first document, as libfyaml builds
// it), byte 1 picks the value (or, when the rest holds a NUL, the text after it is the value), the rest is
// the document. Invariants: no crash and nothing on stderr paths (libfyaml's diagnostics are collected);
// without matching variables the output is the input; after a replacement the output still parses, a replaced
// string reads back as the value, and warnings never contain the value.
#include <libfyaml.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/runner/deploy/structured_config.hpp"

namespace {

using cuttle::runner::deploy::replace_yaml;
using cuttle::runner::deploy::structured_variable;

void check(bool ok) {
  if (!ok) std::abort();
}

std::string scalar_text(fy_node* n) {
  std::size_t len = 0;
  const char* s = fy_node_get_scalar(n, &len);
  return s == nullptr ? std::string() : std::string(s, len);
}

/// Paths of a node's descendants, with the node (null for collections) and whether it is a quoted scalar.
struct path_node {
  std::string path;
  fy_node* node;
};

void collect_paths(fy_node* n, const std::string& path, std::vector<path_node>& out, int depth) {
  if (n == nullptr || depth > 64) return;
  if (!path.empty()) out.push_back({path, n});
  const std::string prefix = path.empty() ? "" : path + ":";
  if (fy_node_get_type(n) == FYNT_MAPPING) {
    void* it = nullptr;
    while (fy_node_pair* pair = fy_node_mapping_iterate(n, &it)) {
      fy_node* key = fy_node_pair_key(pair);
      // Single-quoted keys are left out: libfyaml 0.7.12 mis-decodes runs of '' in them and leaks formatting
      // long ones (replace_yaml decodes one-line single-quoted keys itself).
      if (key == nullptr || fy_node_get_type(key) != FYNT_SCALAR ||
          fy_node_get_style(key) == FYNS_SINGLE_QUOTED)
        continue;
      collect_paths(fy_node_pair_value(pair), prefix + scalar_text(key), out, depth + 1);
    }
  } else if (fy_node_get_type(n) == FYNT_SEQUENCE) {
    void* it = nullptr;
    std::size_t k = 0;
    while (fy_node* item = fy_node_sequence_iterate(n, &it))
      collect_paths(item, prefix + std::to_string(k++), out, depth + 1);
  }
}

/// The first document of a stream, built with diagnostics off; null if libfyaml rejects it.
fy_document* build(std::string_view text) {
  fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = nullptr;
  dcfg.output_fn = [](fy_diag*, void*, const char*, size_t) {};
  fy_diag* diag = fy_diag_create(&dcfg);
  fy_parse_cfg cfg{};
  cfg.flags = FYPCF_QUIET;
  cfg.diag = diag;
  fy_document* d = fy_document_build_from_string(&cfg, text.data(), text.size());
  fy_diag_destroy(diag);
  return d;
}

bool has_unprintable(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F || c >= 0x80) return true;  // keep to ASCII
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2 || size > 20000) return 0;
  const std::uint8_t selector = data[0];
  const std::uint8_t mode = data[1];
  std::string_view doc(reinterpret_cast<const char*>(data + 2), size - 2);
  std::optional<std::string> value;
  const std::size_t nul = doc.find('\0');
  static const char* const values[] = {
      "x",     "8080", "true", "a: b",  "- 1\n- 2", "{a: [1, 2]}",     "",         "'q'", "line\nline\n",
      " lead", "it's", "#c",   "é\x01", "~",        "k: v\nl:\n  - m", "[unclosed"};
  if (nul != std::string_view::npos) {
    value = std::string(doc.substr(nul + 1));
    doc = doc.substr(0, nul);
  } else if ((mode & 0x1FU) < sizeof values / sizeof values[0]) {
    value = values[mode & 0x1FU];
  }

  // Octopus's own variables never match, whatever the document holds.
  const std::vector<structured_variable> none{{"Octopus.Bogus", "x"}, {"octopusX", std::nullopt}};
  const auto plain = replace_yaml(doc, none);
  if (!plain.parsed) {
    check(plain.text.empty() && plain.error.starts_with("line "));
    return 0;
  }
  check(plain.replaced == 0 && plain.text == doc && plain.warnings.empty());

  fy_document* before = build(doc);
  std::vector<path_node> paths;
  if (before != nullptr) collect_paths(fy_document_root(before), "", paths, 0);
  const std::string name = paths.empty() ? "a" : paths[selector % paths.size()].path;
  const path_node* target = paths.empty() ? nullptr : &paths[selector % paths.size()];
  std::vector<structured_variable> vars{{name, value}};
  if (mode & 0x80U) vars.push_back({"a", "second"});
  const auto out = replace_yaml(doc, vars);
  check(out.parsed);
  if (out.replaced == 0 && out.warnings.empty()) check(out.text == doc);
  for (const auto& w : out.warnings) {
    check(w.starts_with("Unable to set value for "));
    if (value && value->size() >= 4 && name.find(*value) == std::string::npos)
      check(w.find(*value) == std::string::npos);
    // The values of the table are ordinary: in a plain document (printable ASCII and LF; no directives, tags,
    // anchors or aliases) that libfyaml builds, each fits, at worst in the conservative form.
    // (The warning names the variable, so the name itself may hold those words: it is left out.)
    if (nul == std::string_view::npos && before != nullptr && !has_unprintable(doc) &&
        doc.find_first_of("\t%!&*") == std::string_view::npos) {
      std::string rest = w;
      for (auto at = name.empty() ? std::string::npos : rest.find(name); at != std::string::npos;
           at = rest.find(name, at))
        rest.erase(at, name.size());
      check(rest.find("could not be written") == std::string::npos);
    }
  }
  if (out.replaced > 0) {
    const auto again = replace_yaml(out.text, none);
    check(again.parsed);
    // A quoted string scalar that was replaced reads back as the value (ASCII values: libfyaml's own
    // decoding of some characters differs between versions).
    bool simple_path = !name.empty();
    for (const char c : name)
      simple_path = simple_path &&
                    ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
    if (before != nullptr && target != nullptr && simple_path && !(mode & 0x80U) && value &&
        !has_unprintable(*value) && fy_node_get_type(target->node) == FYNT_SCALAR &&
        fy_node_get_style(target->node) == FYNS_DOUBLE_QUOTED) {
      if (fy_document* after = build(out.text)) {
        fy_node* n = fy_node_by_path(fy_document_root(after), ("/" + name).c_str(), FY_NT, FYNWF_DONT_FOLLOW);
        if (n != nullptr && fy_node_get_type(n) == FYNT_SCALAR) check(scalar_text(n) == *value);
        fy_document_destroy(after);
      }
    }
  }
  if (before != nullptr) fy_document_destroy(before);
  return 0;
}
