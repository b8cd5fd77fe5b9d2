// Service messages (calamari-spec §3): `##octopus[name attr='base64' ...]` written by a script's helpers.
//
// message_parser is a streaming parser for one output stream. It is fed the stream in chunks of any size
// and calls back with what it found, in order: runs of plain text, well-formed messages, and malformed
// ones (with their raw text, so they can be shown). Plain text is passed on as soon as it is known not to
// start a message: only a partial `##octopus[` marker at the end of a chunk (at most 9 bytes) is held.
// The body of a message runs to the first ']', may start anywhere in a line and may span lines (CR and LF
// in it are deleted, so base64 may be broken across lines); a body longer than the parser's limit is given
// up and passed on as text, so an unterminated `##octopus[` never swallows the rest of a log.
//
// Example:
//   cuttle::runner::message_parser parser;
//   parser.feed(chunk, handler);   // handler.text(sv), handler.message(m), handler.malformed(raw, why)
//   parser.finish(handler);        // end of stream
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cuttle::runner {

/// A well-formed service message; attribute values are decoded (base64 of UTF-8 on the wire).
struct service_message {
  std::string name;  ///< matched case-sensitively, as Octopus does
  std::vector<std::pair<std::string, std::string>> attributes;

  /// The decoded value of attribute `attr` (names compare ASCII case-insensitively), or nullopt.
  [[nodiscard]] std::optional<std::string> get(std::string_view attr) const;

  bool operator==(const service_message&) const = default;
};

/// Parses a message body (the text between `##octopus[` and `]`, line breaks already deleted). Returns
/// the message, or the reason it is malformed.
struct body_parse {
  std::optional<service_message> message;
  std::string error;  ///< set when `message` is empty
};
body_parse parse_message_body(std::string_view body);

/// True when `text` is "true" in any case, white space around it ignored (.NET's bool.Parse): how the
/// `sensitive` attribute and boolean variables such as Octopus.Action.FailScriptOnErrorOutput are read.
bool reads_true(std::string_view text);

/// The wire form of a message: `##octopus[name a='b64' ...]`, single-quoted as the helpers write it.
std::string format_message(const service_message& m);

/// Standard base64 (RFC 4648 alphabet, '=' padding) of `bytes`.
std::string encode_base64(std::string_view bytes);
/// Decodes standard base64; padding may be left out. nullopt when `text` is not base64.
std::optional<std::string> decode_base64(std::string_view text);

/// The default bound on a message body (bytes kept while looking for its ']').
inline constexpr std::size_t default_max_message_body = std::size_t{4} << 20U;

class message_parser {
 public:
  /// `max_body`: the most bytes a message may have from its marker to before its ']' (at least 64).
  explicit message_parser(std::size_t max_body = default_max_message_body)
      : max_body_(max_body < 64 ? 64 : max_body) {}

  /// Feeds `chunk`. `handler` needs: text(std::string_view), message(const service_message&) and
  /// malformed(std::string_view raw, std::string_view why).
  template <typename Handler>
  void feed(std::string_view chunk, Handler& handler);

  /// Ends the stream: a held partial marker is text, an unterminated message is malformed.
  template <typename Handler>
  void finish(Handler& handler);

  /// Bytes held back from the handler (a partial marker or a message body being read).
  [[nodiscard]] std::size_t held() const { return in_body_ ? raw_.size() : matched_; }

 private:
  static constexpr std::string_view marker = "##octopus[";

  template <typename Handler>
  void end_body(Handler& handler);
  /// Passes the message being read on as malformed (its raw text) and returns to plain text.
  template <typename Handler>
  void give_up(Handler& handler, std::string_view why);
  template <typename Handler>
  void release_mismatch(std::string_view chunk, std::size_t& i, Handler& handler);

  std::size_t max_body_;
  std::size_t matched_ = 0;  ///< length of the marker prefix held at the end of the text seen so far
  bool in_body_ = false;
  std::string body_;  ///< body without CR and LF
  std::string raw_;   ///< everything from the marker on, as written (for showing a malformed message)
};

// --- implementation -------------------------------------------------------------------------------------

template <typename Handler>
void message_parser::feed(std::string_view chunk, Handler& handler) {
  std::size_t i = 0;
  const std::size_t n = chunk.size();
  while (i < n) {
    if (in_body_) {
      // Look for the closing bracket no further than the bound allows, so where a body is given up does
      // not depend on how the stream was cut into chunks.
      const std::size_t room = max_body_ + 1 - raw_.size();
      const auto window = chunk.substr(i, std::min(n - i, room));
      const auto close = window.find(']');
      const auto piece = window.substr(0, close == std::string_view::npos ? window.size() : close);
      raw_.append(piece);
      for (const char c : piece) {
        if (c != '\r' && c != '\n') body_ += c;
      }
      i += piece.size();
      if (close != std::string_view::npos) {
        raw_ += ']';
        ++i;
        end_body(handler);
      } else if (raw_.size() > max_body_) {
        give_up(handler, "longer than the limit without a closing ']'");
      }
      continue;
    }
    if (matched_ == 0) {
      // Plain text: pass on everything up to the next '#', where a marker may start.
      const auto hash = chunk.find('#', i);
      if (hash == std::string_view::npos) {
        handler.text(chunk.substr(i));
        return;
      }
      if (hash > i) handler.text(chunk.substr(i, hash - i));
      i = hash;
    }
    // Match the marker, or go on matching the prefix held from the previous chunk.
    while (i < n && matched_ < marker.size() && chunk[i] == marker[matched_]) {
      ++matched_;
      ++i;
    }
    if (matched_ == marker.size()) {
      matched_ = 0;
      in_body_ = true;
      raw_.assign(marker);
    } else if (i < n) {
      release_mismatch(chunk, i, handler);
    }  // else: a marker prefix ends the chunk and stays held
  }
}

template <typename Handler>
void message_parser::release_mismatch(std::string_view chunk, std::size_t& i, Handler& handler) {
  // The text is marker[0, matched_) followed by chunk[i], which does not continue it. The marker's only
  // self-overlap is "#" in "##": after "##", a further '#' means the marker may start one byte later.
  if (matched_ == 2 && chunk[i] == '#') {
    handler.text(marker.substr(0, 1));
    ++i;  // "##" is now the held prefix again
    return;
  }
  handler.text(marker.substr(0, matched_));
  matched_ = 0;  // chunk[i] is looked at again: it may start a marker
}

template <typename Handler>
void message_parser::end_body(Handler& handler) {
  auto parsed = parse_message_body(body_);
  if (parsed.message) {
    in_body_ = false;
    handler.message(*parsed.message);
    raw_.clear();
    body_.clear();
  } else {
    give_up(handler, parsed.error);
  }
}

template <typename Handler>
void message_parser::give_up(Handler& handler, std::string_view why) {
  in_body_ = false;
  handler.malformed(raw_, why);
  raw_.clear();
  body_.clear();
}

template <typename Handler>
void message_parser::finish(Handler& handler) {
  if (in_body_) {
    give_up(handler, "the output ended before its closing ']'");
  } else if (matched_ > 0) {
    handler.text(marker.substr(0, matched_));
    matched_ = 0;
  }
}

}  // namespace cuttle::runner
