// Built-in filters, markdown family: behaviour from shared/reference/octostache-spec.md §9 beyond the
// conformance vectors, and cuttle's diagnostics for bad input.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"

namespace {

using cuttle::test::clean_output_is;
using cuttle::test::make_variables;
using cuttle::test::output_is;
using cuttle::test::render;

/// Renders `#{M | Markdown}` with M = `markdown`.
cuttle::engine::render_result md(const std::string& markdown) {
  return render("#{M | Markdown}", make_variables({{"M", markdown}}));
}

TEST(filters_markdown, paragraph_gets_an_extra_newline) {
  EXPECT_TRUE(clean_output_is(md("_yeah!_"), "<p><em>yeah!</em></p>\n\n"));
  EXPECT_TRUE(clean_output_is(render("#{M | MarkdownToHtml}", make_variables({{"M", "**b**"}})),
                              "<p><strong>b</strong></p>\n\n"));
}

TEST(filters_markdown, input_is_trimmed) {
  // Without the trim, four leading spaces would make a code block.
  EXPECT_TRUE(clean_output_is(md("    # Title  \n\n"), "<h1>Title</h1>\n\n"));
  EXPECT_TRUE(clean_output_is(md(""), "\n"));
}

TEST(filters_markdown, autolinks_and_links) {
  EXPECT_TRUE(clean_output_is(md("https://octopus.com"),
                              "<p><a href=\"https://octopus.com\">https://octopus.com</a></p>\n\n"));
  EXPECT_TRUE(clean_output_is(md("see www.octopus.com now"),
                              "<p>see <a href=\"http://www.octopus.com\">www.octopus.com</a> now</p>\n\n"));
  EXPECT_TRUE(clean_output_is(md("[Some link](https://octopus.com)"),
                              "<p><a href=\"https://octopus.com\">Some link</a></p>\n\n"));
}

TEST(filters_markdown, pipe_tables) {
  EXPECT_TRUE(
      clean_output_is(md("|Header1|Header2|\n|-|-|\n|Cell1|Cell2|"),
                      "<table>\n<thead>\n<tr>\n<th>Header1</th>\n<th>Header2</th>\n</tr>\n</thead>\n"
                      "<tbody>\n<tr>\n<td>Cell1</td>\n<td>Cell2</td>\n</tr>\n</tbody>\n</table>\n\n"));
  // Alignment is written the Markdig way.
  EXPECT_TRUE(clean_output_is(md("|a|b|c|\n|:-|:-:|-:|\n|1|2|3|"),
                              "<table>\n<thead>\n<tr>\n<th style=\"text-align: left;\">a</th>\n"
                              "<th style=\"text-align: center;\">b</th>\n"
                              "<th style=\"text-align: right;\">c</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n"
                              "<td style=\"text-align: left;\">1</td>\n"
                              "<td style=\"text-align: center;\">2</td>\n"
                              "<td style=\"text-align: right;\">3</td>\n</tr>\n</tbody>\n</table>\n\n"));
}

TEST(filters_markdown, emphasis_extras) {
  EXPECT_TRUE(clean_output_is(md("~~gone~~"), "<p><del>gone</del></p>\n\n"));
  EXPECT_TRUE(clean_output_is(md("H~2~O"), "<p>H<sub>2</sub>O</p>\n\n"));
  EXPECT_TRUE(clean_output_is(md("2^10^"), "<p>2<sup>10</sup></p>\n\n"));
  EXPECT_TRUE(clean_output_is(md("++new++"), "<p><ins>new</ins></p>\n\n"));
  EXPECT_TRUE(clean_output_is(md("==hot=="), "<p><mark>hot</mark></p>\n\n"));
  EXPECT_TRUE(clean_output_is(md("~~a *b* c~~"), "<p><del>a <em>b</em> c</del></p>\n\n"));
  // Runs of the wrong length stay text.
  EXPECT_TRUE(clean_output_is(md("a + b = c, x +y+ z =w="), "<p>a + b = c, x +y+ z =w=</p>\n\n"));
  EXPECT_TRUE(clean_output_is(md("~x"), "<p>~x</p>\n\n"));
}

TEST(filters_markdown, emphasis_extras_in_table_cells) {
  // Found by fuzz/filter_fuzzer: table cells refuse cmark's custom inline nodes, and the text between the
  // delimiters was lost (and leaked). Markdig applies the extras inside cells like anywhere else.
  EXPECT_TRUE(clean_output_is(md("|H~2~O|\n|-|\n|~~a ==b== c~~|"),
                              "<table>\n<thead>\n<tr>\n<th>H<sub>2</sub>O</th>\n</tr>\n</thead>\n<tbody>\n"
                              "<tr>\n<td><del>a <mark>b</mark> c</del></td>\n</tr>\n</tbody>\n</table>\n\n"));
  EXPECT_TRUE(
      clean_output_is(md("|a|\n|-|\n|x *^y^* ++z++|"),
                      "<table>\n<thead>\n<tr>\n<th>a</th>\n</tr>\n</thead>\n<tbody>\n"
                      "<tr>\n<td>x <em><sup>y</sup></em> <ins>z</ins></td>\n</tr>\n</tbody>\n</table>\n\n"));
}

TEST(filters_markdown, raw_html_passes_through) {
  EXPECT_TRUE(clean_output_is(md("<div align=\"left\">x</div>"), "<div align=\"left\">x</div>\n\n"));
  EXPECT_TRUE(clean_output_is(md("a <b>c</b> & d"), "<p>a <b>c</b> &amp; d</p>\n\n"));
}

TEST(filters_markdown, options_or_missing_input_give_no_value) {
  EXPECT_TRUE(output_is(render("#{M | Markdown x}", make_variables({{"M", "a"}})), "#{M | Markdown \"x\"}"));
  EXPECT_TRUE(output_is(render("#{Missing | Markdown}"), "#{Missing | Markdown}"));
}

TEST(filters_markdown, concurrent_renders_agree) {
  const std::string expected =
      "<p>H<sub>2</sub>O and <del>x</del> and <a href=\"https://a.b\">https://a.b</a></p>\n\n";
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures, &expected] {
      for (int i = 0; i < 50; ++i) {
        const auto r = md("H~2~O and ~~x~~ and https://a.b");
        if (!r.output || *r.output != expected) ++failures[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
