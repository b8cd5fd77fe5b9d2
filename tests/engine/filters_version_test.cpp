// Built-in filters, version family: behaviour from shared/reference/octostache-spec.md §9 beyond the
// conformance vectors, and cuttle's diagnostics for bad input.
#include <gtest/gtest.h>

#include <string>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"

namespace {

using cuttle::test::clean_output_is;
using cuttle::test::has_diagnostic_mentioning;
using cuttle::test::make_variables;
using cuttle::test::output_is;
using cuttle::test::render;
namespace eng = cuttle::engine;

/// All eight parts of `version`, joined with '|'.
std::string all_parts(const std::string& version) {
  return *render(
              "#{V | VersionMajor}.#{V | VersionMinor}.#{V | VersionPatch}.#{V | VersionRevision}|"
              "#{V | VersionPreRelease}|#{V | VersionPreReleasePrefix}|#{V | VersionPreReleaseCounter}|"
              "#{V | VersionMetadata}",
              make_variables({{"V", version}}))
              .output;
}

TEST(filters_version, spec_examples) {
  EXPECT_EQ(all_parts("1"), "1.0.0.0||||");
  EXPECT_EQ(all_parts("1.2.3.4-branch.1+meta"), "1.2.3.4|branch.1|branch|1|meta");
  EXPECT_EQ(all_parts("V1.2.3.4-branch_hithere+meta"), "1.2.3.4|branch_hithere|branch|hithere|meta");
  EXPECT_EQ(all_parts("19.0.0.Final"), "19.0.0.0|Final|Final||");
  EXPECT_EQ(all_parts("284.0.0-debian_component_based"),
            "284.0.0.0|debian_component_based|debian|component_based|");
  EXPECT_EQ(all_parts("latest"), "0.0.0.0|latest|latest||");
}

TEST(filters_version, whitespace_is_tolerated_around_numbers) {
  EXPECT_EQ(all_parts("  1 . 2 .3  "), "1.2.3.0||||");
  EXPECT_EQ(all_parts("v 7"), "7.0.0.0||||");
  EXPECT_EQ(all_parts("1.2-beta.3 "), "1.2.0.0|beta.3|beta|3|");
  EXPECT_EQ(all_parts("\t2.0+build\n"), "2.0.0.0||||build");
}

TEST(filters_version, separators_and_shortest_prefix) {
  // The prefix stops at the first separator; the counter takes the rest, separators included.
  EXPECT_EQ(all_parts("1.0.0-alpha.beta.1"), "1.0.0.0|alpha.beta.1|alpha|beta.1|");
  EXPECT_EQ(all_parts("1.0.0\\rc\\2"), "1.0.0.0|rc\\2|rc|2|");
  // A fifth number is a prerelease.
  EXPECT_EQ(all_parts("1.2.3.4.5"), "1.2.3.4|5|5||");
  // Only the leading separator: an empty prerelease.
  EXPECT_EQ(all_parts("1-"), "1.0.0.0||||");
  EXPECT_EQ(all_parts("1.0--x"), "1.0.0.0|-x||x|");
  // Metadata may hold '+' and separators.
  EXPECT_EQ(all_parts("1+a.b+c_d"), "1.0.0.0||||a.b+c_d");
  // A number must end at a word boundary, or the whole text is a prerelease.
  EXPECT_EQ(all_parts("12abc"), "0.0.0.0|12abc|12abc||");
  EXPECT_EQ(all_parts("1.2a"), "1.0.0.0|2a|2a||");
  EXPECT_EQ(all_parts("v"), "0.0.0.0|v|v||");
  EXPECT_EQ(all_parts("007.010"), "7.10.0.0||||");
}

TEST(filters_version, int32_limits) {
  EXPECT_EQ(all_parts("2147483647.0"), "2147483647.0.0.0||||");
  const auto r = render("#{V | VersionMajor}", make_variables({{"V", "1.99999999999"}}));
  EXPECT_TRUE(output_is(r, "#{V | VersionMajor}"));
  EXPECT_TRUE(has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed,
                                        "version number 99999999999 is too large"));
}

TEST(filters_version, unparseable_input_is_reported_and_echoed) {
  const auto r = render("x\n  #{V | VersionPatch}", make_variables({{"V", "abc def"}}));
  EXPECT_TRUE(output_is(r, "x\n  #{V | VersionPatch}"));
  EXPECT_TRUE(
      has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed, "'abc def' is not a version"));
  const auto* d = cuttle::test::find_diagnostic(r.diagnostics, eng::error_code::filter_failed);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->line, 2u);
  EXPECT_EQ(d->column, 3u);
  for (const char* bad : {"", "   ", "1.2.3!", "1.2.3-beta gamma", "1.2.3+meta data", "1é"}) {
    const auto rb = render("#{V | VersionMajor}", make_variables({{"V", bad}}));
    EXPECT_TRUE(output_is(rb, "#{V | VersionMajor}")) << bad;
    EXPECT_TRUE(has_diagnostic_mentioning(rb.diagnostics, eng::error_code::filter_failed, "not a version"))
        << bad;
  }
}

TEST(filters_version, null_input_and_options) {
  // Missing input: no value and no filter failure.
  const auto r = render("#{Missing | VersionMajor}");
  EXPECT_TRUE(output_is(r, "#{Missing | VersionMajor}"));
  EXPECT_EQ(cuttle::test::find_diagnostic(r.diagnostics, eng::error_code::filter_failed), nullptr);
  // Options are ignored.
  EXPECT_TRUE(clean_output_is(render("#{V | VersionMinor x y}", make_variables({{"V", "3.4"}})), "4"));
}

}  // namespace
