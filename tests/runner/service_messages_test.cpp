// The service-message parser: the grammar of calamari-spec §3.1, streaming in any chunking, bounds.
#include "cuttle/runner/service_messages.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using cuttle::runner::body_parse;
using cuttle::runner::decode_base64;
using cuttle::runner::encode_base64;
using cuttle::runner::format_message;
using cuttle::runner::message_parser;
using cuttle::runner::parse_message_body;
using cuttle::runner::service_message;

/// Records what the parser reports, as a readable transcript; adjacent text pieces are joined.
struct recorder {
  std::vector<std::string> events;
  void text(std::string_view t) {
    if (!events.empty() && events.back().rfind("T:", 0) == 0) {
      events.back() += t;
    } else {
      events.push_back("T:" + std::string(t));
    }
  }
  void message(const service_message& m) {
    std::string e = "M:" + m.name;
    for (const auto& [k, v] : m.attributes) e += " " + k + "=" + v;
    events.push_back(e);
  }
  void malformed(std::string_view raw, std::string_view why) {
    events.push_back("X:" + std::string(raw) + " (" + std::string(why) + ")");
  }
};

std::vector<std::string> parse_chunked(std::string_view input, std::size_t chunk,
                                       std::size_t max_body = cuttle::runner::default_max_message_body) {
  message_parser p(max_body);
  recorder r;
  for (std::size_t i = 0; i < input.size(); i += chunk) p.feed(input.substr(i, chunk), r);
  p.finish(r);
  return r.events;
}

std::vector<std::string> parse_all(std::string_view input) { return parse_chunked(input, input.size() + 1); }

TEST(service_messages, base64_round_trips_and_rejects_other_alphabets) {
  EXPECT_EQ(encode_base64("True"), "VHJ1ZQ==");
  EXPECT_EQ(encode_base64("50"), "NTA=");
  EXPECT_EQ(encode_base64("Half Way"), "SGFsZiBXYXk=");
  EXPECT_EQ(encode_base64(""), "");
  EXPECT_EQ(decode_base64("VHJ1ZQ=="), "True");
  EXPECT_EQ(decode_base64("VHJ1ZQ"), "True");  // padding may be left out
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_EQ(decode_base64("VHJ1Z-=="), std::nullopt);  // URL-safe alphabet is not base64 here
  EXPECT_EQ(decode_base64("V"), std::nullopt);
  EXPECT_EQ(decode_base64("VH J1"), std::nullopt);
}

TEST(service_messages, both_quote_styles_and_no_attributes) {
  EXPECT_EQ(parse_all("##octopus[setVariable name='QQ==' value=\"Qg==\"]"),
            (std::vector<std::string>{"M:setVariable name=A value=B"}));
  EXPECT_EQ(parse_all("##octopus[stdout-verbose]"), (std::vector<std::string>{"M:stdout-verbose"}));
  EXPECT_EQ(parse_all("##octopus[progress  percentage = 'NTA='  message='SGFsZiBXYXk=' ]"),
            (std::vector<std::string>{"M:progress percentage=50 message=Half Way"}));
}

TEST(service_messages, a_message_anywhere_in_a_line_and_several_on_one_line) {
  EXPECT_EQ(parse_all("before ##octopus[a]middle##octopus[b x='eA==']after\n"),
            (std::vector<std::string>{"T:before ", "M:a", "T:middle", "M:b x=x", "T:after\n"}));
}

TEST(service_messages, messages_and_base64_may_span_lines) {
  EXPECT_EQ(parse_all("##octopus[setVariable \nname='QU\r\nJD'\n value='']\n"),
            (std::vector<std::string>{"M:setVariable name=ABC value=", "T:\n"}));
  // Line breaks are deleted, not read as white space (as Octopus does).
  EXPECT_EQ(parse_all("##octopus[setVariable\nname='QQ==']").at(0).substr(0, 2), "X:");
}

TEST(service_messages, hashes_that_do_not_start_a_marker_are_text) {
  EXPECT_EQ(parse_all("# comment ## two ###octopus[a] #octopus[b] ##octopu"),
            (std::vector<std::string>{"T:# comment ## two #", "M:a", "T: #octopus[b] ##octopu"}));
  EXPECT_EQ(parse_all("####octopus[a]"), (std::vector<std::string>{"T:##", "M:a"}));
}

TEST(service_messages, every_chunking_gives_the_same_events) {
  const std::string input =
      "x##octopus[a v='QUJD']y ###octopus[b]\n#\n##octopus[c w=\"\nQQ\n==\"]##octopus[broken v='!']z##oct";
  const auto expected = parse_all(input);
  ASSERT_EQ(expected.size(), 8U);
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk)
    EXPECT_EQ(parse_chunked(input, chunk), expected);
}

TEST(service_messages, text_is_released_at_once_except_a_marker_prefix) {
  message_parser p;
  recorder r;
  p.feed("hello #", r);
  EXPECT_EQ(r.events, (std::vector<std::string>{"T:hello "}));
  EXPECT_EQ(p.held(), 1U);
  p.feed("# not a message", r);
  EXPECT_EQ(r.events, (std::vector<std::string>{"T:hello ## not a message"}));
  EXPECT_EQ(p.held(), 0U);
}

TEST(service_messages, malformed_messages_come_back_as_raw_text_with_a_reason) {
  EXPECT_EQ(
      parse_all("##octopus[setVariable name='not base64!']"),
      (std::vector<std::string>{
          "X:##octopus[setVariable name='not base64!'] (the value of attribute 'name' is not base64)"}));
  EXPECT_EQ(parse_all("##octopus[a x='QQ==' x='QQ==']").at(0).substr(0, 2), "X:");
  EXPECT_EQ(parse_all("##octopus[a x=QQ==]").at(0).substr(0, 2), "X:");
  EXPECT_EQ(parse_all("##octopus[a x='QQ==]").at(0).substr(0, 2), "X:");
  EXPECT_EQ(parse_all("##octopus[a x='QQ=='y='QQ==']").at(0).substr(0, 2), "X:");
  EXPECT_EQ(parse_all("##octopus[ a]").at(0).substr(0, 2), "X:");
  EXPECT_EQ(parse_all("##octopus[9a]").at(0).substr(0, 2), "X:");
  EXPECT_EQ(parse_all("##octopus[]").at(0).substr(0, 2), "X:");
}

TEST(service_messages, an_unterminated_message_is_text_at_the_end) {
  EXPECT_EQ(parse_all("ok\n##octopus[setVariable name='QQ=='\nmore"),
            (std::vector<std::string>{"T:ok\n",
                                      "X:##octopus[setVariable name='QQ=='\nmore (the output ended before "
                                      "its closing ']')"}));
}

TEST(service_messages, an_overlong_body_is_given_up_and_the_log_goes_on) {
  const std::string body(100, 'a');
  const auto events = parse_chunked("##octopus[" + body + " and on\n##octopus[b]", 7, 50);
  ASSERT_GE(events.size(), 2U);
  EXPECT_EQ(events.front().substr(0, 12), "X:##octopus[");
  EXPECT_NE(events.front().find("longer than the limit"), std::string::npos);
  EXPECT_EQ(events.back(), "M:b");
  // Nothing was lost: the malformed raw text and the text after it hold every byte.
  std::string all;
  for (std::size_t k = 0; k + 1 < events.size(); ++k) {
    const auto& e = events[k];
    all += e[0] == 'X' ? e.substr(2, e.rfind(" (") - 2) : e.substr(2);
  }
  EXPECT_EQ(all, "##octopus[" + body + " and on\n");
}

TEST(service_messages, the_bound_counts_from_the_marker_to_before_the_bracket_in_any_chunking) {
  // "##octopus[" is 10 bytes: a name of 54 makes 64 bytes before ']', the most a bound of 64 allows.
  const std::string fits = "##octopus[" + std::string(54, 'n') + "]";
  const std::string too_long = "##octopus[" + std::string(55, 'n') + "]";
  for (std::size_t chunk = 1; chunk <= too_long.size(); ++chunk) {
    EXPECT_EQ(parse_chunked(fits, chunk, 64), (std::vector<std::string>{"M:" + std::string(54, 'n')}));
    const auto events = parse_chunked(too_long, chunk, 64);
    ASSERT_EQ(events.size(), 2U);
    EXPECT_EQ(events[0].substr(0, 67), "X:" + too_long.substr(0, 65));
    EXPECT_EQ(events[1], "T:]");
  }
}

TEST(service_messages, attribute_lookup_ignores_case_and_names_do_not) {
  const auto parsed = parse_message_body("setVariable NAME='QQ==' Value='Qg=='");
  ASSERT_TRUE(parsed.message.has_value()) << parsed.error;
  EXPECT_EQ(parsed.message->get("name"), "A");
  EXPECT_EQ(parsed.message->get("value"), "B");
  EXPECT_EQ(parsed.message->get("sensitive"), std::nullopt);
  EXPECT_EQ(parsed.message->name, "setVariable");
}

TEST(service_messages, format_writes_what_the_helpers_write) {
  service_message m{"setVariable", {{"name", "Password"}, {"value", "x"}, {"sensitive", "True"}}};
  EXPECT_EQ(format_message(m),
            "##octopus[setVariable name='UGFzc3dvcmQ=' value='eA==' sensitive='VHJ1ZQ==']");
  const auto back = parse_message_body(format_message(m).substr(10, format_message(m).size() - 11));
  ASSERT_TRUE(back.message.has_value());
  EXPECT_EQ(back.message->attributes, m.attributes);
}

}  // namespace
