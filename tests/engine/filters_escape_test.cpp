// Built-in filters, escape family: behaviour from shared/reference/octostache-spec.md §9 beyond the
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

/// Predicate: the token was echoed, reported as E004, and no failure reason beyond "no value" was given.
::testing::AssertionResult echoed_without_reason(const eng::render_result& r, std::string_view token) {
  if (!r.output || *r.output != token) {
    return ::testing::AssertionFailure() << "expected the echo " << token << "\nactual:" << describe(r);
  }
  return has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed, "gave no value");
}

// --- ToBase64 / FromBase64 ------------------------------------------------------------------------------

TEST(base64_filters, encodes_utf8_by_default_and_utf16le_for_unicode) {
  EXPECT_TRUE(clean_output_is(run_filter("Foo Bar", "ToBase64"), "Rm9vIEJhcg=="));
  EXPECT_TRUE(clean_output_is(run_filter("\xC3\xA9", "ToBase64"), "w6k="));
  EXPECT_TRUE(clean_output_is(run_filter("\xF0\x9F\x98\x80", "ToBase64 utf8"), "8J+YgA=="));
  EXPECT_TRUE(clean_output_is(run_filter("\xF0\x9F\x98\x80", "ToBase64 UTF-8"), "8J+YgA=="));
  // The emoji is a surrogate pair in UTF-16: 3D D8 00 DE.
  EXPECT_TRUE(clean_output_is(run_filter("\xF0\x9F\x98\x80", "ToBase64 Unicode"), "PdgA3g=="));
  EXPECT_TRUE(clean_output_is(run_filter("", "ToBase64"), ""));
  EXPECT_TRUE(clean_output_is(run_filter("", "ToBase64 unicode"), ""));
}

TEST(base64_filters, to_base64_rejects_unknown_encodings_and_extra_options) {
  EXPECT_TRUE(echoed_without_reason(run_filter("x", "ToBase64 ascii"), "#{V | ToBase64 \"ascii\"}"));
  EXPECT_TRUE(
      echoed_without_reason(run_filter("x", "ToBase64 utf8 utf8"), "#{V | ToBase64 \"utf8\" \"utf8\"}"));
  EXPECT_TRUE(output_is(render("#{Missing | ToBase64}"), "#{Missing | ToBase64}"));
}

TEST(base64_filters, decodes_utf8_and_utf16le) {
  EXPECT_TRUE(clean_output_is(run_filter("QmF6", "FromBase64"), "Baz"));
  EXPECT_TRUE(clean_output_is(run_filter("QgBhAHoA", "FromBase64 unicode"), "Baz"));
  EXPECT_TRUE(clean_output_is(run_filter("PdgA3g==", "FromBase64 UNICODE"), "\xF0\x9F\x98\x80"));
  EXPECT_TRUE(clean_output_is(run_filter("", "FromBase64"), ""));
  // 00 FF: NUL is kept, 0xFF is never valid UTF-8.
  EXPECT_TRUE(clean_output_is(run_filter("AP8=", "FromBase64 utf-8"), std::string("\0\xEF\xBF\xBD", 4)));
}

TEST(base64_filters, skips_space_tab_cr_and_lf_anywhere) {
  EXPECT_TRUE(clean_output_is(run_filter(" Qm F6\r\n", "FromBase64"), "Baz"));
  EXPECT_TRUE(clean_output_is(run_filter("\tQQ\n=\n= ", "FromBase64"), "A"));
  EXPECT_TRUE(clean_output_is(run_filter(" \r\n\t", "FromBase64"), ""));
}

TEST(base64_filters, ignores_unused_bits_of_the_last_digit_like_dotnet) {
  EXPECT_TRUE(clean_output_is(run_filter("QR==", "FromBase64"), "A"));
  EXPECT_TRUE(clean_output_is(run_filter("QUI=", "FromBase64"), "AB"));
  EXPECT_TRUE(clean_output_is(run_filter("QUJ=", "FromBase64"), "AB"));
}

TEST(base64_filters, invalid_utf8_becomes_one_replacement_per_maximal_subpart) {
  // 41 E2 82 42: a truncated three-byte sequence is one U+FFFD.
  EXPECT_TRUE(clean_output_is(run_filter("QeKCQg==", "FromBase64"),
                              "A\xEF\xBF\xBD"
                              "B"));
  // 41 ED A0 80 42: an encoded surrogate is three invalid bytes.
  EXPECT_TRUE(clean_output_is(run_filter("Qe2ggEI=", "FromBase64"),
                              "A\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                              "B"));
  // 41 F0 9F 98: a truncated four-byte sequence at the end.
  EXPECT_TRUE(clean_output_is(run_filter("QfCfmA==", "FromBase64"), "A\xEF\xBF\xBD"));
}

TEST(base64_filters, invalid_utf16_becomes_replacement_characters) {
  // 00 D8 41 00: an unpaired high surrogate, then 'A'.
  EXPECT_TRUE(clean_output_is(run_filter("ANhBAA==", "FromBase64 unicode"),
                              "\xEF\xBF\xBD"
                              "A"));
  // 41 00 42: an odd trailing byte.
  EXPECT_TRUE(clean_output_is(run_filter("QQBC", "FromBase64 unicode"), "A\xEF\xBF\xBD"));
}

TEST(base64_filters, invalid_base64_is_reported_with_the_reason_and_position) {
  const auto r = render("first line\n  #{V | FromBase64}", make_variables({{"V", "QmF"}}));
  ASSERT_TRUE(output_is(r, "first line\n  #{V | FromBase64}"));
  const auto* d = find_diagnostic(r.diagnostics, eng::error_code::filter_failed);
  ASSERT_NE(d, nullptr) << describe(r);
  EXPECT_EQ(d->line, 2U);
  EXPECT_EQ(d->column, 3U);
  EXPECT_EQ(d->fragment, "#{V | FromBase64}");
  EXPECT_NE(d->message.find("not valid base64: length 3 is not a multiple of 4"), std::string::npos)
      << d->message;
}

TEST(base64_filters, rejects_what_convert_from_base64_string_rejects) {
  struct bad_case {
    const char* input;
    const char* reason;
  };
  const bad_case cases[] = {
      {"QmF6Q", "length 5 is not a multiple of 4"},
      {"Qm F6 Q", "length 5 (without whitespace) is not a multiple of 4"},
      {"Qm!6", "'!' at index 2 is not a base64 digit"},
      {"QmF6\v", "byte 0x0B at index 4 is not a base64 digit"},  // VT is not skipped
      {"Qm\xC3\xA9", "'\xC3\xA9' at index 2 is not a base64 digit"},
      {"Q===", "'=' at index 1"},
      {"====", "'=' at index 0"},
      {"QQ==QQ==", "a base64 digit follows '=' padding at index 4"},
      {"QQ=A", "a base64 digit follows '=' padding at index 3"},
      {"QQ", "length 2 is not a multiple of 4"},  // padding is required
      {"Qm-_", "'-' at index 2"},                 // no URL-safe alphabet
  };
  for (const auto& c : cases) {
    const auto r = run_filter(c.input, "FromBase64");
    EXPECT_TRUE(output_is(r, "#{V | FromBase64}")) << c.input;
    EXPECT_TRUE(has_diagnostic_mentioning(r.diagnostics, eng::error_code::filter_failed, c.reason))
        << c.input;
  }
}

TEST(base64_filters, from_base64_decodes_before_it_checks_the_encoding) {
  // Valid input, unknown encoding: an ordinary "no value".
  EXPECT_TRUE(echoed_without_reason(run_filter("QmF6", "FromBase64 ascii"), "#{V | FromBase64 \"ascii\"}"));
  // Invalid input fails whatever the encoding.
  EXPECT_TRUE(has_diagnostic_mentioning(run_filter("QmF", "FromBase64 ascii").diagnostics,
                                        eng::error_code::filter_failed, "not valid base64"));
  EXPECT_TRUE(echoed_without_reason(run_filter("QmF6", "FromBase64 utf8 utf8"),
                                    "#{V | FromBase64 \"utf8\" \"utf8\"}"));
  EXPECT_TRUE(output_is(render("#{Missing | FromBase64}"), "#{Missing | FromBase64}"));
}

TEST(base64_filters, round_trip_in_a_chain) {
  EXPECT_TRUE(
      clean_output_is(run_filter("x\"y\\z \xE6\x88\x91", "ToBase64 | FromBase64"), "x\"y\\z \xE6\x88\x91"));
  EXPECT_TRUE(clean_output_is(run_filter("x\xF0\x9F\x98\x80", "ToBase64 unicode | FromBase64 unicode"),
                              "x\xF0\x9F\x98\x80"));
}

// --- HTML, XML, JSON ----------------------------------------------------------------------------------

TEST(escape_filters, html_escape_replaces_six_characters) {
  EXPECT_TRUE(clean_output_is(run_filter("<a href=\"x\">'&'</a>", "HtmlEscape"),
                              "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;&#x2F;a&gt;"));
  EXPECT_TRUE(clean_output_is(run_filter("&amp;", "HtmlEscape"), "&amp;amp;"));  // no double-escape guard
  EXPECT_TRUE(clean_output_is(run_filter("\xC3\xA9\t\n", "HtmlEscape"), "\xC3\xA9\t\n"));
  EXPECT_TRUE(echoed_without_reason(run_filter("<", "HtmlEscape x"), "#{V | HtmlEscape \"x\"}"));
  EXPECT_TRUE(output_is(render("#{Missing | HtmlEscape}"), "#{Missing | HtmlEscape}"));
}

TEST(escape_filters, xml_escape_keeps_the_slash) {
  EXPECT_TRUE(
      clean_output_is(run_filter("<a b=\"'\"/>&", "XmlEscape"), "&lt;a b=&quot;&apos;&quot;/&gt;&amp;"));
  EXPECT_TRUE(echoed_without_reason(run_filter("<", "XmlEscape x"), "#{V | XmlEscape \"x\"}"));
}

TEST(escape_filters, json_escape_leaves_other_control_characters_slash_and_non_ascii) {
  EXPECT_TRUE(clean_output_is(run_filter("\"\\\r\n\t", "JsonEscape"), "\\\"\\\\\\r\\n\\t"));
  EXPECT_TRUE(clean_output_is(run_filter(std::string("a\x01\x08\x0C/\xC3\xA9", 7), "JsonEscape"),
                              std::string("a\x01\x08\x0C/\xC3\xA9", 7)));
  EXPECT_TRUE(echoed_without_reason(run_filter("x", "JsonEscape x"), "#{V | JsonEscape \"x\"}"));
}

// --- YAML -----------------------------------------------------------------------------------------------

TEST(escape_filters, yaml_single_quote_adds_one_break_per_run) {
  EXPECT_TRUE(clean_output_is(run_filter("a\nb", "YamlSingleQuoteEscape"), "a\n\nb"));
  EXPECT_TRUE(clean_output_is(run_filter("a\n\n\nb", "YamlSingleQuoteEscape"), "a\n\n\n\nb"));
  EXPECT_TRUE(clean_output_is(run_filter("\n", "YamlSingleQuoteEscape"), "\n\n"));
  EXPECT_TRUE(clean_output_is(run_filter("\r\n\n", "YamlSingleQuoteEscape"), "\r\n\r\n\n"));
  // A lone CR is not a run; the CRLF after it is.
  EXPECT_TRUE(clean_output_is(run_filter("a\rb", "YamlSingleQuoteEscape"), "a\rb"));
  EXPECT_TRUE(clean_output_is(run_filter("a\r\r\nb", "YamlSingleQuoteEscape"), "a\r\r\n\r\nb"));
  EXPECT_TRUE(clean_output_is(run_filter("a\n\rb", "YamlSingleQuoteEscape"), "a\n\n\rb"));
  EXPECT_TRUE(
      clean_output_is(run_filter("it's '' \"x\" \\", "YamlSingleQuoteEscape"), "it''s '''' \"x\" \\"));
  EXPECT_TRUE(echoed_without_reason(run_filter("x", "YamlSingleQuoteEscape x"),
                                    "#{V | YamlSingleQuoteEscape \"x\"}"));
  EXPECT_TRUE(output_is(render("#{Missing | YamlSingleQuoteEscape}"), "#{Missing | YamlSingleQuoteEscape}"));
}

TEST(escape_filters, yaml_double_quote_escapes_every_non_printable_utf16_unit) {
  EXPECT_TRUE(clean_output_is(run_filter("a/b'c~", "YamlDoubleQuoteEscape"), "a/b'c~"));
  EXPECT_TRUE(clean_output_is(run_filter(std::string("\x00\x01\x1F\x7F", 4), "YamlDoubleQuoteEscape"),
                              "\\u0000\\u0001\\u001f\\u007f"));
  EXPECT_TRUE(clean_output_is(run_filter("\xC3\xA9\xC3\xBF", "YamlDoubleQuoteEscape"), "\\u00e9\\u00ff"));
  EXPECT_TRUE(clean_output_is(run_filter("\xF0\x9F\x98\x80", "YamlDoubleQuoteEscape"), "\\ud83d\\ude00"));
  // An invalid byte is U+FFFD, as it would be in a .NET string.
  EXPECT_TRUE(clean_output_is(run_filter("a\xFF", "YamlDoubleQuoteEscape"), "a\\ufffd"));
  EXPECT_TRUE(echoed_without_reason(run_filter("x", "YamlDoubleQuoteEscape x"),
                                    "#{V | YamlDoubleQuoteEscape \"x\"}"));
}

// --- Java properties ------------------------------------------------------------------------------------

TEST(escape_filters, properties_key_escape) {
  EXPECT_TRUE(clean_output_is(run_filter("a=b:c d", "PropertiesKeyEscape"), "a\\=b\\:c\\ d"));
  // '#' and '!' and other control characters below 0xFF are kept; U+00FE stays, U+00FF does not.
  EXPECT_TRUE(clean_output_is(run_filter("#!\x01\xC3\xBE", "PropertiesKeyEscape"), "#!\x01\xC3\xBE"));
  EXPECT_TRUE(clean_output_is(run_filter("\xC3\xBF", "PropertiesKeyEscape"), "\\u00ff"));
  EXPECT_TRUE(clean_output_is(run_filter("\xF0\x9F\x98\x80", "PropertiesKeyEscape"), "\\ud83d\\ude00"));
  EXPECT_TRUE(clean_output_is(run_filter("\\\r\n\t", "PropertiesKeyEscape"), "\\\\\\r\\n\\t"));
  EXPECT_TRUE(
      echoed_without_reason(run_filter("x", "PropertiesKeyEscape x"), "#{V | PropertiesKeyEscape \"x\"}"));
}

TEST(escape_filters, properties_value_escape_only_escapes_a_leading_space) {
  EXPECT_TRUE(clean_output_is(run_filter("  a b ", "PropertiesValueEscape"), "\\  a b "));
  EXPECT_TRUE(clean_output_is(run_filter("a=b:c", "PropertiesValueEscape"), "a=b:c"));
  EXPECT_TRUE(clean_output_is(run_filter("\tx", "PropertiesValueEscape"), "\\tx"));
  EXPECT_TRUE(clean_output_is(run_filter("\xC3\xBF\xE6\x88\x91", "PropertiesValueEscape"), "\\u00ff\\u6211"));
  EXPECT_TRUE(echoed_without_reason(run_filter("x", "PropertiesValueEscape x"),
                                    "#{V | PropertiesValueEscape \"x\"}"));
}

// --- URI ------------------------------------------------------------------------------------------------

TEST(escape_filters, uri_escape_keeps_unreserved_and_reserved_characters) {
  EXPECT_TRUE(clean_output_is(run_filter("azAZ09-._~:/?#[]@!$&'()*+,;=", "UriEscape"),
                              "azAZ09-._~:/?#[]@!$&'()*+,;="));
  EXPECT_TRUE(
      clean_output_is(run_filter("100% \"<>\\^`{|}", "UriEscape"), "100%25%20%22%3C%3E%5C%5E%60%7B%7C%7D"));
  EXPECT_TRUE(clean_output_is(run_filter("\xC3\xA9\xF0\x9F\x98\x80", "UriEscape"), "%C3%A9%F0%9F%98%80"));
  EXPECT_TRUE(clean_output_is(run_filter("\t\r\n", "UriEscape"), "%09%0D%0A"));
  EXPECT_TRUE(echoed_without_reason(run_filter("x", "UriEscape x"), "#{V | UriEscape \"x\"}"));
  EXPECT_TRUE(output_is(render("#{Missing | UriEscape}"), "#{Missing | UriEscape}"));
}

TEST(escape_filters, uri_data_escape_keeps_only_unreserved_characters) {
  EXPECT_TRUE(clean_output_is(run_filter("azAZ09-._~", "UriDataEscape"), "azAZ09-._~"));
  EXPECT_TRUE(clean_output_is(run_filter(":/?#[]@!$&'()*+,;=%", "UriDataEscape"),
                              "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25"));
  EXPECT_TRUE(clean_output_is(run_filter("\xE6\x88\x91 x", "UriDataEscape"), "%E6%88%91%20x"));
  EXPECT_TRUE(clean_output_is(run_filter("a\xFF", "UriDataEscape"), "a%EF%BF%BD"));
  EXPECT_TRUE(echoed_without_reason(run_filter("x", "UriDataEscape x"), "#{V | UriDataEscape \"x\"}"));
}

TEST(escape_filters, filter_names_are_case_insensitive) {
  EXPECT_TRUE(clean_output_is(run_filter("<", "htmlescape"), "&lt;"));
  EXPECT_TRUE(clean_output_is(run_filter("a b", "URIDATAESCAPE"), "a%20b"));
  EXPECT_TRUE(clean_output_is(run_filter("Baz", "tobase64 | FROMBASE64"), "Baz"));
}

}  // namespace
}  // namespace cuttle::test
