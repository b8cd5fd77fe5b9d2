// Script languages: recognising them by file extension or by name, and which of them this build supports.
// Tested by tests/bootstrappers/bootstrap_test.cpp

#include <array>
#include <cstddef>
#include <utility>

#include "cuttle/bootstrappers/bootstrap.hpp"

namespace cuttle::bootstrappers {
namespace {

// ASCII-only case folding: extensions and language names are ASCII, and other bytes never match.
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

constexpr std::array<std::pair<std::string_view, language>, 5> extensions{{
    {".sh", language::bash},
    {".py", language::python},
    {".csx", language::csharp},
    {".fsx", language::fsharp},
    {".ps1", language::powershell},
}};

constexpr std::array<std::pair<std::string_view, language>, 13> names{{
    {"bash", language::bash},
    {"sh", language::bash},
    {"python", language::python},
    {"py", language::python},
    {"csharp", language::csharp},
    {"cs", language::csharp},
    {"csx", language::csharp},
    {"fsharp", language::fsharp},
    {"fs", language::fsharp},
    {"fsx", language::fsharp},
    {"powershell", language::powershell},
    {"ps1", language::powershell},
    {"pwsh", language::powershell},
}};

}  // namespace

std::optional<language> language_from_path(std::string_view path) {
  // Only the last path component counts: "dir.sh/script" has no extension.
  const auto slash = path.find_last_of('/');
  const auto base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const auto dot = base.find_last_of('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;  // ".sh" alone is a hidden file
  const auto ext = base.substr(dot);
  for (const auto& [e, l] : extensions) {
    if (iequals(ext, e)) return l;
  }
  return std::nullopt;
}

std::optional<language> language_from_name(std::string_view name) {
  for (const auto& [n, l] : names) {
    if (iequals(name, n)) return l;
  }
  return std::nullopt;
}

std::string_view language_name(language l) {
  switch (l) {
    case language::bash:
      return "bash";
    case language::python:
      return "python";
    case language::csharp:
      return "csharp";
    case language::fsharp:
      return "fsharp";
    case language::powershell:
      return "powershell";
  }
  return "unknown";
}

bool is_supported(language l) { return !preamble(l).empty(); }

}  // namespace cuttle::bootstrappers
