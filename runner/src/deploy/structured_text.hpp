// Internal to cuttle::deploy: the text helpers the structured-configuration replacers share (UTF-8 decoding,
// the case folding that makes paths compare case-insensitively, the Octopus-name rule, error positions).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cuttle::runner::deploy::detail {

/// Decodes one UTF-8 sequence at `i` (advancing `i`); invalid bytes come back as themselves with ok=false.
char32_t decode_utf8(std::string_view s, std::size_t& i, bool& ok);
void append_utf8(std::string& out, char32_t cp);
/// Simple (one-to-one) lower-case mapping of one character.
char32_t lower(char32_t c);
/// Appends `s` case-folded; bytes that are not UTF-8 are kept as they are.
void append_folded(std::string& out, std::string_view s);
std::string folded(std::string_view s);
/// `s` with ASCII letters in lower case (for names that are ASCII by definition: extensions, flags,
/// encoding names).
std::string lower_ascii(std::string_view s);
/// Names that start with "Octopus" (any case) are Octopus's own variables, unless "Octopus:" makes them a
/// path.
bool is_octopus_variable(std::string_view name);
/// "line L, column C: what" for byte offset `pos` of `text` (columns count characters; CR, LF and CRLF end
/// lines).
std::string position_message(std::string_view text, std::size_t pos, const std::string& what);

}  // namespace cuttle::runner::deploy::detail
