// Built-in filters, hash family: behaviour from shared/reference/octostache-spec.md §9 beyond the
// conformance vectors, and cuttle's diagnostics for bad input.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"

namespace cuttle::test {
namespace {

/// Renders `#{V | <filters>}` with V = `value`.
eng::render_result run_filter(std::string_view value, std::string_view filters) {
  return render("#{V | " + std::string(filters) + "}", make_variables({{"V", std::string(value)}}));
}

/// Predicate: the token was echoed and reported as E004.
::testing::AssertionResult echoed(const eng::render_result& r, std::string_view token) {
  if (!r.output || *r.output != token) {
    return ::testing::AssertionFailure() << "expected the echo " << token << "\nactual:" << describe(r);
  }
  return has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed, "");
}

TEST(hash_filters, every_algorithm_gives_lower_case_hex_of_the_whole_digest) {
  EXPECT_TRUE(clean_output_is(run_filter("abc", "Md5"), "900150983cd24fb0d6963f7d28e17f72"));
  EXPECT_TRUE(clean_output_is(run_filter("abc", "Sha1"), "a9993e364706816aba3e25717850c26c9cd0d89d"));
  EXPECT_TRUE(clean_output_is(run_filter("abc", "Sha256"),
                              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  EXPECT_TRUE(
      clean_output_is(run_filter("abc", "Sha384"),
                      "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358ba"
                      "eca134c825a7"));
  EXPECT_TRUE(clean_output_is(run_filter("abc", "sha512 4"), "ddaf35a1"));
}

TEST(hash_filters, utf8_is_the_default_and_unicode_hashes_utf16le) {
  EXPECT_TRUE(clean_output_is(run_filter("\xC3\xA9", "Md5"), "66ddcd97cfdeabb2f6fb8a999b4bc76f"));
  EXPECT_TRUE(clean_output_is(run_filter("\xC3\xA9", "Md5 UTF-8"), "66ddcd97cfdeabb2f6fb8a999b4bc76f"));
  // U+1F600 is the surrogate pair 3D D8 00 DE.
  EXPECT_TRUE(clean_output_is(run_filter("\xF0\x9F\x98\x80", "Sha1 Unicode"),
                              "bd4b6549a78e142a44eb9a0a512f83a787e96967"));
}

TEST(hash_filters, base64_input_is_decoded_first_and_may_contain_whitespace) {
  // AP8= is the two bytes 00 FF.
  EXPECT_TRUE(clean_output_is(run_filter("AP8=", "Md5 BASE64"), "d07d34efac6328007ad67c7e0a985e00"));
  EXPECT_TRUE(clean_output_is(run_filter(" AP\n8= ", "Md5 base64 2"), "d07d"));
}

TEST(hash_filters, size_is_a_dotnet_int_in_bytes) {
  EXPECT_TRUE(clean_output_is(run_filter("abc", "Sha1 1"), "a9"));
  EXPECT_TRUE(clean_output_is(run_filter("abc", "Sha1 \"+2\""), "a999"));
  EXPECT_TRUE(clean_output_is(run_filter("abc", "Sha1 \" 2 \""), "a999"));
  EXPECT_TRUE(clean_output_is(run_filter("abc", "Sha1 0003"), "a9993e"));
  EXPECT_TRUE(clean_output_is(run_filter("abc", "Md5 2147483647"), "900150983cd24fb0d6963f7d28e17f72"));
}

TEST(hash_filters, invalid_options_echo_the_token) {
  EXPECT_TRUE(echoed(run_filter("abc", "Md5 0"), "#{V | Md5 \"0\"}"));
  EXPECT_TRUE(echoed(run_filter("abc", "Md5 -3"), "#{V | Md5 \"-3\"}"));
  EXPECT_TRUE(echoed(run_filter("abc", "Md5 2147483648"), "#{V | Md5 \"2147483648\"}"));  // not an int
  EXPECT_TRUE(echoed(run_filter("abc", "Md5 \"1.5\""), "#{V | Md5 \"1.5\"}"));
  EXPECT_TRUE(echoed(run_filter("abc", "Md5 ascii"), "#{V | Md5 \"ascii\"}"));
  EXPECT_TRUE(echoed(run_filter("abc", "Md5 4 4"), "#{V | Md5 \"4\" \"4\"}"));
  EXPECT_TRUE(echoed(run_filter("abc", "Md5 utf8 unicode"), "#{V | Md5 \"utf8\" \"unicode\"}"));
  EXPECT_TRUE(echoed(run_filter("abc", "Md5 utf8 4 4"), "#{V | Md5 \"utf8\" \"4\" \"4\"}"));
  EXPECT_TRUE(output_is(render("#{Missing | Sha256}"), "#{Missing | Sha256}"));
}

TEST(hash_filters, base64_that_does_not_decode_is_reported_with_its_position) {
  const auto r = render("x\n\n   #{V | Sha256 base64}", make_variables({{"V", "abc"}}));
  ASSERT_TRUE(output_is(r, "x\n\n   #{V | Sha256 \"base64\"}"));
  const auto* d = find_diagnostic(r.diagnostics, eng::error_code::filter_failed);
  ASSERT_NE(d, nullptr) << describe(r);
  EXPECT_EQ(d->line, 3U);
  EXPECT_EQ(d->column, 4U);
  EXPECT_EQ(d->fragment, "#{V | Sha256 \"base64\"}");
  EXPECT_NE(d->message.find("input is not valid base64: length 3 is not a multiple of 4"), std::string::npos)
      << d->message;
}

TEST(hash_filters, chains_with_other_filters) {
  EXPECT_TRUE(
      clean_output_is(run_filter("abc", "ToBase64 | Md5 base64"), "900150983cd24fb0d6963f7d28e17f72"));
  EXPECT_TRUE(clean_output_is(run_filter("abc", "Md5 2 | ToUpper"), "9001"));
}

}  // namespace
}  // namespace cuttle::test
