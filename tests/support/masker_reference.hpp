// A naive reference masker for tests and the masker fuzzer: mark every occurrence of every pattern, then
// replace each run of marked bytes with one replacement (the masker's documented output rule).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/engine/masker.hpp"

namespace cuttle::test {

/// Every pattern the masker looks for: all forms of all its secrets.
inline std::vector<std::string> all_forms(const engine::masker& m) {
  std::vector<std::string> patterns;
  for (const auto& s : m.secrets()) {
    const auto f = engine::masker::forms(s, m.options());
    patterns.insert(patterns.end(), f.begin(), f.end());
  }
  return patterns;
}

/// Marks every occurrence of `patterns` that starts at or after `from`.
inline void mark(std::string_view text, const std::vector<std::string>& patterns, std::vector<bool>& marked,
                 std::size_t from = 0) {
  for (const auto& p : patterns) {
    if (p.empty()) continue;
    for (auto at = text.find(p, from); at != std::string_view::npos; at = text.find(p, at + 1)) {
      std::fill(marked.begin() + static_cast<std::ptrdiff_t>(at),
                marked.begin() + static_cast<std::ptrdiff_t>(at + p.size()), true);
    }
  }
}

/// `text` with each run of marked bytes replaced by `replacement`.
inline std::string replace_runs(std::string_view text, const std::vector<bool>& marked,
                                std::string_view replacement) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!marked[i]) {
      out += text[i];
    } else if (i == 0 || !marked[i - 1]) {
      out += replacement;
    }
  }
  return out;
}

/// What the masker must make of `text` for `patterns`.
inline std::string reference_mask(std::string_view text, const std::vector<std::string>& patterns,
                                  std::string_view replacement = "********") {
  std::vector<bool> marked(text.size(), false);
  mark(text, patterns, marked);
  return replace_runs(text, marked, replacement);
}

}  // namespace cuttle::test
