// Properties of the service-message parser: random text and messages (both quote styles, line breaks
// inside the base64, any attribute bytes), written and cut into random chunks, parse back to exactly what
// was written; arbitrary bytes never crash it and lose nothing.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "cuttle/runner/service_messages.hpp"

namespace {

using cuttle::runner::encode_base64;
using cuttle::runner::message_parser;
using cuttle::runner::service_message;

struct events {
  std::vector<std::variant<std::string, service_message>> items;  // text or message
  std::string malformed_text;
  void text(std::string_view t) {
    if (!items.empty() && std::holds_alternative<std::string>(items.back())) {
      std::get<std::string>(items.back()) += t;
    } else {
      items.emplace_back(std::string(t));
    }
  }
  void message(const service_message& m) { items.emplace_back(m); }
  void malformed(std::string_view raw, std::string_view /*why*/) {
    malformed_text += raw;
    text(raw);
  }
};

rc::Gen<std::string> text_gen() {
  static const std::vector<std::string> pieces = {"a", " ", "\n",      "\r\n",     "#", "##",
                                                  "]", "[", "octopus", "\xC3\xA9", "'", "="};
  return rc::gen::map(
      rc::gen::nonEmpty(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(pieces))),
      [](const std::vector<std::string>& parts) {
        std::string s;
        for (const auto& p : parts) s += p;
        return s;
      });
}

rc::Gen<service_message> message_gen() {
  static const std::vector<std::string> names = {"setVariable",    "stdout-verbose", "progress",
                                                 "createArtifact", "x.y-z_1",        "mask"};
  return rc::gen::apply(
      [](const std::string& name, const std::vector<std::string>& values) {
        service_message m{name, {}};
        for (std::size_t k = 0; k < values.size(); ++k)
          m.attributes.emplace_back("a" + std::to_string(k), values[k]);
        return m;
      },
      rc::gen::elementOf(names),
      rc::gen::container<std::vector<std::string>>(rc::gen::string<std::string>()));
}

/// The wire form with the given quote and line breaks inserted into the base64 at `breaks` offsets.
std::string wire(const service_message& m, bool double_quotes, const std::vector<std::size_t>& breaks) {
  std::string out = "##octopus[" + m.name;
  std::size_t b = 0;
  for (const auto& [k, v] : m.attributes) {
    const char q = double_quotes ? '"' : '\'';
    std::string encoded = encode_base64(v);
    if (b < breaks.size() && !encoded.empty()) encoded.insert(breaks[b++] % encoded.size(), "\r\n");
    out += " " + k + "=" + q + encoded + q;
  }
  return out + "]";
}

RC_GTEST_PROP(service_message_props, written_messages_and_text_parse_back_in_any_chunking, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(0, 8);
  std::vector<std::variant<std::string, service_message>> expected;
  std::string stream;
  for (std::size_t k = 0; k < n; ++k) {
    if (*rc::gen::arbitrary<bool>()) {
      auto t = *text_gen();
      // The text must not contain a marker of its own, alone or joined to the text before it.
      std::string joined = (!expected.empty() && std::holds_alternative<std::string>(expected.back()))
                               ? std::get<std::string>(expected.back()) + t
                               : t;
      if (joined.find("##octopus[") != std::string::npos) continue;
      if (!expected.empty() && std::holds_alternative<std::string>(expected.back())) {
        std::get<std::string>(expected.back()) = joined;
      } else {
        expected.emplace_back(t);
      }
      stream += t;
    } else {
      const auto m = *message_gen();
      const auto breaks = *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(0, 64));
      stream += wire(m, *rc::gen::arbitrary<bool>(), breaks);
      expected.emplace_back(m);
    }
  }
  const auto chunk = *rc::gen::inRange<std::size_t>(1, 40);
  message_parser parser;
  events got;
  for (std::size_t i = 0; i < stream.size(); i += chunk)
    parser.feed(std::string_view(stream).substr(i, chunk), got);
  parser.finish(got);
  RC_ASSERT(got.malformed_text.empty());
  RC_ASSERT(got.items == expected);
}

/// What the parser must report for `input`, computed the simple way on the whole input: the leftmost
/// marker starts a message; it ends at the first ']' if that is at most `max_body` bytes from the marker,
/// otherwise the first max_body + 1 bytes are given up as malformed and scanning goes on after them.
std::vector<std::string> reference(const std::string& input, std::size_t max_body) {
  std::vector<std::string> out;
  auto text = [&](std::string_view t) {
    if (t.empty()) return;
    if (!out.empty() && out.back()[0] == 'T') {
      out.back() += t;
    } else {
      out.push_back("T" + std::string(t));
    }
  };
  std::size_t i = 0;
  while (true) {
    const auto j = input.find("##octopus[", i);
    if (j == std::string::npos) {
      text(std::string_view(input).substr(i));
      return out;
    }
    text(std::string_view(input).substr(i, j - i));
    const auto c = input.find(']', j + 10);
    if (c != std::string::npos && c - j <= max_body) {
      std::string body;
      for (std::size_t k = j + 10; k < c; ++k) {
        if (input[k] != '\r' && input[k] != '\n') body += input[k];
      }
      const auto parsed = cuttle::runner::parse_message_body(body);
      out.push_back(parsed.message
                        ? "M" + parsed.message->name + "/" + std::to_string(parsed.message->attributes.size())
                        : "X" + input.substr(j, c + 1 - j));
      i = c + 1;
    } else if (input.size() - j > max_body) {
      out.push_back("X" + input.substr(j, max_body + 1));
      i = j + max_body + 1;
    } else {
      out.push_back("X" + input.substr(j));
      return out;
    }
  }
}

struct transcript {
  std::vector<std::string> out;
  void text(std::string_view t) {
    if (t.empty()) return;
    if (!out.empty() && out.back()[0] == 'T') {
      out.back() += t;
    } else {
      out.push_back("T" + std::string(t));
    }
  }
  void message(const service_message& m) {
    out.push_back("M" + m.name + "/" + std::to_string(m.attributes.size()));
  }
  void malformed(std::string_view raw, std::string_view /*why*/) { out.push_back("X" + std::string(raw)); }
};

RC_GTEST_PROP(service_message_props, any_bytes_in_any_chunking_match_the_reference, ()) {
  static const std::vector<std::string> pieces = {"#",    "##",         "octopus",
                                                  "[",    "]",          " ",
                                                  "\n",   "=",          "'",
                                                  "QQ==", "a",          "x",
                                                  "\r",   "##octopus[", "##octopus[a x='QQ==']"};
  const auto parts = *rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(pieces));
  std::string input;
  for (const auto& p : parts) input += p;
  const std::size_t max_body = *rc::gen::inRange<std::size_t>(64, 80);
  const auto chunk = *rc::gen::inRange<std::size_t>(1, 24);
  message_parser parser(max_body);
  transcript got;
  for (std::size_t i = 0; i < input.size(); i += chunk)
    parser.feed(std::string_view(input).substr(i, chunk), got);
  parser.finish(got);
  RC_ASSERT(parser.held() == 0U);
  RC_ASSERT(got.out == reference(input, max_body));
}

}  // namespace
