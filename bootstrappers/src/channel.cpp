// The variables channel payload: every variable's effective value, sorted by name, in the NUL-separated
// format of docs/scripts.md ("CUTTLE1\0" then `name \0 value \0` per variable).
// Tested by tests/bootstrappers/bootstrap_test.cpp
//
// Sorting by bytes lets the Bash preamble binary-search the payload with `[[ a < b ]]` under LC_ALL=C
// instead of building a table; Python turns it into a dict with one split. NUL is the separator, so a
// name or value holding NUL cannot be carried, and the whole payload is refused rather than truncated.

#include <algorithm>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/bootstrappers/bootstrap.hpp"

namespace cuttle::bootstrappers {
namespace {

constexpr std::string_view magic{"CUTTLE1\0", 8};

// The name as an error message shows it: NUL and other control bytes written as \xHH so the message
// stays one readable line.
std::string printable(std::string_view name) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace

encoded_variables encode_variables(const engine::variables& vars) {
  struct entry {
    std::string_view name;
    std::string_view value;
  };
  std::vector<entry> entries;
  entries.reserve(vars.size());
  std::deque<std::string> evaluated;  // stable storage for values that had to be evaluated
  std::size_t total = magic.size();
  for (const auto& v : vars.entries()) {
    std::string_view value;
    // A value without "#{" evaluates to itself, so only templates pay for evaluation. Scripts see the
    // effective (evaluated) value, as Calamari hands them `variables.Get(name)`.
    if (v.value && v.value->find("#{") != std::string::npos) {
      value = evaluated.emplace_back(vars.get(v.name).value_or(std::string()));
    } else if (v.value) {
      value = *v.value;
    }
    if (v.name.find('\0') != std::string::npos) {
      return {{},
              "variable name '" + printable(v.name) +
                  "' contains a NUL character, which cannot be passed to a script"};
    }
    if (value.find('\0') != std::string_view::npos) {
      return {{},
              "the value of variable '" + printable(v.name) +
                  "' contains a NUL character, which cannot be passed to a script"};
    }
    entries.push_back({v.name, value});
    total += v.name.size() + value.size() + 2;
  }
  // std::string_view compares as unsigned bytes (char_traits<char>::compare is memcmp), the same order as
  // strcmp in the C locale that the Bash lookup uses.
  // The names are unique (see below), so an unstable sort gives the same order, faster.
  std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) { return a.name < b.name; });
  // The dictionary's names are unique ignoring case, so they are unique as bytes; keep the last one anyway
  // should two ever compare equal, so every name appears once.
  encoded_variables out;
  out.data.reserve(total);
  out.data.append(magic);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i + 1 < entries.size() && entries[i + 1].name == entries[i].name) continue;
    out.data.append(entries[i].name);
    out.data.push_back('\0');
    out.data.append(entries[i].value);
    out.data.push_back('\0');
  }
  return out;
}

}  // namespace cuttle::bootstrappers
