// Fuzzer for the XML parts of `cuttle deploy`: replace_xml, replace_config_settings and apply_xdt. Input:
// the first byte picks the function (low two bits) and a few canned XPath variables (the other bits); the
// rest is split at the first NUL byte. replace_xml / replace_config_settings: before the NUL, one variable
// per line ("name=value", or "name" for a null value), after it the document (no NUL: the whole rest is the
// document). apply_xdt: target before the NUL, transform after it. Checks: a parse failure has an error and
// no text; a document nothing matched comes back unchanged; an edited or transformed document parses again;
// warnings never contain a value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/runner/deploy/structured_config.hpp"
#include "cuttle/runner/deploy/xml_config.hpp"

namespace {

namespace cd = cuttle::runner::deploy;

constexpr std::string_view secret = "s3cr3t-VALUE";

// XPath names that touch every kind of node, so that random documents get edited too.
constexpr std::string_view canned[] = {
    "//*",     "//@*",        "//text()",     "//comment()", "//processing-instruction()",
    "/*/*[1]", "//*[not(*)]", "/*/@*[last()]"};

std::vector<cd::structured_variable> parse_variables(std::string_view spec, unsigned picks) {
  std::vector<cd::structured_variable> vars;
  while (!spec.empty() && vars.size() < 16) {
    const std::size_t nl = spec.find('\n');
    const std::string_view line = spec.substr(0, nl);
    spec = nl == std::string_view::npos ? std::string_view() : spec.substr(nl + 1);
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      vars.push_back({std::string(line), std::nullopt});
    } else {
      vars.push_back({std::string(line.substr(0, eq)), std::string(line.substr(eq + 1))});
    }
  }
  for (std::size_t k = 0; k < std::size(canned); ++k) {
    if ((picks >> k) & 1U) vars.push_back({std::string(canned[k]), k % 2 == 0 ? "<x a='1'>t</x>" : "plain"});
  }
  vars.push_back({"//*[@key='secret']", std::string(secret)});
  vars.push_back({"secret", std::string(secret)});
  return vars;
}

bool parses(const std::string& text) {
  return cd::replace_xml(text, std::vector<cd::structured_variable>{}).parsed;
}

void check_warnings(const std::vector<std::string>& warnings, std::string_view doc,
                    const std::vector<cd::structured_variable>& vars) {
  if (doc.find(secret) != std::string_view::npos) return;
  for (const auto& w : warnings) {
    if (w.find(secret) == std::string::npos) continue;
    // Only a variable's name may bring the marker in.
    bool named = false;
    for (const auto& v : vars) named = named || v.name.find(secret) != std::string::npos;
    if (!named) std::abort();
  }
}

void check_replace(const cd::replace_outcome& out, std::string_view doc,
                   const std::vector<cd::structured_variable>& vars) {
  if (!out.parsed) {
    if (out.error.empty() || !out.text.empty()) std::abort();
    return;
  }
  if (out.replaced == 0 && out.text != doc) std::abort();
  if (out.replaced > 0 && !parses(out.text)) std::abort();
  check_warnings(out.warnings, doc, vars);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 16 * 1024) return 0;
  const unsigned mode = data[0] & 3U;
  const unsigned picks = data[0] >> 2U;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t nul = input.find('\0');
  const std::string_view before = nul == std::string_view::npos ? std::string_view() : input.substr(0, nul);
  const std::string_view after = nul == std::string_view::npos ? input : input.substr(nul + 1);

  if (mode == 2) {
    const cd::xdt_outcome out = cd::apply_xdt(before, after);
    if (!out.ok) {
      if (!(out.error.starts_with("target, ") || out.error.starts_with("transform, "))) std::abort();
      if (!out.text.empty()) std::abort();
      return 0;
    }
    if (out.applied == 0 && out.text != before) std::abort();
    if (!parses(out.text)) std::abort();
    return 0;
  }
  const auto vars = parse_variables(before, picks);
  if (mode == 1) {
    check_replace(cd::replace_config_settings(after, vars), after, vars);
  } else {
    check_replace(cd::replace_xml(after, vars), after, vars);
  }
  return 0;
}
