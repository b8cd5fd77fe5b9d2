// The masker: exact outputs, overlapping, nested and touching secrets, every split of a stream, multi-line
// secrets, encoded forms (checked against the engine's own ToBase64, UriDataEscape and JsonEscape filters),
// the length rule, secrets added mid-stream, and agreement with a naive reference on many secrets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/engine.hpp"
#include "masker_reference.hpp"

namespace {

namespace ce = cuttle::engine;

using cuttle::test::all_forms;
using cuttle::test::reference_mask;

// Writes `text` to a Stream (mask_stream or mask_bulk_stream) in the pieces `cuts` marks (sorted offsets)
// and finishes.
template <class Stream = ce::mask_stream>
std::string stream_mask(const std::shared_ptr<const ce::masker>& m, std::string_view text,
                        const std::vector<std::size_t>& cuts) {
  Stream stream(m);
  std::string out;
  std::size_t at = 0;
  for (const std::size_t cut : cuts) {
    stream.write(text.substr(at, cut - at), out);
    at = cut;
  }
  stream.write(text.substr(at), out);
  stream.finish(out);
  return out;
}

std::string filter(std::string_view value, std::string_view name) {
  ce::variables vars;
  vars.set("S", std::string(value));
  const auto r = ce::evaluate("#{S | " + std::string(name) + "}", vars);
  EXPECT_TRUE(r.output.has_value());
  return r.output.value_or("");
}

ce::mask_options raw_only() {
  ce::mask_options o;
  o.encodings = false;
  return o;
}

TEST(masker, masks_every_occurrence_with_eight_asterisks) {
  const auto m = ce::masker::make({"hunter22"});
  EXPECT_EQ(m->mask("pw=hunter22; again hunter22."), "pw=********; again ********.");
  EXPECT_EQ(m->mask("hunter2 is not it"), "hunter2 is not it");
  EXPECT_EQ(m->mask(""), "");
  EXPECT_EQ(m->options().replacement, "********");
}

TEST(masker, the_header_example_holds) {
  auto m = ce::masker::make({"hunter22", "s3cr3t-token"});
  EXPECT_EQ(m->mask("password=hunter22"), "password=********");
  ce::mask_stream stream(m);
  std::string out;
  stream.write("token: s3cr", out);
  EXPECT_EQ(out, "token: ");
  stream.write("3t-token\n", out);
  EXPECT_EQ(out, "token: ********\n");
  m = m->with({"late-secret"});
  stream.update(m);
  stream.write("a late-secret", out);
  stream.finish(out);
  EXPECT_EQ(out, "token: ********\na ********");
}

TEST(masker, matching_is_exact_and_case_sensitive) {
  const auto m = ce::masker::make({"Secret99"});
  EXPECT_EQ(m->mask("secret99 SECRET99 Secret99"), "secret99 SECRET99 ********");
}

TEST(masker, custom_replacement) {
  ce::mask_options o;
  o.replacement = "[masked]";
  const auto m = ce::masker::make({"abcd"}, o);
  EXPECT_EQ(m->mask("x abcd y"), "x [masked] y");
}

TEST(masker, overlapping_secrets_merge_into_one_replacement) {
  const auto m = ce::masker::make({"abcdef", "defghi"}, raw_only());
  EXPECT_EQ(m->mask("xabcdefghiy"), "x********y");
  EXPECT_EQ(m->mask("xabcdefy defghiz"), "x********y ********z");
}

TEST(masker, nested_secrets_give_one_replacement) {
  const auto m = ce::masker::make({"password123", "word"}, raw_only());
  EXPECT_EQ(m->mask("[password123]"), "[********]");
  EXPECT_EQ(m->mask("[word]"), "[********]");
  EXPECT_EQ(m->mask("[swordfish]"), "[s********fish]");
}

TEST(masker, touching_occurrences_merge_and_separated_ones_do_not) {
  const auto m = ce::masker::make({"abcd", "wxyz"}, raw_only());
  EXPECT_EQ(m->mask("abcdabcd"), "********");
  EXPECT_EQ(m->mask("abcdwxyz"), "********");
  EXPECT_EQ(m->mask("abcd-wxyz"), "********-********");
  EXPECT_EQ(m->mask("abcabcdd"), "abc********d");
}

TEST(masker, self_overlapping_secret) {
  const auto m = ce::masker::make({"aaaa"}, raw_only());
  EXPECT_EQ(m->mask("aaa"), "aaa");
  EXPECT_EQ(m->mask("baaaaaaab"), "b********b");
  const auto n = ce::masker::make({"abab"}, raw_only());
  EXPECT_EQ(n->mask("abababa!"), "********a!");
}

TEST(masker, secret_that_is_a_prefix_of_another) {
  const auto m = ce::masker::make({"abcd", "abcdefgh"}, raw_only());
  EXPECT_EQ(m->mask("abcdefgh"), "********");
  EXPECT_EQ(m->mask("abcdefg"), "********efg");
  EXPECT_EQ(m->mask("abcdxyz"), "********xyz");

  ce::mask_stream s(m);
  std::string out;
  s.write("abcd", out);
  EXPECT_EQ(out, "");  // may still become abcdefgh
  EXPECT_EQ(s.held_text(), "abcd");
  s.write("ef", out);
  EXPECT_EQ(out, "");
  EXPECT_EQ(s.held(), 6u);
  s.write("!", out);
  EXPECT_EQ(out, "********ef!");
  EXPECT_EQ(s.held(), 0u);
}

TEST(masker, empty_secret_set_passes_everything_at_once) {
  const auto m = ce::masker::make({});
  EXPECT_EQ(m->pattern_count(), 0u);
  EXPECT_EQ(m->longest_pattern(), 0u);
  EXPECT_EQ(m->mask("anything at all"), "anything at all");
  ce::mask_stream s(m);
  std::string out;
  s.write("partial", out);
  EXPECT_EQ(out, "partial");
  EXPECT_EQ(s.held(), 0u);

  ce::mask_stream none(nullptr);  // a null masker masks nothing
  none.write("x", out);
  EXPECT_EQ(out, "partialx");
}

TEST(masker, length_rule_follows_octopus) {
  EXPECT_FALSE(ce::masker::accepts("", {}));
  EXPECT_FALSE(ce::masker::accepts("abc", {}));
  EXPECT_TRUE(ce::masker::accepts("abcd", {}));
  EXPECT_FALSE(ce::masker::accepts("    ", {}));
  EXPECT_FALSE(ce::masker::accepts(" \t\r\n\u00a0", {}));  // .NET whitespace, including no-break space
  EXPECT_TRUE(ce::masker::accepts(" ab ", {}));
  // Characters, not bytes: three CJK characters are nine bytes but still too short.
  EXPECT_FALSE(ce::masker::accepts("\u65e5\u672c\u8a9e", {}));
  EXPECT_TRUE(ce::masker::accepts("\u65e5\u672c\u8a9e\u3060", {}));
  ce::mask_options eight;
  eight.min_length = 8;
  EXPECT_FALSE(ce::masker::accepts("1234567", eight));
  EXPECT_TRUE(ce::masker::accepts("12345678", eight));

  const auto m = ce::masker::make({"abc", "    ", "", "abcd"});
  EXPECT_EQ(m->secrets(), std::vector<std::string>{"abcd"});
  EXPECT_EQ(m->mask("abc    abcd"), "abc    ********");
  EXPECT_TRUE(ce::masker::forms("abc", {}).empty());
}

TEST(masker, pattern_count_and_longest_pattern) {
  const auto m = ce::masker::make({"abcd", "abcd", "abcdefgh"}, raw_only());
  EXPECT_EQ(m->secrets().size(), 2u);
  EXPECT_EQ(m->pattern_count(), 2u);
  EXPECT_EQ(m->longest_pattern(), 8u);
  const auto e = ce::masker::make({"abcdefgh"});
  EXPECT_GT(e->pattern_count(), 1u);     // base64 forms
  EXPECT_EQ(e->longest_pattern(), 12u);  // base64 of 8 bytes, padded
}

TEST(masker, invalid_utf8_is_masked_byte_for_byte) {
  const std::string secret = "\xff\xfe\xfd\xfc";
  const auto m = ce::masker::make({secret});
  EXPECT_EQ(m->mask("a\xff" + secret + "\x80z"), "a\xff********\x80z");
  EXPECT_EQ(m->mask("\xff\xfe\xfd"), "\xff\xfe\xfd");
  const auto n = ce::masker::make({"pass\xc3word"});
  EXPECT_EQ(n->mask("[pass\xc3word]"), "[********]");
}

TEST(masker, every_split_of_a_stream_gives_the_one_shot_result) {
  const auto m = ce::masker::make({"abcd", "abcdefgh", "cdef", "s3cr3t!", "zzzz"});
  const std::string text = "xabcdefghy abcd-cdef s3cr3 s3cr3t! zzzzzzz abcdefgabcdefgh end";
  const std::string expected = m->mask(text);
  EXPECT_EQ(expected, reference_mask(text, all_forms(*m)));
  for (std::size_t a = 0; a <= text.size(); ++a) {
    EXPECT_EQ(stream_mask(m, text, {a}), expected) << "split at " << a;
    for (std::size_t b = a; b <= text.size(); ++b) {
      ASSERT_EQ(stream_mask(m, text, {a, b}), expected) << "splits at " << a << ", " << b;
    }
  }
  std::vector<std::size_t> bytewise;
  for (std::size_t k = 1; k < text.size(); ++k) bytewise.push_back(k);
  EXPECT_EQ(stream_mask(m, text, bytewise), expected);
}

TEST(masker, stream_releases_everything_that_cannot_start_a_secret) {
  const auto m = ce::masker::make({"password1"}, raw_only());
  ce::mask_stream s(m);
  std::string out;
  s.write("line one\nline two\n", out);
  EXPECT_EQ(out, "line one\nline two\n");  // no line is held
  s.write("the pass", out);
  EXPECT_EQ(out, "line one\nline two\nthe ");
  EXPECT_EQ(s.held_text(), "pass");
  s.write("port", out);  // "passp": not a prefix any more
  EXPECT_EQ(out, "line one\nline two\nthe passport");
  EXPECT_EQ(s.held(), 0u);
  s.write("password", out);
  EXPECT_EQ(s.held_text(), "password");
  s.write("1 ok", out);
  EXPECT_EQ(out, "line one\nline two\nthe passport******** ok");
  s.write("passw", out);
  s.finish(out);  // the end of the stream releases a held prefix as it is
  EXPECT_EQ(out, "line one\nline two\nthe passport******** okpassw");
  EXPECT_EQ(s.held(), 0u);
}

TEST(masker, a_run_split_by_a_release_gets_one_replacement) {
  // "abcdef" matches; "efgh" may follow, so "ef" is held although it is already masked.
  const auto m = ce::masker::make({"abcdef", "efghij"}, raw_only());
  ce::mask_stream s(m);
  std::string out;
  s.write("<abcdef", out);
  EXPECT_EQ(out, "<********");
  EXPECT_EQ(s.held_text(), "ef");
  s.write("ghij>", out);
  EXPECT_EQ(out, "<********>");
  s.write("abcdef", out);
  s.write("ghi", out);
  s.write("!", out);
  EXPECT_EQ(out, "<********>********ghi!");
  s.finish(out);
  EXPECT_EQ(out, "<********>********ghi!");
}

TEST(masker, finish_resets_the_stream_for_reuse) {
  const auto m = ce::masker::make({"abcdef"}, raw_only());
  ce::mask_stream s(m);
  std::string out;
  s.write("abc", out);
  s.finish(out);
  s.write("def", out);
  s.finish(out);
  EXPECT_EQ(out, "abcdef");  // two streams, neither holds the secret
  s.write("xabcdef", out);
  s.finish(out);
  EXPECT_EQ(out, "abcdefx********");
}

TEST(masker, multi_line_secret_matches_as_written_and_with_either_line_break) {
  const std::string lf = "-----BEGIN KEY-----\nMIIEowIBAAKCAQEA\n-----END KEY-----";
  const std::string crlf = "-----BEGIN KEY-----\r\nMIIEowIBAAKCAQEA\r\n-----END KEY-----";
  const std::string joined = "-----BEGIN KEY-----MIIEowIBAAKCAQEA-----END KEY-----";
  for (const auto& secret : {lf, crlf}) {
    const auto m = ce::masker::make({secret});
    EXPECT_EQ(m->mask("key:\n" + lf + "\ndone"), "key:\n********\ndone");
    EXPECT_EQ(m->mask("key:\r\n" + crlf + "\r\ndone"), "key:\r\n********\r\ndone");
    EXPECT_EQ(m->mask("flat " + joined + "."), "flat ********.");  // what Octopus matches
    // Lines on their own are not secrets: a PEM header alone stays visible.
    EXPECT_EQ(m->mask("-----BEGIN KEY-----"), "-----BEGIN KEY-----");
  }
  const auto m = ce::masker::make({lf});
  for (std::size_t cut = 0; cut <= lf.size(); ++cut) {
    const std::string text = "<" + lf + ">";
    ASSERT_EQ(stream_mask(m, text, {cut}), "<********>") << cut;
  }
}

TEST(masker, line_break_forms_obey_the_length_rule) {
  // "ab\r\nc" has 5 characters, but without its line break it is "abc", too short to mask.
  EXPECT_EQ(ce::masker::forms("ab\r\nc", raw_only()), (std::vector<std::string>{"ab\nc", "ab\r\nc"}));
  EXPECT_EQ(ce::masker::forms("ab\ncd", raw_only()),
            (std::vector<std::string>{"ab\ncd", "ab\r\ncd", "abcd"}));
}

TEST(masker, base64_of_the_value_and_inside_longer_base64) {
  const std::string secret = "Tr0ub4dor&3x";
  const auto m = ce::masker::make({secret});
  const std::string encoded = filter(secret, "ToBase64");
  EXPECT_EQ(m->mask("b64: " + encoded + " ok"), "b64: ******** ok");
  // The secret at each byte alignment inside a longer encoded text (basic auth and the like): the
  // characters that depend only on the secret are masked; the neighbours' characters stay.
  for (const std::string prefix : {"user:", "user1:", "user12:"}) {
    const std::string blob = filter(prefix + secret + "@example.com", "ToBase64");
    const std::string masked = m->mask(blob);
    EXPECT_NE(masked, blob) << prefix;
    EXPECT_NE(masked.find("********"), std::string::npos) << prefix;
    const std::size_t first = (8 * prefix.size() + 5) / 6;
    const std::size_t last = 8 * (prefix.size() + secret.size()) / 6;
    EXPECT_EQ(masked, blob.substr(0, first) + "********" + blob.substr(last)) << prefix;
  }
  // URL-safe base64 (JWT style) too.
  std::string url = encoded;
  for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
  url.erase(url.find_last_not_of('=') + 1);
  EXPECT_EQ(m->mask("jwt." + url + ".sig"), "jwt.********.sig");
}

TEST(masker, base64_fragments_need_six_characters) {
  // A 4-character value: the padded encoding is masked, but its 4- and 5-character fragments are not
  // registered (they would match too much).
  const auto forms = ce::masker::forms("abcd", {});
  for (const auto& f : forms) EXPECT_GE(f.size(), 4u);
  EXPECT_NE(std::find(forms.begin(), forms.end(), "YWJjZA=="), forms.end());
  for (const auto& f : forms) {
    if (f != "abcd") {
      EXPECT_GE(f.size(), 6u) << f;
    }
  }
}

TEST(masker, url_encoded_forms) {
  const std::string secret = "p@ss w0rd/+!x";
  const auto m = ce::masker::make({secret});
  const std::string data = filter(secret, "UriDataEscape");  // Uri.EscapeDataString
  EXPECT_EQ(data, "p%40ss%20w0rd%2F%2B%21x");
  EXPECT_EQ(m->mask("?q=" + data + "&x=1"), "?q=********&x=1");
  EXPECT_EQ(m->mask("?q=p%40ss+w0rd%2F%2B%21x&"), "?q=********&");    // form encoding
  EXPECT_EQ(m->mask("?q=p%40ss%20w0rd%2f%2b%21x&"), "?q=********&");  // lower-case hex
  EXPECT_EQ(m->mask("?q=p%40ss%20w0rd%2F%2B!x&"), "?q=********&");    // encodeURIComponent
}

TEST(masker, json_escaped_forms) {
  const std::string secret = "say \"hi\"\\ to\n</tag>\x01 caf\xc3\xa9";
  const auto m = ce::masker::make({secret});
  const std::string octostache = filter(secret, "JsonEscape");
  EXPECT_EQ(m->mask("{\"v\":\"" + octostache + "\"}"), "{\"v\":\"********\"}");
  const std::string newtonsoft = "say \\\"hi\\\"\\\\ to\\n</tag>\\u0001 caf\xc3\xa9";
  EXPECT_EQ(m->mask("{\"v\":\"" + newtonsoft + "\"}"), "{\"v\":\"********\"}");
  const std::string python = "say \\\"hi\\\"\\\\ to\\n</tag>\\u0001 caf\\u00e9";
  EXPECT_EQ(m->mask("{\"v\": \"" + python + "\"}"), "{\"v\": \"********\"}");
  const std::string php = "say \\\"hi\\\"\\\\ to\\n<\\/tag>\\u0001 caf\\u00e9";
  EXPECT_EQ(m->mask("{\"v\":\"" + php + "\"}"), "{\"v\":\"********\"}");
  const std::string go = "say \\\"hi\\\"\\\\ to\\n\\u003c/tag\\u003e\\u0001 caf\xc3\xa9";
  EXPECT_EQ(m->mask("{\"v\":\"" + go + "\"}"), "{\"v\":\"********\"}");
  const std::string stj = "say \\u0022hi\\u0022\\\\ to\\n\\u003C/tag\\u003E\\u0001 caf\\u00E9";
  EXPECT_EQ(m->mask("{\"v\":\"" + stj + "\"}"), "{\"v\":\"********\"}");
}

TEST(masker, a_value_of_unreserved_characters_has_only_base64_forms) {
  // Letters, digits and - . _ ~ are their own URL and JSON encodings in every variant, so only the value
  // and its base64 forms are registered (the URL-safe fragment only where the encoding has + or /).
  EXPECT_EQ(ce::masker::forms("a-b.c_d~e9", {}),
            (std::vector<std::string>{"EtYi5jX2R+ZT", "EtYi5jX2R-ZT", "YS1iLmNfZH5lO", "YS1iLmNfZH5lOQ",
                                      "YS1iLmNfZH5lOQ==", "a-b.c_d~e9", "hLWIuY19kfmU5"}));
}

TEST(masker, one_character_that_some_encoder_escapes_brings_its_forms) {
  // Each of these characters is escaped by only some URL or JSON encoders; a value with just that one
  // character must still get every form that differs.
  struct expected_forms {
    std::string value;
    std::vector<std::string> forms;
  };
  const std::vector<expected_forms> cases = {
      {"abcd/efgh", {"abcd\\/efgh", "abcd%2Fefgh", "abcd%2fefgh"}},      // PHP, URL
      {"abcd'efgh", {"abcd\\u0027efgh", "abcd%27efgh"}},                 // System.Text.Json, URL
      {"abcd+efgh", {"abcd\\u002Befgh", "abcd%2Befgh", "abcd%2befgh"}},  // System.Text.Json, URL
      {"abcd`efgh", {"abcd\\u0060efgh", "abcd%60efgh"}},                 // System.Text.Json, URL
      {"abcd\x7f"
       "efgh",
       {"abcd\\u007Fefgh", "abcd%7Fefgh", "abcd%7fefgh"}},                   // System.Text.Json, URL
      {"abcd<efgh", {"abcd\\u003cefgh", "abcd\\u003Cefgh", "abcd%3Cefgh"}},  // Go, System.Text.Json, URL
      {"abcd&efgh", {"abcd\\u0026efgh", "abcd%26efgh"}},                     // Go, URL
      {"caf\xc3\xa9-1234", {"caf\\u00e9-1234", "caf\\u00E9-1234", "caf%C3%A9-1234", "caf%c3%a9-1234"}},
      {"abcd efgh", {"abcd%20efgh", "abcd+efgh"}},  // URL, form encoding
  };
  for (const auto& c : cases) {
    const auto forms = ce::masker::forms(c.value, {});
    const auto m = ce::masker::make({c.value});
    for (const auto& form : c.forms) {
      EXPECT_NE(std::find(forms.begin(), forms.end(), form), forms.end()) << c.value << " -> " << form;
      EXPECT_EQ(m->mask("[" + form + "]"), "[********]") << c.value << " -> " << form;
    }
  }
}

TEST(masker, url_safe_base64_inside_longer_text_at_each_alignment) {
  // "?>?>?>?>" encodes with + and / at every alignment, so its URL-safe fragments differ from the
  // standard ones.
  const std::string secret = "?>?>?>?>";
  const auto m = ce::masker::make({secret});
  for (const std::string prefix : {"user:", "user1:", "user12:"}) {
    std::string blob = filter(prefix + secret + "@example.com", "ToBase64");
    for (char& c : blob) c = c == '+' ? '-' : c == '/' ? '_' : c;
    const std::size_t first = (8 * prefix.size() + 5) / 6;
    const std::size_t last = 8 * (prefix.size() + secret.size()) / 6;
    ASSERT_NE(blob.substr(first, last - first).find_first_of("-_"), std::string::npos) << prefix;
    EXPECT_EQ(m->mask(blob), blob.substr(0, first) + "********" + blob.substr(last)) << prefix;
  }
}

TEST(masker, a_sparse_state_with_every_byte_as_a_child) {
  // 1,300 two-byte prefixes come first in breadth-first order, so "zz" lies past the dense rows and its
  // 256 children are found by searching its child list.
  ce::mask_options o = raw_only();
  o.min_length = 3;
  std::vector<std::string> secrets;
  for (char a = 'a'; a < 'z'; ++a) {
    for (const char b : std::string("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")) {
      secrets.push_back(std::string{a, b, '!', '!'});
    }
  }
  for (int b = 0; b < 256; ++b) secrets.push_back(std::string("zz") + static_cast<char>(b));
  const auto m = ce::masker::make(secrets, o);
  ASSERT_EQ(m->pattern_count(), 1300u + 256u + 1u);  // and "zz\r\n", the CRLF form of "zz\n"
  std::string text;
  for (int b = 0; b < 256; ++b) {
    const std::string occurrence = std::string("zz") + static_cast<char>(b);
    // "<zzz>" holds both "zzz" and "zz>", which touch: one replacement for "zzz>".
    EXPECT_EQ(m->mask("<" + occurrence + ">"), b == 'z' ? "<********" : "<********>") << b;
    text +=
        "z" + occurrence + "y" + secrets[static_cast<std::size_t>(b) * 5] + "zy" + occurrence.substr(0, 2);
  }
  const std::string expected = reference_mask(text, all_forms(*m));
  EXPECT_EQ(m->mask(text), expected);
  std::vector<std::size_t> cuts;
  for (std::size_t at = 0; at < text.size(); at += 3) cuts.push_back(at);
  EXPECT_EQ(stream_mask(m, text, cuts), expected);
}

TEST(masker, encodings_can_be_turned_off) {
  const std::string secret = "Tr0ub4dor&3x";
  const auto m = ce::masker::make({secret}, raw_only());
  EXPECT_EQ(m->pattern_count(), 1u);
  const std::string encoded = filter(secret, "ToBase64");
  EXPECT_EQ(m->mask(encoded), encoded);
  EXPECT_EQ(m->mask(secret), "********");
}

TEST(masker, update_applies_to_text_not_yet_released) {
  auto m = ce::masker::make({"first-secret"});
  ce::mask_stream s(m);
  std::string out;
  s.write("a first-", out);
  EXPECT_EQ(out, "a ");
  EXPECT_EQ(s.held_text(), "first-");
  // A script registers "first-other" while "first-" is held: it reaches the held text too.
  m = m->with({"first-other"});
  s.update(m);
  EXPECT_EQ(out, "a ");
  s.write("other; first-other; first-secret", out);
  s.finish(out);
  EXPECT_EQ(out, "a ********; ********; ********");
}

TEST(masker, update_finds_new_secrets_wholly_inside_the_held_text) {
  auto m = ce::masker::make({"abcdefghij"}, raw_only());
  ce::mask_stream s(m);
  std::string out;
  s.write("<abcdefg", out);
  EXPECT_EQ(s.held_text(), "abcdefg");
  s.update(m->with({"bcde"}));
  s.write("!", out);
  EXPECT_EQ(out, "<a********fg!");
}

TEST(masker, update_never_unmasks_and_released_text_stays) {
  auto m = ce::masker::make({"abcdef", "efghijkl"}, raw_only());
  ce::mask_stream s(m);
  std::string out;
  s.write("abcdef", out);
  EXPECT_EQ(out, "********");
  EXPECT_EQ(s.held_text(), "ef");
  s.update(ce::masker::make({}));  // a masker without those secrets
  s.write("gh", out);
  s.finish(out);
  EXPECT_EQ(out, "********gh");  // "ef" was already masked
}

TEST(masker, with_shares_the_automaton_when_nothing_is_new) {
  const auto m = ce::masker::make({"abcdef"});
  const auto same = m->with({"abcdef", "abc", "   "});
  EXPECT_EQ(&same->automaton(), &m->automaton());
  const auto more = m->with({"ghijkl"});
  EXPECT_NE(&more->automaton(), &m->automaton());
  EXPECT_EQ(more->secrets(), (std::vector<std::string>{"abcdef", "ghijkl"}));
  EXPECT_EQ(more->mask("abcdef ghijkl"), "******** ********");
  EXPECT_EQ(m->mask("ghijkl"), "ghijkl");  // the original is unchanged
}

TEST(masker, replacement_text_is_never_scanned_again) {
  const auto m = ce::masker::make({"****", "x*******"}, raw_only());
  EXPECT_EQ(m->mask("a****b"), "a********b");
  EXPECT_EQ(m->mask("x****"), "x********");
}

// How often random_log puts in each thing: a random word of up to `word` characters on every line; every
// `secret`-th line a secret, every `form`-th one of a secret's forms, every `prefix`-th the first 5 bytes
// of one.
struct log_shape {
  unsigned word, secret, form, prefix;
};

// 3,000 lines of random words with secrets, forms and prefixes of secrets, as `shape` says.
template <class Token>
std::string random_log(std::mt19937& rng, Token&& token, const std::vector<std::string>& secrets,
                       log_shape shape) {
  std::string text;
  for (unsigned line = 0; line < 3000; ++line) {
    text += token(rng() % shape.word) + " ";
    if (line % shape.secret == 0) text += secrets[rng() % secrets.size()];
    if (line % shape.form == 0) text += ce::masker::forms(secrets[rng() % secrets.size()], {}).back();
    if (line % shape.prefix == 0) text += secrets[rng() % secrets.size()].substr(0, 5);
    text += "\n";
  }
  return text;
}

TEST(masker, many_secrets_agree_with_the_reference) {
  // Enough patterns that most states are sparse (past the dense budget), with shared prefixes.
  std::mt19937 rng(7);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_";
  auto token = [&](std::size_t n) {
    std::string s;
    for (std::size_t k = 0; k < n; ++k) s += alphabet[rng() % alphabet.size()];
    return s;
  };
  std::vector<std::string> secrets;
  for (int k = 0; k < 3000; ++k) secrets.push_back((k % 3 == 0 ? "pre" : "") + token(4 + rng() % 30));
  const auto m = ce::masker::make(secrets);
  const std::string text =
      random_log(rng, token, secrets, {.word = 40, .secret = 7, .form = 11, .prefix = 13});
  const std::string expected = reference_mask(text, all_forms(*m));
  EXPECT_EQ(m->mask(text), expected);
  std::vector<std::size_t> cuts;
  for (std::size_t at = 0; at < text.size(); at += 1 + rng() % 97) cuts.push_back(at);
  EXPECT_EQ(stream_mask(m, text, cuts), expected);
}

// Masks `text` with mask_pieces and concatenates the pieces.
std::string pieces_mask(const ce::masker& m, std::string_view text, unsigned threads, std::size_t block) {
  std::string out;
  EXPECT_TRUE(m.mask_pieces(
      text,
      [&out](std::string_view piece) {
        out.append(piece);
        return true;
      },
      threads, block));
  return out;
}

TEST(masker, pieces_in_blocks_merge_runs_across_block_boundaries) {
  const auto m = ce::masker::make({"abcdef", "defghi"}, raw_only());
  const std::string text = "xabcdefghiy abcdef abcdefabcdef zz";
  const std::string expected = "x********y ******** ******** zz";
  ASSERT_EQ(m->mask(text), expected);
  for (std::size_t block = 1; block <= text.size() + 1; ++block) {
    for (unsigned threads = 1; threads <= 3; ++threads) {
      ASSERT_EQ(pieces_mask(*m, text, threads, block), expected)
          << "block " << block << ", threads " << threads;
    }
  }
  EXPECT_EQ(pieces_mask(*m, "", 2, 4), "");
}

TEST(masker, pieces_pass_clean_text_as_views_of_the_input_and_stop_when_the_sink_says_so) {
  const auto m = ce::masker::make({"hunter22"});
  const std::string text = "password=hunter22; again hunter22.";
  std::vector<std::string_view> pieces;
  EXPECT_TRUE(m->mask_pieces(text, [&pieces](std::string_view p) {
    pieces.push_back(p);
    return true;
  }));
  ASSERT_EQ(pieces.size(), 5U);
  EXPECT_EQ(pieces[0].data(), text.data());
  EXPECT_EQ(pieces[0], "password=");
  EXPECT_EQ(pieces[1], "********");
  EXPECT_EQ(pieces[2].data(), text.data() + 17);
  EXPECT_EQ(pieces[2], "; again ");
  EXPECT_EQ(pieces[4], ".");

  for (unsigned threads = 1; threads <= 2; ++threads) {
    int calls = 0;
    EXPECT_FALSE(m->mask_pieces(
        text,
        [&calls](std::string_view) {
          ++calls;
          return false;
        },
        threads, 3));
    EXPECT_EQ(calls, 1);
  }
}

TEST(masker, pieces_on_two_threads_agree_with_the_reference_on_many_secrets) {
  std::mt19937 rng(7);
  std::vector<std::string> secrets;
  for (int k = 0; k < 300; ++k) {
    std::string s;
    const std::size_t len = 8 + rng() % 33;
    for (std::size_t j = 0; j < len; ++j)
      s += static_cast<char>("abcdefghijklmnopqrstuvwxyz0123456789"[rng() % 36]);
    secrets.push_back(s);
  }
  const auto m = ce::masker::make(secrets);
  std::string text;
  for (int line = 0; line < 20000; ++line) {
    text += "some log text " + std::to_string(line) + " ";
    if (line % 7 == 0) text += secrets[rng() % secrets.size()];
    if (line % 11 == 0) text += ce::masker::forms(secrets[rng() % secrets.size()], {}).back();
    text += "\n";
  }
  const std::string expected = reference_mask(text, all_forms(*m));
  for (const std::size_t block : {std::size_t{61}, std::size_t{4096}, std::size_t{1} << 20}) {
    EXPECT_EQ(pieces_mask(*m, text, 2, block), expected) << "block " << block;
  }
}

TEST(masker, short_patterns_use_the_smaller_prefilters) {
  ce::mask_options one;
  one.min_length = 1;
  one.encodings = false;
  const auto m = ce::masker::make({"x", "yz", "abc"}, one);
  EXPECT_EQ(m->mask("axbyzabcx"), "a********b********");
  ce::mask_options two = one;
  two.min_length = 2;
  const auto n = ce::masker::make({"x", "yz", "abc"}, two);
  EXPECT_EQ(n->mask("axbyzabc!"), "axb********!");
  const std::string text = "yz abyzc xabcx ab";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    ASSERT_EQ(stream_mask(m, text, {cut}), m->mask(text));
    ASSERT_EQ(stream_mask(n, text, {cut}), n->mask(text));
  }
}

TEST(masker, whole_texts_are_verified_without_the_automaton_when_few_patterns_share_a_key) {
  // Distinct tokens: every pattern has 8 bytes or more and each key (its first 8 bytes) is rare.
  const auto distinct = ce::masker::make({"hunter2-pass", "s3cr3t-token", "correct horse"});
  EXPECT_TRUE(distinct->verifiable());
  // Nine secrets with the same first 8 bytes: more than a bucket takes, so the automaton does it all.
  std::vector<std::string> alike;
  for (char c = '1'; c <= '9'; ++c) alike.push_back(std::string("xoxb-1234-") + c + "abcdef");
  const auto shared = ce::masker::make(alike, {.encodings = false});
  EXPECT_FALSE(shared->verifiable());
  alike.pop_back();
  EXPECT_TRUE(ce::masker::make(alike, {.encodings = false})->verifiable());
  // A pattern shorter than 4 bytes: the prefilter is exact on 1 or 2 bytes, and there is no verifier.
  EXPECT_FALSE(ce::masker::make({"abc"}, {.min_length = 3})->verifiable());
  // Whichever way, the result is the reference's, one-shot, streamed or in bulk.
  const std::string text = "xoxb-1234-9abcdefxoxb-1234-1abcdef s3cr3t-tokenhunter2-pass xoxb-1234-5abcde\n";
  for (const auto& m : {distinct, shared}) {
    const std::string expected = reference_mask(text, all_forms(*m));
    EXPECT_EQ(m->mask(text), expected);
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
      ASSERT_EQ(stream_mask<ce::mask_bulk_stream>(m, text, {cut}), expected) << cut;
      ASSERT_EQ(stream_mask(m, text, {cut}), expected) << cut;
    }
  }
  EXPECT_EQ(distinct->mask(text), "xoxb-1234-9abcdefxoxb-1234-1abcdef ******** xoxb-1234-5abcde\n");
}

TEST(masker, a_bulk_stream_holds_less_than_the_longest_pattern_and_masks_across_writes) {
  const auto m = ce::masker::make({"hunter2-pass", "s3cr3t-token"});
  ASSERT_TRUE(m->verifiable());
  ce::mask_bulk_stream stream(m);
  std::string out;
  stream.write("log: hunter2-", out);
  EXPECT_LT(stream.held(), m->longest_pattern());
  stream.write("pass", out);
  stream.write("s3cr3t-token and a long tail of text that is not a secret at all", out);
  EXPECT_LT(stream.held(), m->longest_pattern());
  EXPECT_TRUE(out.starts_with("log: ********")) << out;
  stream.finish(out);
  EXPECT_EQ(out, "log: ******** and a long tail of text that is not a secret at all");
  EXPECT_EQ(stream.held(), 0U);
  // Reusable after finish.
  out.clear();
  stream.write("again s3cr3t-token", out);
  stream.finish(out);
  EXPECT_EQ(out, "again ********");
}

TEST(masker, many_secrets_agree_with_the_reference_in_bulk) {
  std::mt19937 rng(11);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  auto token = [&](std::size_t n) {
    std::string s;
    for (std::size_t k = 0; k < n; ++k) s += alphabet[rng() % alphabet.size()];
    return s;
  };
  std::vector<std::string> secrets;
  for (int k = 0; k < 1000; ++k) secrets.push_back(token(8 + rng() % 33));
  const auto m = ce::masker::make(secrets);
  ASSERT_TRUE(m->verifiable());
  const std::string text = random_log(rng, token, secrets, {.word = 60, .secret = 5, .form = 7, .prefix = 9});
  const std::string expected = reference_mask(text, all_forms(*m));
  EXPECT_EQ(m->mask(text), expected);
  std::vector<std::size_t> cuts;
  for (std::size_t at = 0; at < text.size(); at += 1 + rng() % 4001) cuts.push_back(at);
  EXPECT_EQ(stream_mask<ce::mask_bulk_stream>(m, text, cuts), expected);
  EXPECT_EQ(pieces_mask(*m, text, 2, 1000), expected);
}

TEST(masker, a_bulk_stream_with_a_very_long_secret_holds_only_what_may_start_it) {
  // A 20 KB secret: holding (and copying) 20 KB per write would cost more than the automaton.
  std::string key;
  for (int k = 0; key.size() < 20000; ++k) key += "line " + std::to_string(k * 7919) + " of a key file\n";
  const auto m = ce::masker::make({key, "s3cr3t-token"});
  ASSERT_TRUE(m->verifiable());
  ce::mask_bulk_stream stream(m);
  std::string out;
  stream.write("clean text, then s3cr3t-token and more clean text ", out);
  EXPECT_EQ(stream.held(), 0U);  // a mask_stream: nothing here may start a secret
  const std::string text = "before " + key + " between " + key.substr(0, 100) + " s3cr3t-token after";
  for (std::size_t at = 0; at < text.size(); at += 4096)
    stream.write(std::string_view(text).substr(at, 4096), out);
  stream.finish(out);
  EXPECT_EQ(out, "clean text, then ******** and more clean text before ******** between " +
                     key.substr(0, 100) + " ******** after");
}

}  // namespace
