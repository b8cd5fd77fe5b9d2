// Launch plans and preambles: dispatches to the language files, and collects the script modules
// (`Octopus.Script.Module[Name]` with `Octopus.Script.Module.Language[Name]`) that every language writes
// beside its bootstrap.
// Tested by tests/bootstrappers/bootstrap_test.cpp

#include <set>
#include <string>

#include "cuttle/bootstrappers/bootstrap.hpp"
#include "languages.hpp"

namespace cuttle::bootstrappers {
namespace detail {
namespace {

bool ascii_iprefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    auto p = static_cast<unsigned char>(prefix[i]);
    if (p >= 'A' && p <= 'Z') p = static_cast<unsigned char>(p - 'A' + 'a');
    if (c != p) return false;
  }
  return true;
}

// Calamari keeps letters, digits and '_' of the module name for its file name; we keep the ASCII ones so
// the stem is always a valid Python module name and a plain Bash word.
std::string file_stem(std::string_view name) {
  std::string out;
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') out += ch;
  }
  return out;
}

}  // namespace

std::vector<script_module> script_modules(const engine::variables& vars, language l) {
  static constexpr std::string_view prefix = "Octopus.Script.Module[";
  std::vector<script_module> out;
  std::set<std::string> stems;
  for (const auto& v : vars.entries()) {
    if (!ascii_iprefix(v.name, prefix) || v.name.back() != ']') continue;
    const std::string_view name =
        std::string_view(v.name).substr(prefix.size(), v.name.size() - prefix.size() - 1);
    // A module without a language is PowerShell, as in Calamari.
    const auto lang_text = vars.get("Octopus.Script.Module.Language[" + std::string(name) + "]");
    const auto lang =
        lang_text ? language_from_name(*lang_text) : std::optional<language>(language::powershell);
    if (lang != l) continue;
    auto stem = file_stem(name);
    if (stem.empty() || !stems.insert(stem).second) continue;
    out.push_back({std::move(stem), vars.get(v.name).value_or(std::string())});
  }
  return out;
}

}  // namespace detail

namespace {

launch_plan plan_of(language l, const std::string& script, const std::vector<std::string>& args,
                    const engine::variables& vars) {
  switch (l) {
    case language::bash:
      return detail::bash_plan(script, args, vars);
    case language::python:
      return detail::python_plan(script, args, vars);
    case language::csharp:
      return detail::csharp_plan(script, args, vars);
    case language::fsharp:
      return detail::fsharp_plan(script, args, vars);
    case language::powershell:
      return detail::powershell_plan(script, args, vars);
  }
  return {};
}

}  // namespace

launch_plan plan_launch(language l, const std::string& script, const std::vector<std::string>& args,
                        const engine::variables& vars) {
  auto plan = plan_of(l, script, args, vars);
  // Every plan ends with the script's path, then (perhaps after a separator) its arguments.
  std::size_t k = plan.argv.size() >= args.size() ? plan.argv.size() - args.size() : 0;
  while (k > 0 && plan.argv[k - 1] != script) --k;
  plan.verbatim_from = k > 0 ? k - 1 : plan.argv.size();
  return plan;
}

std::string inherited_placeholder(std::string_view name) { return "{fd:" + std::string(name) + "}"; }

std::string preamble(language l) {
  switch (l) {
    case language::bash:
      return detail::bash_preamble();
    case language::python:
      return detail::python_preamble();
    case language::csharp:
      return detail::csharp_preamble();
    case language::fsharp:
      return detail::fsharp_preamble();
    case language::powershell:
      return detail::powershell_preamble();
  }
  return {};
}

}  // namespace cuttle::bootstrappers
