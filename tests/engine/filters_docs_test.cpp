// docs/filters.md stays true: every ```example block in it is rendered with a fixed clock and compared with
// its expected output, and every Octostache filter name must have a `### Name` heading and an example.
// Example block: line 1 = variables JSON; template lines; "=> " then the expected output (may span lines).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"
#include "filter_names.hpp"

namespace {

namespace eng = cuttle::engine;
using cuttle::test::describe;
using namespace std::chrono_literals;

constexpr std::string_view doc_path = CUTTLE_FILTERS_DOC;

using cuttle::test::octostache_filter_names;

struct example {
  int line = 0;  // 1-based line of the opening fence in docs/filters.md
  std::string variables_json;
  std::string template_text;
  std::string expected;
  std::string problem;  // non-empty when the block is malformed
};

std::vector<std::string> read_lines() {
  std::ifstream in{std::string(doc_path), std::ios::binary};
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

const std::vector<std::string>& doc_lines() {
  static const std::vector<std::string> lines = read_lines();
  return lines;
}

std::string join(const std::vector<std::string>& lines, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) {
    if (i > from) out += '\n';
    out += lines[i];
  }
  return out;
}

// Splits the lines between "```example" and "```" into variables, template and expected output.
example parse_block(const std::vector<std::string>& body, int fence_line) {
  example ex;
  ex.line = fence_line;
  if (body.empty()) {
    ex.problem = "empty example block";
    return ex;
  }
  ex.variables_json = body[0];
  std::size_t arrow = 1;
  while (arrow < body.size() && !body[arrow].starts_with("=> ")) ++arrow;
  if (arrow == body.size()) {
    ex.problem = "no line starting with \"=> \"";
    return ex;
  }
  if (arrow == 1) {
    ex.problem = "no template line";
    return ex;
  }
  ex.template_text = join(body, 1, arrow);
  std::vector<std::string> expected(body.begin() + static_cast<std::ptrdiff_t>(arrow), body.end());
  expected[0].erase(0, 3);
  ex.expected = join(expected, 0, expected.size());
  return ex;
}

std::vector<example> extract_examples() {
  const auto& lines = doc_lines();
  std::vector<example> out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] != "```example") continue;
    const int fence_line = static_cast<int>(i) + 1;
    std::vector<std::string> body;
    std::size_t j = i + 1;
    while (j < lines.size() && lines[j] != "```") body.push_back(lines[j++]);
    if (j == lines.size()) {
      example ex;
      ex.line = fence_line;
      ex.problem = "example block is not closed";
      out.push_back(ex);
      break;
    }
    out.push_back(parse_block(body, fence_line));
    i = j;
  }
  return out;
}

// Now is 2030-05-22T09:05:00Z and local time is UTC+10:00, as docs/filters.md says.
eng::render_options doc_clock() {
  eng::render_options ropts;
  ropts.clock.now = [] {
    return std::chrono::system_clock::time_point(std::chrono::sys_days(std::chrono::year(2030) / 5 / 22) +
                                                 9h + 5min);
  };
  ropts.clock.local_offset = [](std::chrono::system_clock::time_point) -> std::chrono::seconds {
    return 10h;
  };
  return ropts;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

// True when `text` applies the filter `name`: "|", optional spaces, then the name not followed by a name
// character (case-insensitive, as filter names are).
bool uses_filter(std::string_view text, std::string_view name) {
  const std::string t = lower(text);
  const std::string n = lower(name);
  for (std::size_t bar = t.find('|'); bar != std::string::npos; bar = t.find('|', bar + 1)) {
    std::size_t p = bar + 1;
    while (p < t.size() && (t[p] == ' ' || t[p] == '\t')) ++p;
    if (t.compare(p, n.size(), n) != 0) continue;
    const std::size_t after = p + n.size();
    const bool name_char =
        after < t.size() && ((t[after] >= 'a' && t[after] <= 'z') || (t[after] >= '0' && t[after] <= '9'));
    if (!name_char) return true;
  }
  return false;
}

TEST(filters_docs, the_document_is_there) {
  ASSERT_FALSE(doc_lines().empty()) << "cannot read " << doc_path;
  EXPECT_GE(extract_examples().size(), octostache_filter_names.size());
}

TEST(filters_docs, every_example_renders_as_documented) {
  const auto examples = extract_examples();
  ASSERT_FALSE(examples.empty()) << "no ```example blocks in " << doc_path;
  const eng::render_options ropts = doc_clock();
  for (const auto& ex : examples) {
    const std::string where = std::string(doc_path) + ":" + std::to_string(ex.line) + ": ";
    SCOPED_TRACE(where);
    if (!ex.problem.empty()) {
      ADD_FAILURE() << where << ex.problem;
      continue;
    }
    eng::variables vars;
    const auto loaded = eng::load_variables_json(ex.variables_json, "example", vars);
    if (!loaded.ok()) {
      ADD_FAILURE() << where << "bad variables JSON: " << ex.variables_json;
      continue;
    }
    eng::parse_options popts;
    popts.source_name = "example";
    const auto result = eng::evaluate(ex.template_text, vars, popts, ropts);
    if (!result.output) {
      ADD_FAILURE() << where << "no output for template: " << ex.template_text << describe(result);
      continue;
    }
    EXPECT_EQ(*result.output, ex.expected) << where << "template: " << ex.template_text << describe(result);
  }
}

TEST(filters_docs, every_octostache_filter_has_a_heading_and_an_example) {
  const auto& lines = doc_lines();
  const auto examples = extract_examples();
  for (const auto name : octostache_filter_names) {
    SCOPED_TRACE(std::string(name));
    const std::string heading = "### " + std::string(name);
    const bool has_heading = std::find(lines.begin(), lines.end(), heading) != lines.end();
    EXPECT_TRUE(has_heading) << doc_path << " has no line \"" << heading << "\"";
    const bool has_example = std::any_of(examples.begin(), examples.end(), [&](const example& ex) {
      return uses_filter(ex.template_text, name);
    });
    EXPECT_TRUE(has_example) << doc_path << " has no ```example that uses the filter " << name;
  }
}

TEST(filters_docs, the_name_list_matches_the_engine) {
  // A name the engine does not know would make the heading check meaningless: each must resolve (render
  // without E003) when applied to a value.
  eng::variables vars;
  vars.set("V", std::string("1.2.3"));
  for (const auto name : octostache_filter_names) {
    const auto result = eng::evaluate("#{V | " + std::string(name) + "}", vars);
    EXPECT_EQ(cuttle::test::find_diagnostic(result.diagnostics, eng::error_code::unknown_filter), nullptr)
        << name << describe(result);
  }
}

}  // namespace
