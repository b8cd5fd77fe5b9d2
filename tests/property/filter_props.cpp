// Properties of the built-in filters: valid UTF-8 stays valid, encodings round-trip, and every escape
// filter's output parses back to its input in the target format (nlohmann::json, pugixml, libfyaml and
// libyaml, a percent-decoder and a Java-properties reader written here), up to what that format itself
// normalises.
#include <gtest/gtest.h>
#include <libfyaml.h>
#include <rapidcheck/gtest.h>
#include <yaml.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"

namespace {

namespace eng = cuttle::engine;

// --- UTF-8 helpers (test-local: the engine's are private) -----------------------------------------------

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// Strict UTF-8 decoding (no overlongs, no surrogates, nothing above U+10FFFF); nullopt if invalid.
std::optional<std::vector<char32_t>> decode_utf8(std::string_view s) {
  std::vector<char32_t> cps;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    int n = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      cps.push_back(b0);
      ++i;
      continue;
    }
    if ((b0 & 0xE0) == 0xC0) {
      n = 1, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      n = 2, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      n = 3, cp = b0 & 0x07, min = 0x10000;
    } else {
      return std::nullopt;
    }
    if (i + static_cast<std::size_t>(n) >= s.size()) return std::nullopt;  // truncated
    for (int k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((b & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    cps.push_back(cp);
    i += static_cast<std::size_t>(n) + 1;
  }
  return cps;
}

bool is_valid_utf8(std::string_view s) { return decode_utf8(s).has_value(); }

/// UTF-16 code units to UTF-8; the tests only produce well-formed pairs (a lone surrogate fails the test).
std::optional<std::string> from_utf16(const std::u16string& units) {
  std::string out;
  for (std::size_t i = 0; i < units.size(); ++i) {
    const char32_t u = units[i];
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units.size() && units[i + 1] >= 0xDC00 &&
        units[i + 1] <= 0xDFFF) {
      append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (units[i + 1] - 0xDC00));
      ++i;
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      return std::nullopt;
    } else {
      append_utf8(out, u);
    }
  }
  return out;
}

// --- Generators -----------------------------------------------------------------------------------------

/// Any Unicode scalar value, spread over the UTF-8 lengths.
rc::Gen<std::uint32_t> any_code_point() {
  return rc::gen::oneOf(
      rc::gen::inRange<std::uint32_t>(0, 0x80), rc::gen::inRange<std::uint32_t>(0x80, 0x800),
      rc::gen::inRange<std::uint32_t>(0x800, 0xD800), rc::gen::inRange<std::uint32_t>(0xE000, 0x10000),
      rc::gen::inRange<std::uint32_t>(0x10000, 0x110000));
}

/// The characters the escapes care about, plus non-ASCII from every UTF-8 length and an emoji.
const std::vector<std::string>& special_pieces() {
  static const std::vector<std::string> pieces = {"a",
                                                  "Z",
                                                  "0",
                                                  " ",
                                                  "\t",
                                                  "\r",
                                                  "\n",
                                                  "\r\n",
                                                  "'",
                                                  "\"",
                                                  "\\",
                                                  "/",
                                                  "&",
                                                  "<",
                                                  ">",
                                                  ":",
                                                  "=",
                                                  "#",
                                                  "!",
                                                  "%",
                                                  "+",
                                                  "?",
                                                  "~",
                                                  "\xC3\xA9",
                                                  "\xC3\xBE",
                                                  "\xC3\xBF",
                                                  "\xC2\xA0",
                                                  "\x01",
                                                  "\x7F",
                                                  "\xC2\x85",
                                                  "\xE6\x88\x91",
                                                  "\xE2\x9D\xA4",
                                                  "\xF0\x9F\x98\x80",
                                                  "\xEF\xBF\xBD"};
  return pieces;
}

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += p;
  // A variable value containing `#{` would be a template itself; keep values literal.
  for (std::size_t at = s.find("#{"); at != std::string::npos; at = s.find("#{", at)) s[at + 1] = '(';
  return s;
}

/// Valid UTF-8 mixing `pieces` with arbitrary code points.
rc::Gen<std::string> text_from(const std::vector<std::string>& pieces) {
  auto piece = rc::gen::weightedOneOf<std::string>(
      {{3, rc::gen::elementOf(pieces)}, {1, rc::gen::map(any_code_point(), [](std::uint32_t cp) {
                                           std::string s;
                                           append_utf8(s, cp);
                                           return s;
                                         })}});
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(piece), join);
}

/// Valid UTF-8 made only of `pieces`.
rc::Gen<std::string> text_only_from(const std::vector<std::string>& pieces) {
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(pieces)), join);
}

/// Renders `#{V | filters}` with V = `value`; the output must exist.
std::string run_filter(const std::string& value, const std::string& filters) {
  eng::variables vars;
  vars.set("V", value);
  const auto r = cuttle::test::render("#{V | " + filters + "}", vars);
  RC_ASSERT(r.output.has_value());
  return *r.output;
}

// --- Case mapping and base64 ----------------------------------------------------------------------------

RC_GTEST_PROP(filter_props, case_mapping_keeps_utf8_valid, ()) {
  const auto s = *text_from(special_pieces());
  RC_ASSERT(is_valid_utf8(run_filter(s, "ToUpper")));
  RC_ASSERT(is_valid_utf8(run_filter(s, "ToLower")));
}

RC_GTEST_PROP(filter_props, base64_round_trips_in_both_encodings, ()) {
  const auto s = *text_from(special_pieces());
  RC_ASSERT(run_filter(s, "ToBase64 | FromBase64") == s);
  RC_ASSERT(run_filter(s, "ToBase64 utf-8 | FromBase64 utf8") == s);
  RC_ASSERT(run_filter(s, "ToBase64 unicode | FromBase64 unicode") == s);
}

// --- JSON -----------------------------------------------------------------------------------------------

// JsonEscape only escapes " \ CR LF TAB. JSON forbids the other controls U+0000-U+001F inside strings, so
// the escaped text parses back exactly when the input has none of them, and is rejected otherwise.
RC_GTEST_PROP(filter_props, json_escape_parses_back_unless_other_controls_remain, ()) {
  const auto s = *text_from(special_pieces());
  bool other_control = false;
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 && b != '\t' && b != '\r' && b != '\n') other_control = true;
  }
  const auto parsed = nlohmann::json::parse("\"" + run_filter(s, "JsonEscape") + "\"", nullptr, false);
  if (other_control) {
    RC_ASSERT(parsed.is_discarded());
  } else {
    RC_ASSERT(parsed.is_string());
    RC_ASSERT(parsed.get<std::string>() == s);
  }
}

// --- XML ------------------------------------------------------------------------------------------------

/// Characters XML 1.0 allows: tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD, U+10000 and up.
rc::Gen<std::string> xml_text() {
  return rc::gen::map(text_from(special_pieces()), [](std::string s) {
    std::string out;
    const auto cps = decode_utf8(s);
    for (const char32_t cp : cps.value()) {
      const bool allowed = cp == '\t' || cp == '\n' || cp == '\r' || (cp >= 0x20 && cp <= 0xD7FF) ||
                           (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000;
      append_utf8(out, allowed ? cp : U'?');
    }
    return out;
  });
}

/// XML end-of-line handling: CRLF and a lone CR both become LF.
std::string xml_eol(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// Attribute-value normalisation after end-of-line handling: tab and LF become spaces.
std::string xml_attribute_value(std::string_view s) {
  std::string out = xml_eol(s);
  for (char& c : out) {
    if (c == '\t' || c == '\n') c = ' ';
  }
  return out;
}

std::optional<std::string> xml_element_text(const std::string& escaped) {
  pugi::xml_document doc;
  const std::string xml = "<r>" + escaped + "</r>";
  if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata,
                       pugi::encoding_utf8))
    return std::nullopt;
  return std::string(doc.child("r").text().get());
}

std::optional<std::string> xml_attribute_text(const std::string& escaped, char quote) {
  pugi::xml_document doc;
  const std::string xml = std::string("<r a=") + quote + escaped + quote + "/>";
  if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8)) return std::nullopt;
  return std::string(doc.child("r").attribute("a").value());
}

// XmlEscape leaves CR, LF and tab alone, so the parser applies XML's own normalisations to them: line ends
// become LF everywhere, and in attributes tab and LF then become spaces.
RC_GTEST_PROP(filter_props, xml_escape_parses_back_in_elements_and_attributes, ()) {
  const auto s = *xml_text();
  const auto escaped = run_filter(s, "XmlEscape");
  RC_ASSERT(xml_element_text(escaped) == std::optional<std::string>(xml_eol(s)));
  RC_ASSERT(xml_attribute_text(escaped, '"') == std::optional<std::string>(xml_attribute_value(s)));
  RC_ASSERT(xml_attribute_text(escaped, '\'') == std::optional<std::string>(xml_attribute_value(s)));
}

// HtmlEscape's extra `&#x2F;` is a character reference, so the same holds for an XHTML reader.
RC_GTEST_PROP(filter_props, html_escape_parses_back_as_xml, ()) {
  const auto s = *xml_text();
  const auto escaped = run_filter(s, "HtmlEscape");
  RC_ASSERT(escaped.find('/') == std::string::npos);
  RC_ASSERT(xml_element_text(escaped) == std::optional<std::string>(xml_eol(s)));
  RC_ASSERT(xml_attribute_text(escaped, '"') == std::optional<std::string>(xml_attribute_value(s)));
}

// --- YAML -----------------------------------------------------------------------------------------------

/// The scalar value of a one-scalar YAML document, or nullopt if libfyaml rejects it.
std::optional<std::string> yaml_scalar(const std::string& text) {
  fy_parse_cfg cfg{};
  cfg.flags = FYPCF_QUIET;
  fy_document* doc = fy_document_build_from_string(&cfg, text.data(), text.size());
  if (doc == nullptr) return std::nullopt;
  std::optional<std::string> value;
  fy_node* root = fy_document_root(doc);
  std::size_t len = 0;
  const char* scalar = root != nullptr ? fy_node_get_scalar(root, &len) : nullptr;
  if (scalar != nullptr) value = std::string(scalar, len);
  fy_document_destroy(doc);
  return value;
}

// The escaped text only contains printable ASCII and escapes, so any string survives exactly, including
// controls and astral characters (whose surrogate-pair escapes libfyaml joins again).
RC_GTEST_PROP(filter_props, yaml_double_quote_escape_parses_back_exactly, ()) {
  const auto s = *text_from(special_pieces());
  const auto escaped = run_filter(s, "YamlDoubleQuoteEscape");
  for (const char c : escaped) RC_ASSERT(c >= 0x20 && c <= 0x7E);
  RC_ASSERT(yaml_scalar("\"" + escaped + "\"") == std::optional<std::string>(s));
}

/// The scalar of a one-scalar YAML document read by libyaml, or nullopt if it rejects the text. Single-quoted
/// scalars are checked with libyaml, the reference C parser: libfyaml 0.7.12 (Debian 12) mis-decodes `''`
/// escapes in some multi-line scalars (`'\n\n''\n\n'''` reads as LF ' LF LF instead of LF ' LF '), while
/// libyaml agreed with yaml_folded on all 5.4 M strings of up to five pieces from a 22-piece alphabet of
/// quotes, breaks, blanks and YAML indicators.
std::optional<std::string> libyaml_scalar(const std::string& text) {
  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) return std::nullopt;
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  std::optional<std::string> value;
  int scalars = 0;
  bool ok = true;
  for (bool done = false; !done;) {
    yaml_event_t event;
    if (yaml_parser_parse(&parser, &event) == 0) {
      ok = false;
      break;
    }
    if (event.type == YAML_SCALAR_EVENT) {
      ++scalars;
      value.emplace(reinterpret_cast<const char*>(event.data.scalar.value), event.data.scalar.length);
    }
    done = event.type == YAML_STREAM_END_EVENT;
    yaml_event_delete(&event);
  }
  yaml_parser_delete(&parser);
  if (!ok || scalars != 1) return std::nullopt;
  return value;
}

/// What a single-quoted YAML scalar can carry: printable characters (c-printable), without NEL, LS, PS (line
/// breaks in YAML 1.1) and the byte-order mark; '-' and '.' are left out because a line starting with `---`
/// or `...` is a document marker, which the escape does not guard against. A lone CR is a line break to YAML
/// but not to the escape, so CR only appears as part of CRLF. Whitespace-only lines between two line breaks
/// are removed (see yaml_folded).
rc::Gen<std::string> yaml_single_text() {
  std::vector<std::string> pieces;
  for (const auto& p : special_pieces()) {
    if (p != "\r" && p != "\x01" && p != "\x7F" && p != "\xC2\x85") pieces.push_back(p);
  }
  for (char c = 0x20; c < 0x7F; ++c) {
    if (c != '-' && c != '.') pieces.emplace_back(1, c);
  }
  for (const char* p : {"\xC3\xA0", "\xD0\x96", "\xE2\x82\xAC", "\xF0\x90\x8D\x88"}) pieces.emplace_back(p);
  return rc::gen::map(text_only_from(pieces), [](std::string s) {
    // Drop spaces and tabs that sit alone on a line between two breaks: YAML reads such a line as empty,
    // which merges the two runs of breaks the escape treated separately.
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
      out += s[i];
      if (s[i++] != '\n') continue;
      std::size_t j = i;
      while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
      if (j < s.size() && (s[j] == '\n' || (s[j] == '\r' && j + 1 < s.size() && s[j + 1] == '\n'))) i = j;
    }
    return out;
  });
}

/// What a YAML reader returns for a single-quoted scalar written with YamlSingleQuoteEscape: line breaks
/// come back as LF (CRLF is one break), and the spaces and tabs next to a line break are lost to folding.
std::string yaml_folded(std::string_view s) {
  std::string lf;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
    lf += s[i];
  }
  std::string out;
  for (std::size_t i = 0; i < lf.size(); ++i) {
    if (lf[i] == '\n') {
      while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
      out += '\n';
      while (i + 1 < lf.size() && (lf[i + 1] == ' ' || lf[i + 1] == '\t')) ++i;
    } else {
      out += lf[i];
    }
  }
  return out;
}

RC_GTEST_PROP(filter_props, yaml_single_quote_escape_parses_back_up_to_folding, ()) {
  const auto s = *yaml_single_text();
  const auto escaped = run_filter(s, "YamlSingleQuoteEscape");
  RC_ASSERT(libyaml_scalar("'" + escaped + "'") == std::optional<std::string>(yaml_folded(s)));
}

// Without line breaks nothing folds: the value comes back exactly, also as a mapping value.
RC_GTEST_PROP(filter_props, yaml_single_quote_escape_on_one_line_is_exact, ()) {
  const auto s = *yaml_single_text();
  std::string one_line;
  for (const char c : s) one_line += (c == '\r' || c == '\n') ? ' ' : c;
  const auto escaped = run_filter(one_line, "YamlSingleQuoteEscape");
  RC_ASSERT(libyaml_scalar("'" + escaped + "'") == std::optional<std::string>(one_line));
}

// --- URI ------------------------------------------------------------------------------------------------

/// Percent-decoding; nullopt for a malformed escape.
std::optional<std::string> percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;  // the escapes use upper-case hex only
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex(s[i + 1]);
    const int lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

RC_GTEST_PROP(filter_props, uri_data_escape_percent_decodes_back, ()) {
  const auto s = *text_from(special_pieces());
  const auto escaped = run_filter(s, "UriDataEscape");
  for (const char c : escaped) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    RC_ASSERT(unreserved || c == '%');
  }
  RC_ASSERT(percent_decode(escaped) == std::optional<std::string>(s));
}

RC_GTEST_PROP(filter_props, uri_escape_percent_decodes_back, ()) {
  const auto s = *text_from(special_pieces());
  RC_ASSERT(percent_decode(run_filter(s, "UriEscape")) == std::optional<std::string>(s));
}

// --- Java properties ------------------------------------------------------------------------------------

/// java.util.Properties' unescaping (loadConvert) over text: \t \n \r \f, \uXXXX, and a backslash before
/// any other character stands for that character. nullopt for a malformed \u escape or a lone surrogate.
std::optional<std::string> properties_unescape(std::string_view s) {
  const auto cps = decode_utf8(s);
  if (!cps) return std::nullopt;
  std::u16string units;
  auto push = [&units](char32_t cp) {
    if (cp >= 0x10000) {
      units.push_back(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      units.push_back(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    } else {
      units.push_back(static_cast<char16_t>(cp));
    }
  };
  const auto& v = *cps;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\') {
      push(v[i]);
      continue;
    }
    if (++i == v.size()) return std::nullopt;
    switch (v[i]) {
      case 't':
        units.push_back(u'\t');
        break;
      case 'n':
        units.push_back(u'\n');
        break;
      case 'r':
        units.push_back(u'\r');
        break;
      case 'f':
        units.push_back(u'\f');
        break;
      case 'u': {
        if (i + 4 >= v.size()) return std::nullopt;
        char16_t unit = 0;
        for (int k = 1; k <= 4; ++k) {
          const char32_t c = v[i + static_cast<std::size_t>(k)];
          int d = -1;
          if (c >= '0' && c <= '9') d = static_cast<int>(c - '0');
          if (c >= 'a' && c <= 'f') d = static_cast<int>(c - 'a' + 10);
          if (c >= 'A' && c <= 'F') d = static_cast<int>(c - 'A' + 10);
          if (d < 0) return std::nullopt;
          unit = static_cast<char16_t>(unit * 16 + d);
        }
        units.push_back(unit);
        i += 4;
        break;
      }
      default:
        push(v[i]);
    }
  }
  return from_utf16(units);
}

/// One `key=value` line read the way java.util.Properties reads it: leading white space skipped, the key
/// ends at the first unescaped '=', ':' or white space, then white space and one separator are skipped.
std::optional<std::pair<std::string, std::string>> properties_line(std::string_view line) {
  auto is_white = [](char c) { return c == ' ' || c == '\t' || c == '\f'; };
  std::size_t i = 0;
  while (i < line.size() && is_white(line[i])) ++i;
  if (i < line.size() && (line[i] == '#' || line[i] == '!')) return std::nullopt;  // a comment
  const std::size_t key_start = i;
  while (i < line.size() && line[i] != '=' && line[i] != ':' && !is_white(line[i])) {
    if (line[i] == '\r' || line[i] == '\n') return std::nullopt;  // must have been escaped
    i += line[i] == '\\' ? 2 : 1;
  }
  const std::string_view key = line.substr(key_start, i - key_start);
  while (i < line.size() && is_white(line[i])) ++i;
  if (i < line.size() && (line[i] == '=' || line[i] == ':')) ++i;
  while (i < line.size() && is_white(line[i])) ++i;
  const std::string_view value = line.substr(std::min(i, line.size()));
  if (value.find_first_of("\r\n") != std::string_view::npos) return std::nullopt;
  auto k = properties_unescape(key);
  auto v = properties_unescape(value);
  if (!k || !v) return std::nullopt;
  return std::make_pair(std::move(*k), std::move(*v));
}

RC_GTEST_PROP(filter_props, properties_escapes_unescape_back, ()) {
  const auto s = *text_from(special_pieces());
  RC_ASSERT(properties_unescape(run_filter(s, "PropertiesKeyEscape")) == std::optional<std::string>(s));
  RC_ASSERT(properties_unescape(run_filter(s, "PropertiesValueEscape")) == std::optional<std::string>(s));
}

// As a whole line. The escapes leave '#' and '!' alone, which start a comment at the beginning of a key,
// and form feed, which a reader skips as white space before a key or value: the generator avoids both.
RC_GTEST_PROP(filter_props, properties_line_reads_back_key_and_value, ()) {
  auto clean = [](std::string s) {
    std::string out;
    for (const char c : s) {
      if (c != '\f') out += c;
    }
    if (!out.empty() && (out[0] == '#' || out[0] == '!')) out.insert(0, "k");
    return out;
  };
  const auto key = clean(*text_from(special_pieces()));
  const auto value = clean(*text_from(special_pieces()));
  const auto line = run_filter(key, "PropertiesKeyEscape") + "=" + run_filter(value, "PropertiesValueEscape");
  const auto read = properties_line(line);
  RC_ASSERT(read.has_value());
  RC_ASSERT(read->first == key);
  RC_ASSERT(read->second == value);
}

}  // namespace
