// XML configuration files (calamari-spec §5.1 steps 8 and 9): Microsoft XDT transforms (apply_xdt) and the
// appSettings / connectionStrings / applicationSettings replacement (replace_config_settings), plus the
// byte-preserving document of xml_support.hpp that both of them and structured_xml.cpp edit.
// Tested by tests/deploy/xml_config_test.cpp
//
// Design. pugixml parses raw (no entity expansion, no line-end or attribute normalisation) with comments,
// processing instructions, declaration, DOCTYPE and white-space-only text kept, always as a fragment so that
// the white space around the root element survives; our own checks then require one root element and
// reject what pugixml lets through but XML forbids (NUL, duplicate attributes, '<' in an attribute value,
// malformed references, text outside the root). After parsing, the source text of every start tag, end
// tag, declaration, DOCTYPE and processing instruction is recorded per node; save() writes it back, so the
// output differs from the input only where something was edited. Edits of attributes are spliced into the
// recorded start tag, keeping its line breaks and quote style. Nodes are keyed by pugixml's node pointers,
// so removing a node first forgets everything recorded for its subtree (pugixml reuses the memory).
//
// XDT follows Microsoft.Web.XmlTransform: every element of the transform document has an XPath made of its
// parent's XPath, its qualified name and the predicate of its xdt:Locator, and that XPath is evaluated
// against the target as it is at that moment (so a child of a Replace sees the replaced element). Names are
// compared as written (prefix included); pugixml has no namespace-aware XPath.

#include "cuttle/runner/deploy/xml_config.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <utility>
#include <vector>

#include "cuttle/engine/diagnostic.hpp"
#include "cuttle/engine/variables.hpp"
#include "structured_text.hpp"
#include "xml_support.hpp"

namespace cuttle::runner::deploy {
namespace xml_support {
namespace {

using detail::append_utf8;

// Raw parsing: no parse_escapes, parse_eol or parse_wconv_attribute, so values are the text as written.
constexpr unsigned raw_parse_options = pugi::parse_cdata | pugi::parse_comments | pugi::parse_pi |
                                       pugi::parse_declaration | pugi::parse_doctype | pugi::parse_ws_pcdata |
                                       pugi::parse_fragment;

const void* key_of(pugi::xml_node node) { return node.internal_object(); }
const void* key_of(pugi::xml_attribute attr) { return attr.internal_object(); }

/// The next node after `node` in document order, staying inside `top` (which is not visited).
pugi::xml_node next_in(pugi::xml_node node, pugi::xml_node top) {
  if (node.first_child()) return node.first_child();
  while (node && node != top) {
    if (node.next_sibling()) return node.next_sibling();
    node = node.parent();
  }
  return {};
}

/// Every node below `top`, in document order.
std::vector<pugi::xml_node> descendants(pugi::xml_node top) {
  std::vector<pugi::xml_node> nodes;
  for (pugi::xml_node n = top.first_child(); n; n = next_in(n, top)) nodes.push_back(n);
  return nodes;
}

std::size_t offset_of(pugi::xml_node node) {
  const std::ptrdiff_t off = node.offset_debug();
  return off < 0 ? std::string_view::npos : static_cast<std::size_t>(off);
}

/// Where the markup of `node` starts: '<' of an element, declaration or PI; the value otherwise.
std::size_t start_of(pugi::xml_node node) {
  std::size_t off = offset_of(node);
  if (off == std::string_view::npos) return off;
  switch (node.type()) {
    case pugi::node_element:
      return off >= 1 ? off - 1 : off;
    case pugi::node_declaration:
    case pugi::node_pi:
      return off >= 2 ? off - 2 : off;
    default:
      return off;
  }
}

bool is_name_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == ':' || c >= 0x80;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/// Index of the first '&' in `raw` that does not start a well-formed reference (`&name;`, `&#N;`,
/// `&#xH;`), or npos.
std::size_t bad_reference(std::string_view raw) {
  for (std::size_t i = raw.find('&'); i != std::string_view::npos; i = raw.find('&', i + 1)) {
    std::size_t j = i + 1;
    if (j < raw.size() && raw[j] == '#') {
      ++j;
      const bool hex = j < raw.size() && raw[j] == 'x';
      if (hex) ++j;
      const std::size_t digits = j;
      while (j < raw.size() && (hex ? is_hex_digit(raw[j]) : is_digit(raw[j]))) ++j;
      if (j == digits) return i;
    } else {
      const std::size_t name = j;
      while (j < raw.size() && is_name_char(static_cast<unsigned char>(raw[j]))) ++j;
      if (j == name) return i;
    }
    if (j >= raw.size() || raw[j] != ';') return i;
  }
  return std::string_view::npos;
}

std::string describe(pugi::xml_parse_status status, bool at_end) {
  switch (status) {
    case pugi::status_out_of_memory:
      return "out of memory";
    case pugi::status_unrecognized_tag:
      return "unrecognized markup after '<'";
    case pugi::status_bad_pi:
      return "malformed XML declaration or processing instruction";
    case pugi::status_bad_comment:
      return "malformed comment";
    case pugi::status_bad_cdata:
      return "malformed CDATA section";
    case pugi::status_bad_doctype:
      return "malformed DOCTYPE";
    case pugi::status_bad_pcdata:
      return "malformed text";
    case pugi::status_bad_start_element:
      return "malformed start tag";
    case pugi::status_bad_attribute:
      return "malformed attribute";
    case pugi::status_bad_end_element:
      return "malformed end tag";
    case pugi::status_end_element_mismatch:
      return at_end ? "unexpected end of the document: an element is not closed"
                    : "the end tag does not match the start tag";
    case pugi::status_no_document_element:
      return "no root element";
    default:
      return "not well-formed XML";
  }
}

// The layout of a start tag `<name attr="v" ...>` or `.../>`, as byte positions in the tag text.
struct tag_attribute {
  std::size_t begin = 0;      // the white space before the name
  std::size_t value = 0;      // first byte of the value (after the opening quote)
  std::size_t value_end = 0;  // the closing quote
};

struct tag_layout {
  std::size_t name_end = 0;
  std::vector<tag_attribute> attributes;
  std::size_t close = 0;  // the white space before "/>" or ">"
  bool self_closing = false;
};

// start_tag -> '<' name (S? attr_name S? '=' S? quoted)* S? ('/>' | '>')
std::optional<tag_layout> scan_start_tag(std::string_view tag) {
  if (tag.size() < 3 || tag.front() != '<' || tag.back() != '>') return std::nullopt;
  tag_layout t;
  std::size_t i = 1;
  while (i < tag.size() && !is_xml_space(tag[i]) && tag[i] != '/' && tag[i] != '>') ++i;
  t.name_end = i;
  for (;;) {
    const std::size_t space = i;
    while (i < tag.size() && is_xml_space(tag[i])) ++i;
    if (i >= tag.size()) return std::nullopt;
    if (tag[i] == '>' || tag[i] == '/') {
      t.close = space;
      t.self_closing = tag[i] == '/';
      const std::size_t end = t.self_closing ? i + 2 : i + 1;
      if (end != tag.size() || (t.self_closing && tag[i + 1] != '>')) return std::nullopt;
      return t;
    }
    tag_attribute a;
    a.begin = space;
    while (i < tag.size() && !is_xml_space(tag[i]) && tag[i] != '=' && tag[i] != '>' && tag[i] != '/') ++i;
    while (i < tag.size() && is_xml_space(tag[i])) ++i;
    if (i >= tag.size() || tag[i] != '=') return std::nullopt;
    ++i;
    while (i < tag.size() && is_xml_space(tag[i])) ++i;
    if (i >= tag.size() || (tag[i] != '"' && tag[i] != '\'')) return std::nullopt;
    const std::size_t close_quote = tag.find(tag[i], i + 1);
    if (close_quote == std::string_view::npos) return std::nullopt;
    a.value = i + 1;
    a.value_end = close_quote;
    i = close_quote + 1;
    t.attributes.push_back(a);
  }
}

/// `raw` made safe between `quote` characters.
std::string quoted_raw(std::string_view raw, char quote) {
  std::string out;
  out.reserve(raw.size());
  for (const char c : raw) {
    if (c == quote) {
      out += quote == '"' ? "&quot;" : "&apos;";
    } else {
      out += c;
    }
  }
  return out;
}

std::size_t index_of(pugi::xml_node element, pugi::xml_attribute attr) {
  std::size_t k = 0;
  for (pugi::xml_attribute a = element.first_attribute(); a; a = a.next_attribute(), ++k) {
    if (a == attr) return k;
  }
  return std::string_view::npos;
}

void append_char_reference(std::string& out, unsigned char c) {
  out += "&#";
  out += std::to_string(static_cast<unsigned>(c));
  out += ';';
}

}  // namespace

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_xml_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_xml_space(text.back())) text.remove_suffix(1);
  return text;
}

bool is_blank(std::string_view text) { return trim(text).empty(); }

namespace {
// Element content and double-quoted attributes differ only in '"' and in tab, line feed and carriage
// return, which an attribute must carry as references to survive attribute-value normalisation.
std::string escape(std::string_view value, bool attribute) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (attribute && c == '"') {
      out += "&quot;";
    } else if (u < 0x20 && (attribute || (c != '\t' && c != '\n' && c != '\r'))) {
      append_char_reference(out, u);
    } else {
      out += c;
    }
  }
  return out;
}
}  // namespace

std::string escape_text(std::string_view value) { return escape(value, false); }

std::string escape_attribute(std::string_view value) { return escape(value, true); }

std::string unescape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  std::size_t i = 0;
  while (i < raw.size()) {
    const std::size_t amp = raw.find('&', i);
    if (amp == std::string_view::npos) break;
    out.append(raw.substr(i, amp - i));
    const std::size_t semi = raw.find(';', amp + 1);
    if (semi == std::string_view::npos || semi - amp > 12) {
      out += '&';
      i = amp + 1;
      continue;
    }
    const std::string_view name = raw.substr(amp + 1, semi - amp - 1);
    bool done = true;
    if (name == "lt") {
      out += '<';
    } else if (name == "gt") {
      out += '>';
    } else if (name == "amp") {
      out += '&';
    } else if (name == "quot") {
      out += '"';
    } else if (name == "apos") {
      out += '\'';
    } else if (name.size() >= 2 && name[0] == '#') {
      const bool hex = name[1] == 'x';
      const std::string_view digits = name.substr(hex ? 2 : 1);
      std::uint32_t cp = 0;
      bool valid = !digits.empty();
      for (const char c : digits) {
        std::uint32_t d = 0;
        if (is_digit(c)) {
          d = static_cast<std::uint32_t>(c - '0');
        } else if (hex && c >= 'a' && c <= 'f') {
          d = static_cast<std::uint32_t>(c - 'a' + 10);
        } else if (hex && c >= 'A' && c <= 'F') {
          d = static_cast<std::uint32_t>(c - 'A' + 10);
        } else {
          valid = false;
          break;
        }
        cp = cp * (hex ? 16U : 10U) + d;
        if (cp > 0x10FFFF) valid = false;
      }
      valid = valid && cp != 0 && (cp < 0xD800 || cp > 0xDFFF);
      if (valid) {
        append_utf8(out, cp);
      } else {
        done = false;
      }
    } else {
      done = false;
    }
    if (!done) out.append(raw.substr(amp, semi + 1 - amp));
    i = semi + 1;
  }
  if (i < raw.size()) out.append(raw.substr(i));
  return out;
}

std::string line_column_text(std::string_view text, std::size_t offset) {
  const auto [line, column] = engine::line_column(text, std::min(offset, text.size()));
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// --- document ---------------------------------------------------------------------------------------------

std::string document::where(std::size_t offset) const {
  std::string_view text = source_;
  const auto [line, column] = engine::line_column(text, std::min(offset, text.size()));
  const std::size_t col = line == 1 ? column + bom_.size() : column;
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

std::optional<std::string> document::load(std::string_view text, load_mode mode) {
  doc_.reset();
  markup_.clear();
  original_names_.clear();
  bom_.clear();
  if (text.starts_with("\xEF\xBB\xBF")) {
    bom_ = text.substr(0, 3);
    text.remove_prefix(3);
  }
  source_.assign(text);
  if (const std::size_t nul = source_.find('\0'); nul != std::string::npos) {
    return where(nul) + ": NUL character";
  }
  const pugi::xml_parse_result result =
      doc_.load_buffer(source_.data(), source_.size(), raw_parse_options, pugi::encoding_utf8);
  if (!result) {
    auto off = static_cast<std::size_t>(std::max<std::ptrdiff_t>(result.offset, 0));
    const bool at_end = off + 1 >= source_.size();
    // pugixml points at the last byte when the text ends inside an element; point after it.
    if (at_end && result.status == pugi::status_end_element_mismatch) off = source_.size();
    doc_.reset();
    return where(off) + ": " + describe(result.status, at_end);
  }
  if (auto error = validate(mode)) {
    doc_.reset();
    return error;
  }
  record_markup();
  return std::nullopt;
}

std::optional<std::string> document::validate(load_mode mode) const {
  const bool whole = mode == load_mode::document;
  std::size_t roots = 0;
  bool doctype = false;
  std::vector<std::string_view> names;
  for (pugi::xml_node n = doc_.first_child(); n; n = next_in(n, doc_)) {
    const bool top_level = n.parent() == doc_;
    switch (n.type()) {
      case pugi::node_declaration:
        if (!whole || n != doc_.first_child() || start_of(n) != 0) {
          return where(start_of(n)) + ": the XML declaration is only allowed at the very start of a document";
        }
        break;
      case pugi::node_doctype:
        if (!whole || !top_level || doctype || roots > 0) {
          return where(start_of(n)) + ": a DOCTYPE is only allowed once, before the root element";
        }
        doctype = true;
        break;
      case pugi::node_pcdata: {
        const std::string_view value = n.value();
        if (whole && top_level && !is_blank(value))
          return where(start_of(n)) + ": text outside the root element";
        if (const std::size_t bad = bad_reference(value); bad != std::string_view::npos) {
          return where(start_of(n) + bad) + ": malformed entity or character reference";
        }
        break;
      }
      case pugi::node_cdata:
        if (whole && top_level) return where(start_of(n)) + ": CDATA section outside the root element";
        break;
      case pugi::node_element: {
        if (whole && top_level && ++roots > 1) return where(start_of(n)) + ": more than one root element";
        names.clear();
        for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
          const std::string_view value = a.value();
          if (value.find('<') != std::string_view::npos) {
            return where(start_of(n)) + ": '<' in the value of attribute '" + a.name() + "'";
          }
          if (bad_reference(value) != std::string_view::npos) {
            return where(start_of(n)) + ": malformed entity or character reference in attribute '" +
                   a.name() + "'";
          }
          names.emplace_back(a.name());
        }
        std::sort(names.begin(), names.end());
        if (const auto dup = std::adjacent_find(names.begin(), names.end()); dup != names.end()) {
          return where(start_of(n)) + ": duplicate attribute '" + std::string(*dup) + "'";
        }
        break;
      }
      default:
        break;
    }
    // A declaration or processing instruction ends at the first "?>". pugixml accepts some that end
    // earlier (`<?xml version="1.0"/>`); the markup writer copies them up to "?>", so one that would
    // overlap the next node is malformed.
    if (n.type() == pugi::node_declaration || n.type() == pugi::node_pi) {
      const std::size_t end = std::string_view(source_).find("?>", start_of(n));
      const pugi::xml_node next = next_in(n, doc_);
      if (end == std::string_view::npos || (next && end + 2 > start_of(next))) {
        return where(start_of(n)) +
               ": a processing instruction or XML declaration that does not end with '?>'";
      }
    }
  }
  if (whole && roots == 0) return where(source_.size()) + ": no root element";
  return std::nullopt;
}

void document::record_markup() {
  const std::string_view src = source_;
  const std::vector<pugi::xml_node> nodes = descendants(doc_);
  std::unordered_map<const void*, std::size_t> index;
  index.reserve(nodes.size());
  for (std::size_t k = 0; k < nodes.size(); ++k) index.emplace(key_of(nodes[k]), k);
  constexpr std::size_t unknown = std::string_view::npos;
  std::vector<std::size_t> begin(nodes.size(), unknown);

  // Start tags, declarations, DOCTYPEs and processing instructions, as written.
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const pugi::xml_node n = nodes[k];
    const std::size_t start = start_of(n);
    if (start == unknown || start >= src.size()) continue;
    std::size_t end = unknown;
    switch (n.type()) {
      case pugi::node_element: {
        if (src[start] != '<') break;
        for (std::size_t i = start + 1; i < src.size(); ++i) {
          if (src[i] == '"' || src[i] == '\'') {
            i = src.find(src[i], i + 1);
            if (i == std::string_view::npos) break;
          } else if (src[i] == '>') {
            end = i + 1;
            break;
          }
        }
        if (end == unknown) break;
        const auto layout = scan_start_tag(src.substr(start, end - start));
        const std::size_t attributes =
            static_cast<std::size_t>(std::distance(n.attributes_begin(), n.attributes_end()));
        const std::string_view name = n.name();
        if (!layout || layout->attributes.size() != attributes || layout->name_end != name.size() + 1 ||
            src.substr(start + 1, name.size()) != name) {
          end = unknown;
        }
        break;
      }
      case pugi::node_declaration:
      case pugi::node_pi: {
        if (src.substr(start, 2) != "<?") break;
        const std::size_t q = src.find("?>", start + 2);
        if (q != std::string_view::npos) end = q + 2;
        break;
      }
      case pugi::node_doctype: {
        const std::size_t value_end = start + std::strlen(n.value());
        std::size_t k2 = start;
        while (k2 > 0 && is_xml_space(src[k2 - 1])) --k2;
        if (value_end < src.size() && src[value_end] == '>' && k2 >= 9 &&
            src.substr(k2 - 9, 9) == "<!DOCTYPE") {
          begin[k] = k2 - 9;
          markup_[key_of(n)].start = std::string(src.substr(k2 - 9, value_end + 1 - (k2 - 9)));
        }
        continue;
      }
      default:
        continue;
    }
    if (end == unknown) continue;
    begin[k] = start;
    markup_[key_of(n)].start = std::string(src.substr(start, end - start));
  }

  // End offsets, children before parents, and the end tags as written.
  std::vector<std::size_t> finish(nodes.size(), unknown);
  for (std::size_t k = nodes.size(); k-- > 0;) {
    const pugi::xml_node n = nodes[k];
    const std::size_t off = offset_of(n);
    switch (n.type()) {
      case pugi::node_pcdata:
        if (off != unknown) finish[k] = off + std::strlen(n.value());
        break;
      case pugi::node_cdata:
      case pugi::node_comment:
        if (off != unknown) finish[k] = off + std::strlen(n.value()) + 3;
        break;
      case pugi::node_declaration:
      case pugi::node_pi:
      case pugi::node_doctype:
        if (begin[k] != unknown) finish[k] = begin[k] + markup_[key_of(n)].start.size();
        break;
      case pugi::node_element: {
        const auto it = markup_.find(key_of(n));
        if (it == markup_.end()) break;
        std::size_t e = begin[k] + it->second.start.size();
        if (it->second.start.ends_with("/>")) {
          finish[k] = e;
          break;
        }
        if (const pugi::xml_node last = n.last_child()) e = finish[index.at(key_of(last))];
        if (e == unknown) break;
        const std::string_view name = n.name();
        if (src.substr(e, 2) != "</" || src.substr(e + 2, name.size()) != name) break;
        std::size_t gt = e + 2 + name.size();
        while (gt < src.size() && is_xml_space(src[gt])) ++gt;
        if (gt >= src.size() || src[gt] != '>') break;
        it->second.end = std::string(src.substr(e, gt + 1 - e));
        finish[k] = gt + 1;
        break;
      }
      default:
        break;
    }
  }
}

std::string document::position(pugi::xml_node node) const {
  const std::size_t start = start_of(node);
  if (start == std::string_view::npos) return "a new node";
  return where(start);
}

void document::forget(pugi::xml_node subtree) {
  pugi::xml_node n = subtree;
  while (n) {
    markup_.erase(key_of(n));
    if (!original_names_.empty()) {
      original_names_.erase(key_of(n));
      for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute())
        original_names_.erase(key_of(a));
    }
    n = next_in(n, subtree);
    if (n == subtree) break;
  }
}

void document::set_attribute(pugi::xml_node element, pugi::xml_attribute attr, std::string_view raw) {
  const std::size_t k = index_of(element, attr);
  attr.set_value(raw.data(), raw.size());
  const auto it = markup_.find(key_of(element));
  if (it == markup_.end()) return;
  std::string& tag = it->second.start;
  const auto layout = scan_start_tag(tag);
  if (!layout || k >= layout->attributes.size()) {
    markup_.erase(it);
    return;
  }
  const tag_attribute& a = layout->attributes[k];
  tag.replace(a.value, a.value_end - a.value, quoted_raw(raw, tag[a.value - 1]));
}

pugi::xml_attribute document::append_attribute(pugi::xml_node element, std::string_view name,
                                               std::string_view raw) {
  pugi::xml_attribute attr = element.append_attribute(std::string(name).c_str());
  attr.set_value(raw.data(), raw.size());
  const auto it = markup_.find(key_of(element));
  if (it == markup_.end()) return attr;
  std::string& tag = it->second.start;
  const auto layout = scan_start_tag(tag);
  if (!layout) {
    markup_.erase(it);
    return attr;
  }
  const std::size_t at =
      layout->attributes.empty() ? layout->name_end : layout->attributes.back().value_end + 1;
  tag.insert(at, " " + std::string(name) + "=\"" + quoted_raw(raw, '"') + "\"");
  return attr;
}

void document::remove_attribute(pugi::xml_node element, pugi::xml_attribute attr) {
  const std::size_t k = index_of(element, attr);
  original_names_.erase(key_of(attr));
  element.remove_attribute(attr);
  const auto it = markup_.find(key_of(element));
  if (it == markup_.end()) return;
  std::string& tag = it->second.start;
  const auto layout = scan_start_tag(tag);
  if (!layout || k >= layout->attributes.size()) {
    markup_.erase(it);
    return;
  }
  const tag_attribute& a = layout->attributes[k];
  tag.erase(a.begin, a.value_end + 1 - a.begin);
}

void document::set_value(pugi::xml_node node, std::string_view raw) {
  node.set_value(raw.data(), raw.size());
  if (node.type() == pugi::node_pi) markup_.erase(key_of(node));
}

void document::remove(pugi::xml_node node) {
  forget(node);
  node.parent().remove_child(node);
}

void document::remove_children(pugi::xml_node element) {
  while (pugi::xml_node child = element.first_child()) remove(child);
}

pugi::xml_node document::insert_copy(const document& from, pugi::xml_node proto, pugi::xml_node parent,
                                     pugi::xml_node before) {
  pugi::xml_node copy = before ? parent.insert_copy_before(proto, before) : parent.append_copy(proto);
  if (!copy) return copy;
  // The copy has the shape of `proto`: walk both together and carry the recorded markup over.
  pugi::xml_node a = proto;
  pugi::xml_node b = copy;
  while (a && b) {
    if (const auto it = from.markup_.find(key_of(a)); it != from.markup_.end())
      markup_[key_of(b)] = it->second;
    if (a.first_child()) {
      a = a.first_child();
      b = b.first_child();
      continue;
    }
    while (a && a != proto && !a.next_sibling()) {
      a = a.parent();
      b = b.parent();
    }
    if (!a || a == proto) break;
    a = a.next_sibling();
    b = b.next_sibling();
  }
  return copy;
}

pugi::xml_node document::insert_text(pugi::xml_node parent, pugi::xml_node before, std::string_view raw) {
  pugi::xml_node text =
      before ? parent.insert_child_before(pugi::node_pcdata, before) : parent.append_child(pugi::node_pcdata);
  text.set_value(raw.data(), raw.size());
  return text;
}

void document::rename(pugi::xml_node node, std::string_view name) {
  original_names_.try_emplace(key_of(node), node.name());
  node.set_name(std::string(name).c_str());
}

void document::rename(pugi::xml_attribute attr, std::string_view name) {
  original_names_.try_emplace(key_of(attr), std::string("@") + attr.name());
  attr.set_name(std::string(name).c_str());
}

void document::restore_names() {
  // Attribute names are stored with a leading '@' to tell them from element names.
  for (const auto& [key, name] : original_names_) {
    if (name.starts_with('@')) {
      pugi::xml_attribute(static_cast<pugi::xml_attribute_struct*>(const_cast<void*>(key)))
          .set_name(name.c_str() + 1);
    } else {
      pugi::xml_node(static_cast<pugi::xml_node_struct*>(const_cast<void*>(key))).set_name(name.c_str());
    }
  }
  original_names_.clear();
}

/// Appends ` name="value"` for every attribute of `node` (values written raw, double-quoted).
void append_attributes(std::string& out, const pugi::xml_node& node) {
  for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
    out += ' ';
    out += a.name();
    out += "=\"";
    out += quoted_raw(a.value(), '"');
    out += '"';
  }
}

void document::write_open(std::string& out, pugi::xml_node node) const {
  const auto it = markup_.find(key_of(node));
  const markup* m = it == markup_.end() ? nullptr : &it->second;
  switch (node.type()) {
    case pugi::node_element: {
      if (m != nullptr) {
        if (node.first_child() && m->start.ends_with("/>")) {
          // Was `<a/>`, now has content: drop the slash (and the white space before it).
          const auto layout = scan_start_tag(m->start);
          out.append(m->start, 0, layout ? layout->close : m->start.size() - 2);
          out += '>';
        } else {
          out += m->start;
        }
        return;
      }
      out += '<';
      out += node.name();
      append_attributes(out, node);
      out += node.first_child() ? ">" : "/>";
      return;
    }
    case pugi::node_pcdata:
      out += node.value();
      return;
    case pugi::node_cdata: {
      // "]]>" cannot appear inside a CDATA section: split it across two sections.
      std::string_view value = node.value();
      out += "<![CDATA[";
      for (std::size_t k = value.find("]]>"); k != std::string_view::npos; k = value.find("]]>")) {
        out.append(value.substr(0, k + 2));
        out += "]]><![CDATA[";
        value.remove_prefix(k + 2);
      }
      out.append(value);
      out += "]]>";
      return;
    }
    case pugi::node_comment:
      out += "<!--";
      out += node.value();
      out += "-->";
      return;
    case pugi::node_pi:
    case pugi::node_declaration:
      if (m != nullptr) {
        out += m->start;
        return;
      }
      out += "<?";
      out += node.name();
      append_attributes(out, node);
      if (node.type() == pugi::node_pi && *node.value() != '\0') {
        out += ' ';
        out += node.value();
      }
      out += "?>";
      return;
    case pugi::node_doctype:
      if (m != nullptr) {
        out += m->start;
      } else {
        out += "<!DOCTYPE ";
        out += node.value();
        out += '>';
      }
      return;
    default:
      return;
  }
}

void document::write_close(std::string& out, pugi::xml_node node) const {
  if (node.type() != pugi::node_element) return;
  const auto it = markup_.find(key_of(node));
  if (it == markup_.end()) {
    if (node.first_child()) {
      out += "</";
      out += node.name();
      out += '>';
    }
    return;
  }
  const markup& m = it->second;
  if (!node.first_child() && m.start.ends_with("/>")) return;
  if (!m.end.empty()) {
    out += m.end;
  } else {
    out += "</";
    out += node.name();
    out += '>';
  }
}

std::string document::save() const {
  std::string out = bom_;
  out.reserve(source_.size() + 64);
  pugi::xml_node n = doc_.first_child();
  while (n) {
    write_open(out, n);
    if (n.type() == pugi::node_element && n.first_child()) {
      n = n.first_child();
      continue;
    }
    write_close(out, n);
    for (;;) {
      if (n.next_sibling()) {
        n = n.next_sibling();
        break;
      }
      n = n.parent();
      if (!n || n == doc_) {
        n = pugi::xml_node();
        break;
      }
      write_close(out, n);
    }
  }
  return out;
}

}  // namespace xml_support

namespace {

namespace xs = xml_support;

constexpr std::string_view xdt_namespace = "http://schemas.microsoft.com/XML-Document-Transform";

// --- small helpers ----------------------------------------------------------------------------------------

std::string_view local_name(std::string_view name) {
  const std::size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

/// True for a text node of white space only that contains a line break (the indentation between elements).
bool is_indentation(pugi::xml_node n) {
  if (!n || n.type() != pugi::node_pcdata) return false;
  const std::string_view v = n.value();
  return xs::is_blank(v) && v.find('\n') != std::string_view::npos;
}

/// Moves `inserted`, just appended to `parent`, before the white space that ends `parent`, indented like
/// the last element before it (or one step deeper than the closing tag when there is none), so that an
/// inserted element lands on a line of its own.
void indent_last(xs::document& doc, pugi::xml_node parent, pugi::xml_node inserted) {
  const pugi::xml_node trailing = inserted.previous_sibling();
  if (!is_indentation(trailing)) return;
  pugi::xml_node last_element = trailing.previous_sibling();
  while (last_element && last_element.type() != pugi::node_element)
    last_element = last_element.previous_sibling();
  std::string indent;
  if (last_element) {
    if (is_indentation(last_element.previous_sibling())) indent = last_element.previous_sibling().value();
  } else {
    indent = trailing.value();
    const std::string_view line = std::string_view(indent).substr(indent.rfind('\n') + 1);
    indent += line.find('\t') != std::string_view::npos ? "\t" : "  ";
  }
  parent.insert_move_before(inserted, trailing);
  if (!indent.empty()) doc.insert_text(parent, inserted, indent);
}

/// Removes `element` and the indentation before it.
void remove_line(xs::document& doc, pugi::xml_node element) {
  const pugi::xml_node before = element.previous_sibling();
  if (is_indentation(before)) doc.remove(before);
  doc.remove(element);
}

/// Evaluates `expr` from `context`: false (with `why`) when it is not an XPath 1.0 node-set expression.
bool select(pugi::xml_node context, const std::string& expr, pugi::xpath_node_set& nodes, std::string& why) {
  if (expr.find('\0') != std::string::npos) {
    why = "NUL character";
    return false;
  }
  try {
    const pugi::xpath_query query(expr.c_str());
    if (query.return_type() != pugi::xpath_type_node_set) {
      why = "the expression does not select nodes";
      return false;
    }
    nodes = query.evaluate_node_set(context);
    nodes.sort();
    return true;
  } catch (const pugi::xpath_exception& e) {
    why = e.what();
    return false;
  }
}

/// True when `expr` is an XPath 1.0 node-set expression.
bool compiles(const std::string& expr, std::string& why) {
  if (expr.find('\0') != std::string::npos) {
    why = "NUL character";
    return false;
  }
  try {
    const pugi::xpath_query query(expr.c_str());
    if (query.return_type() == pugi::xpath_type_node_set) return true;
    why = "the expression does not select nodes";
  } catch (const pugi::xpath_exception& e) {
    why = e.what();
  }
  return false;
}

std::vector<pugi::xml_node> elements_of(const pugi::xpath_node_set& nodes) {
  std::vector<pugi::xml_node> out;
  for (const pugi::xpath_node& x : nodes) {
    if (!x.attribute() && x.node().type() == pugi::node_element) out.push_back(x.node());
  }
  return out;
}

// --- XDT --------------------------------------------------------------------------------------------------

/// `Name` or `Name(arguments)` from an xdt:Transform or xdt:Locator value.
struct xdt_call {
  std::string name;
  std::string argument_text;           // between the parentheses, trimmed
  std::vector<std::string> arguments;  // split at commas outside parentheses, trimmed; empty for "Name()"
};

std::optional<xdt_call> parse_call(std::string_view value, std::string& why) {
  const std::string text(xs::trim(xs::unescape(value)));
  xdt_call call;
  const std::size_t open = text.find('(');
  call.name = std::string(xs::trim(std::string_view(text).substr(0, open)));
  if (call.name.empty()) {
    why = "no name";
    return std::nullopt;
  }
  for (const char c : call.name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      why = "malformed name '" + call.name + "'";
      return std::nullopt;
    }
  }
  if (open == std::string::npos) return call;
  if (text.back() != ')') {
    why = "'" + call.name + "(' is not closed by ')' at the end";
    return std::nullopt;
  }
  call.argument_text = std::string(xs::trim(std::string_view(text).substr(open + 1, text.size() - open - 2)));
  if (call.argument_text.empty()) return call;
  // Microsoft's XmlArgumentUtility: split at commas, then join pieces until their parentheses balance.
  std::string piece;
  int depth = 0;
  bool have_piece = false;
  std::size_t start = 0;
  const std::string_view args = call.argument_text;
  for (std::size_t i = 0; i <= args.size(); ++i) {
    if (i < args.size() && args[i] != ',') continue;
    const std::string_view part = args.substr(start, i - start);
    piece = have_piece ? piece + "," + std::string(part) : std::string(part);
    have_piece = true;
    for (const char c : part) depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    if (depth == 0 || i == args.size()) {
      call.arguments.emplace_back(xs::trim(piece));
      have_piece = false;
    }
    start = i + 1;
  }
  return call;
}

/// An XPath string literal for `raw` (XPath 1.0 has no escapes: use the quote it does not contain).
std::string xpath_literal(std::string_view raw) {
  if (raw.find('\'') == std::string_view::npos) return "'" + std::string(raw) + "'";
  if (raw.find('"') == std::string_view::npos) return "\"" + std::string(raw) + "\"";
  std::string out = "concat(";
  std::size_t start = 0;
  bool first = true;
  while (start <= raw.size()) {
    const std::size_t q = raw.find('\'', start);
    const std::string_view part =
        raw.substr(start, q == std::string_view::npos ? raw.size() - start : q - start);
    if (!first) out += ", ";
    out += "'" + std::string(part) + "'";
    first = false;
    if (q == std::string_view::npos) break;
    out += ", \"'\"";
    start = q + 1;
  }
  return out + ")";
}

enum class transform_kind {
  none,
  replace,
  insert,
  insert_before,
  insert_after,
  insert_if_missing,
  remove,
  remove_all,
  remove_attributes,
  set_attributes
};

struct transform_name {
  std::string_view name;
  transform_kind kind;
};
constexpr transform_name transform_names[] = {
    {"Replace", transform_kind::replace},
    {"Insert", transform_kind::insert},
    {"InsertBefore", transform_kind::insert_before},
    {"InsertAfter", transform_kind::insert_after},
    {"InsertIfMissing", transform_kind::insert_if_missing},
    {"Remove", transform_kind::remove},
    {"RemoveAll", transform_kind::remove_all},
    {"RemoveAttributes", transform_kind::remove_attributes},
    {"SetAttributes", transform_kind::set_attributes},
};

/// The XDT attributes of one transform element.
struct xdt_attributes {
  pugi::xml_attribute transform;
  pugi::xml_attribute locator;
  bool suppress_warnings = false;
};

class xdt_engine {
 public:
  xdt_engine(xs::document& target, const xs::document& transform, xdt_outcome& out)
      : target_(target), transform_(transform), out_(out) {}

  /// Walks the transform document; false (with out_.error) on the first error.
  bool run() {
    struct level {
      pugi::xml_node next;      // next sibling to visit at this depth
      std::string parent_path;  // XPath of the parent in the target ("" at the top)
      std::size_t bindings = 0;
    };
    std::vector<level> stack;
    stack.push_back({transform_.top().first_child(), "", 0});
    while (!stack.empty()) {
      level& top = stack.back();
      while (top.next && top.next.type() != pugi::node_element) top.next = top.next.next_sibling();
      bindings_.resize(top.bindings);
      if (!top.next) {
        stack.pop_back();
        continue;
      }
      const pugi::xml_node element = top.next;
      top.next = element.next_sibling();
      const std::string parent_path = top.parent_path;
      push_bindings(element);
      std::string child_path;
      if (!visit(element, parent_path, child_path)) return false;
      stack.push_back({element.first_child(), std::move(child_path), bindings_.size()});
    }
    return true;
  }

 private:
  bool fail(pugi::xml_node at, const std::string& what) {
    out_.ok = false;
    out_.error = "transform, " + transform_.position(at) + ": " + what;
    return false;
  }

  void warn(pugi::xml_node at, const std::string& what) {
    out_.warnings.push_back("transform, " + transform_.position(at) + ": " + what);
  }

  void push_bindings(pugi::xml_node element) {
    for (pugi::xml_attribute a = element.first_attribute(); a; a = a.next_attribute()) {
      const std::string_view name = a.name();
      if (name.starts_with("xmlns:")) bindings_.emplace_back(name.substr(6), xs::unescape(a.value()));
    }
  }

  std::optional<std::string> resolve(std::string_view prefix) const {
    for (auto it = bindings_.rbegin(); it != bindings_.rend(); ++it) {
      if (it->first == prefix) return it->second;
    }
    return std::nullopt;
  }

  enum class attribute_kind { plain, xdt, undeclared_xdt };

  /// Whether `attr` (of an element in the current scope) is in the XDT namespace; `local` gets its local
  /// name. `undeclared_xdt`: a Transform or Locator attribute whose prefix is not declared.
  attribute_kind classify(pugi::xml_attribute attr, std::string_view& local) const {
    const std::string_view name = attr.name();
    const std::size_t colon = name.find(':');
    if (colon == std::string_view::npos || name.starts_with("xmlns:")) return attribute_kind::plain;
    local = name.substr(colon + 1);
    const auto uri = resolve(name.substr(0, colon));
    if (!uri)
      return local == "Transform" || local == "Locator" ? attribute_kind::undeclared_xdt
                                                        : attribute_kind::plain;
    return *uri == xdt_namespace ? attribute_kind::xdt : attribute_kind::plain;
  }

  /// Removes XDT attributes and declarations of the XDT namespace from `copy`, a copy of `proto`.
  void strip_copy(pugi::xml_node proto, pugi::xml_node copy) {
    std::vector<std::pair<std::string, std::string>> saved = bindings_;
    struct level {
      pugi::xml_node proto;
      pugi::xml_node copy;
      std::size_t bindings;
    };
    std::vector<level> stack{{proto, copy, bindings_.size()}};
    bool first = true;
    while (!stack.empty()) {
      level cur = stack.back();
      stack.pop_back();
      bindings_.resize(cur.bindings);
      if (!first) push_bindings(cur.proto);
      first = false;
      if (cur.proto.type() != pugi::node_element) continue;
      std::vector<std::size_t> drop;
      std::size_t k = 0;
      for (pugi::xml_attribute a = cur.proto.first_attribute(); a; a = a.next_attribute(), ++k) {
        std::string_view local;
        const std::string_view name = a.name();
        if ((name.starts_with("xmlns:") && xs::unescape(a.value()) == xdt_namespace) ||
            classify(a, local) == attribute_kind::xdt) {
          drop.push_back(k);
        }
      }
      for (auto it = drop.rbegin(); it != drop.rend(); ++it) {
        pugi::xml_attribute victim = cur.copy.first_attribute();
        for (std::size_t j = 0; j < *it; ++j) victim = victim.next_attribute();
        target_.remove_attribute(cur.copy, victim);
      }
      const std::size_t depth = bindings_.size();
      std::vector<level> children;
      for (pugi::xml_node p = cur.proto.first_child(), c = cur.copy.first_child(); p && c;
           p = p.next_sibling(), c = c.next_sibling()) {
        children.push_back({p, c, depth});
      }
      stack.insert(stack.end(), children.rbegin(), children.rend());
    }
    bindings_ = std::move(saved);
  }

  pugi::xml_node copy_into(pugi::xml_node proto, pugi::xml_node parent, pugi::xml_node before) {
    const pugi::xml_node copy = target_.insert_copy(transform_, proto, parent, before);
    if (copy) strip_copy(proto, copy);
    return copy;
  }

  bool select_or_fail(pugi::xml_node at, pugi::xml_node context, const std::string& path,
                      std::vector<pugi::xml_node>& found) {
    pugi::xpath_node_set nodes;
    std::string why;
    if (!select(context, path, nodes, why)) return fail(at, "invalid XPath '" + path + "': " + why);
    found = elements_of(nodes);
    return true;
  }

  /// Processes one transform element: its XPath, then its transform. `child_path` gets the XPath its
  /// children extend.
  bool visit(pugi::xml_node element, const std::string& parent_path, std::string& child_path) {
    xdt_attributes x;
    for (pugi::xml_attribute a = element.first_attribute(); a; a = a.next_attribute()) {
      std::string_view local;
      const attribute_kind kind = classify(a, local);
      if (kind == attribute_kind::undeclared_xdt) {
        const std::string_view name = a.name();
        const std::string prefix(name.substr(0, name.find(':')));
        return fail(element, "the namespace prefix '" + prefix + "' of '" + std::string(name) +
                                 "' is not declared (xmlns:" + prefix + "=\"" + std::string(xdt_namespace) +
                                 "\")");
      }
      if (kind != attribute_kind::xdt) continue;
      if (local == "Transform") {
        x.transform = a;
      } else if (local == "Locator") {
        x.locator = a;
      } else if (local == "SupressWarnings" || local == "SuppressWarnings") {
        x.suppress_warnings = xs::unescape(a.value()) == "true" || xs::unescape(a.value()) == "True";
      }
    }

    // The element's XPath: parent path, qualified name, locator predicate.
    const std::string step = parent_path + "/" + element.name();
    std::string path = step;
    bool xpath_locator = false;
    if (x.locator) {
      std::string why;
      const auto locator = parse_call(x.locator.value(), why);
      if (!locator) return fail(element, "malformed xdt:Locator: " + why);
      if (locator->name == "Match") {
        if (locator->arguments.empty()) return fail(element, "Match needs attribute names: Match(key)");
        std::string predicate;
        for (const std::string& name : locator->arguments) {
          const pugi::xml_attribute a = element.attribute(name.c_str());
          if (name.empty() || !a) {
            return fail(element,
                        "Match(" + locator->argument_text + "): the element has no attribute '" + name + "'");
          }
          if (!predicate.empty()) predicate += " and ";
          predicate += "@" + name + "=" + xpath_literal(a.value());
        }
        path += "[" + predicate + "]";
      } else if (locator->name == "Condition") {
        if (locator->argument_text.empty())
          return fail(element, "Condition needs an XPath predicate: Condition(@x='1')");
        path += "[" + locator->argument_text + "]";
      } else if (locator->name == "XPath") {
        if (locator->argument_text.empty()) return fail(element, "XPath needs an expression: XPath(/a/b)");
        xpath_locator = true;
        if (locator->argument_text.starts_with('/')) {
          path = locator->argument_text;
        } else {
          // Microsoft: a relative expression continues the element's own path, with "/./" collapsed.
          path = step + "/" + locator->argument_text;
          for (std::size_t k = path.find("/./"); k != std::string::npos; k = path.find("/./"))
            path.erase(k, 2);
        }
      } else {
        return fail(element,
                    "unsupported xdt:Locator '" + locator->name + "' (supported: Match, Condition, XPath)");
      }
    }
    child_path = xpath_locator ? "(" + path + ")" : path;
    if (!x.transform) {
      // A plain path step; still check that the XPath compiles.
      std::string why;
      if (!compiles(path, why)) return fail(element, "invalid XPath '" + path + "': " + why);
      return true;
    }
    return apply(element, x, parent_path, path);
  }

  bool apply(pugi::xml_node element, const xdt_attributes& x, const std::string& parent_path,
             const std::string& path) {
    std::string why;
    const auto call = parse_call(x.transform.value(), why);
    if (!call) return fail(element, "malformed xdt:Transform: " + why);
    transform_kind kind = transform_kind::none;
    for (const auto& t : transform_names) {
      if (t.name == call->name) kind = t.kind;
    }
    if (kind == transform_kind::none) {
      return fail(element,
                  "unsupported xdt:Transform '" + call->name +
                      "' (supported: Replace, Insert, InsertBefore, InsertAfter, InsertIfMissing, Remove, "
                      "RemoveAll, RemoveAttributes, SetAttributes)");
    }
    const bool takes_one = kind == transform_kind::insert_before || kind == transform_kind::insert_after;
    const bool takes_list =
        kind == transform_kind::remove_attributes || kind == transform_kind::set_attributes;
    if (takes_one && call->arguments.size() != 1) {
      return fail(element, call->name + " needs one XPath argument: " + call->name + "(/configuration/x)");
    }
    if (!takes_one && !takes_list && !call->arguments.empty()) {
      return fail(element, call->name + " takes no arguments");
    }
    for (const std::string& a : call->arguments) {
      if (takes_list && a.empty()) return fail(element, call->name + ": empty attribute name");
    }
    const std::string& name = call->name;
    const bool uses_parent = kind == transform_kind::insert || kind == transform_kind::insert_if_missing ||
                             kind == transform_kind::insert_before || kind == transform_kind::insert_after;
    if (uses_parent && parent_path.empty())
      return fail(element, name + " cannot be used on the root element");

    std::vector<pugi::xml_node> targets;
    if (!select_or_fail(element, target_.top(), uses_parent ? parent_path : path, targets)) return false;
    if (targets.empty()) {
      if (!x.suppress_warnings) {
        warn(element, "no element in the target matches '" + (uses_parent ? parent_path : path) + "'; " +
                          name + " was not applied");
      }
      return true;
    }
    bool applied = false;
    switch (kind) {
      case transform_kind::replace: {
        const pugi::xml_node old = targets.front();
        copy_into(element, old.parent(), old);
        target_.remove(old);
        applied = true;
        break;
      }
      case transform_kind::insert:
        for (const pugi::xml_node parent : targets) {
          const pugi::xml_node copy = copy_into(element, parent, {});
          indent_last(target_, parent, copy);
        }
        applied = true;
        break;
      case transform_kind::insert_if_missing: {
        std::vector<pugi::xml_node> existing;
        if (!select_or_fail(element, target_.top(), path, existing)) return false;
        for (const pugi::xml_node parent : targets) {
          if (std::any_of(existing.begin(), existing.end(),
                          [&](pugi::xml_node e) { return e.parent() == parent; })) {
            continue;
          }
          const pugi::xml_node copy = copy_into(element, parent, {});
          indent_last(target_, parent, copy);
          applied = true;
        }
        break;
      }
      case transform_kind::insert_before:
      case transform_kind::insert_after: {
        std::vector<pugi::xml_node> siblings;
        if (!select_or_fail(element, targets.front(), call->arguments.front(), siblings)) return false;
        if (siblings.empty()) {
          return fail(element, name + ": the XPath '" + call->arguments.front() + "' selects no element");
        }
        const pugi::xml_node sibling = siblings.front();
        const pugi::xml_node parent = sibling.parent();
        if (parent.type() != pugi::node_element)
          return fail(element, name + " cannot insert beside the root element");
        const pugi::xml_node before_sibling = sibling.previous_sibling();
        if (kind == transform_kind::insert_before) {
          copy_into(element, parent, sibling);
          if (is_indentation(before_sibling)) target_.insert_text(parent, sibling, before_sibling.value());
        } else {
          const pugi::xml_node copy = copy_into(element, parent, sibling.next_sibling());
          if (is_indentation(before_sibling)) target_.insert_text(parent, copy, before_sibling.value());
        }
        applied = true;
        break;
      }
      case transform_kind::remove:
        if (targets.front().parent() == target_.top())
          return fail(element, "Remove cannot remove the root element");
        remove_line(target_, targets.front());
        applied = true;
        break;
      case transform_kind::remove_all:
        // Last first: removing an element frees the ones inside it.
        for (auto it = targets.rbegin(); it != targets.rend(); ++it) {
          if (it->parent() == target_.top()) return fail(element, "RemoveAll cannot remove the root element");
          remove_line(target_, *it);
        }
        applied = true;
        break;
      case transform_kind::remove_attributes:
        applied = remove_attributes(element, *call, targets);
        break;
      case transform_kind::set_attributes:
        applied = set_attributes(element, *call, targets);
        break;
      case transform_kind::none:
        break;
    }
    if (applied) ++out_.applied;
    return true;
  }

  static bool is_namespace_declaration(std::string_view name) {
    return name == "xmlns" || name.starts_with("xmlns:");
  }

  bool remove_attributes(pugi::xml_node element, const xdt_call& call,
                         const std::vector<pugi::xml_node>& targets) {
    bool applied = false;
    std::vector<bool> used(call.arguments.size(), false);
    for (const pugi::xml_node t : targets) {
      std::vector<pugi::xml_attribute> victims;
      for (pugi::xml_attribute a = t.first_attribute(); a; a = a.next_attribute()) {
        if (call.arguments.empty()) {
          // Microsoft: no arguments means every attribute ("@*", which has no namespace declarations).
          if (!is_namespace_declaration(a.name())) victims.push_back(a);
          continue;
        }
        for (std::size_t k = 0; k < call.arguments.size(); ++k) {
          if (call.arguments[k] == a.name()) {
            victims.push_back(a);
            used[k] = true;
          }
        }
      }
      for (const pugi::xml_attribute a : victims) target_.remove_attribute(t, a);
      applied = applied || !victims.empty();
    }
    for (std::size_t k = 0; k < used.size(); ++k) {
      if (!used[k])
        warn(element, "RemoveAttributes: no target element has an attribute '" + call.arguments[k] + "'");
    }
    return applied;
  }

  bool set_attributes(pugi::xml_node element, const xdt_call& call,
                      const std::vector<pugi::xml_node>& targets) {
    // The attributes to copy, in the transform element's order: the named ones, or all but XDT's and
    // namespace declarations.
    std::vector<pugi::xml_attribute> sources;
    std::vector<bool> found(call.arguments.size(), false);
    for (pugi::xml_attribute a = element.first_attribute(); a; a = a.next_attribute()) {
      std::string_view local;
      if (is_namespace_declaration(a.name()) || classify(a, local) != attribute_kind::plain) continue;
      if (call.arguments.empty()) {
        sources.push_back(a);
        continue;
      }
      for (std::size_t k = 0; k < call.arguments.size(); ++k) {
        if (call.arguments[k] == a.name()) {
          sources.push_back(a);
          found[k] = true;
        }
      }
    }
    for (std::size_t k = 0; k < found.size(); ++k) {
      if (!found[k])
        warn(element, "SetAttributes: the transform element has no attribute '" + call.arguments[k] + "'");
    }
    if (sources.empty()) return false;
    for (const pugi::xml_node t : targets) {
      for (const pugi::xml_attribute s : sources) {
        if (pugi::xml_attribute existing = t.attribute(s.name())) {
          target_.set_attribute(t, existing, s.value());
        } else {
          target_.append_attribute(t, s.name(), s.value());
        }
      }
    }
    return true;
  }

  xs::document& target_;
  const xs::document& transform_;
  xdt_outcome& out_;
  std::vector<std::pair<std::string, std::string>> bindings_;  // namespace prefix -> URI, innermost last
};

}  // namespace

xdt_outcome apply_xdt(std::string_view target, std::string_view transform) {
  xdt_outcome out;
  xs::document target_doc;
  if (auto error = target_doc.load(target)) {
    out.error = "target, " + *error;
    return out;
  }
  xs::document transform_doc;
  if (auto error = transform_doc.load(transform)) {
    out.error = "transform, " + *error;
    return out;
  }
  out.ok = true;
  xdt_engine engine(target_doc, transform_doc, out);
  if (!engine.run()) {
    out.warnings.clear();
    return out;
  }
  out.text = out.applied > 0 ? target_doc.save() : std::string(target);
  return out;
}

replace_outcome replace_config_settings(std::string_view text, std::span<const structured_variable> vars) {
  replace_outcome out;
  xs::document doc;
  if (auto error = doc.load(text)) {
    out.error = *error;
    return out;
  }
  out.parsed = true;
  // Octopus variable names are case-insensitive; the engine's dictionary compares them the same way, and a
  // later variable wins as it does when Calamari applies the variables in order.
  engine::variables by_name;
  for (const auto& v : vars) by_name.set(v.name, v.value);
  if (by_name.size() > 0) {
    pugi::xpath_node_set nodes;
    std::string why;
    select(doc.top(),
           "//*[local-name()='appSettings']/*[local-name()='add'] | "
           "//*[local-name()='connectionStrings']/*[local-name()='add'] | "
           "//*[local-name()='applicationSettings']//*[local-name()='setting']",
           nodes, why);
    const std::vector<pugi::xml_node> entries = elements_of(nodes);
    // Last first: replacing the content of a <value> frees what was inside it.
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      pugi::xml_node entry = *it;
      const bool setting = local_name(entry.name()) == "setting";
      const bool app_setting = !setting && local_name(entry.parent().name()) == "appSettings";
      const pugi::xml_attribute key = entry.attribute(setting || !app_setting ? "name" : "key");
      if (!key) continue;
      const engine::variable* v = by_name.find(xs::unescape(key.value()));
      if (v == nullptr) continue;
      const std::string_view value = v->value ? std::string_view(*v->value) : std::string_view();
      if (!setting) {
        const char* attr_name = app_setting ? "value" : "connectionString";
        if (pugi::xml_attribute attr = entry.attribute(attr_name)) {
          doc.set_attribute(entry, attr, xs::escape_attribute(value));
        } else {
          doc.append_attribute(entry, attr_name, xs::escape_attribute(value));
        }
      } else {
        pugi::xml_node value_element;
        for (pugi::xml_node c = entry.first_child(); c && !value_element; c = c.next_sibling()) {
          if (c.type() == pugi::node_element && local_name(c.name()) == "value") value_element = c;
        }
        if (!value_element) {
          value_element = entry.append_child("value");
          indent_last(doc, entry, value_element);
        }
        doc.remove_children(value_element);
        doc.insert_text(value_element, {}, xs::escape_text(value));
      }
      ++out.replaced;
    }
  }
  out.text = out.replaced > 0 ? doc.save() : std::string(text);
  return out;
}

}  // namespace cuttle::runner::deploy
