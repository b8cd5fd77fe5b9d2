// Private to cuttle_deploy: an XML document that saves back byte for byte, shared by the XDT transforms and
// configuration variables (xml_config.cpp) and by structured XML replacement (structured_xml.cpp).
// Tested by tests/deploy/xml_config_test.cpp
//
// pugixml parses the text "raw": entity and character references are not expanded, line ends are not
// normalised and white space between tags is kept, so every value in the tree is the text as written. The
// document remembers the exact source text of every start tag, end tag, declaration, DOCTYPE and processing
// instruction; save() writes that text back unless the node was edited, and writes text, comments and CDATA
// from their raw values. So the untouched parts of a document come out as they went in, and an edited start
// tag keeps its layout: a new attribute value is spliced between the original quotes. All edits go through
// this class so that the remembered markup follows them; values passed in are raw (already escaped, see
// escape_text / escape_attribute).
#pragma once

#include <cstddef>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cuttle::runner::deploy::xml_support {

/// What load() accepts: a whole document (one root element, an optional declaration first and an optional
/// DOCTYPE) or a fragment (the inner XML of an element: any mix of elements, text, CDATA, comments and
/// processing instructions).
enum class load_mode { document, fragment };

/// A parsed XML text that saves back with its original bytes wherever it was not edited.
class document {
 public:
  document() = default;
  document(const document&) = delete;
  document& operator=(const document&) = delete;

  /// Parses `text` (UTF-8; a leading BOM is kept and written back). Returns an error
  /// "line L, column C: what" (1-based, columns in bytes) when it is not well-formed.
  std::optional<std::string> load(std::string_view text, load_mode mode = load_mode::document);

  /// The document node; its element child is the root element.
  pugi::xml_node top() const { return doc_; }
  /// "line L, column C" of the start of `node` in the loaded text ("a new node" for nodes added later).
  std::string position(pugi::xml_node node) const;
  /// The document as text.
  std::string save() const;

  /// Sets the raw value of `attr`, an attribute of `element`.
  void set_attribute(pugi::xml_node element, pugi::xml_attribute attr, std::string_view raw);
  /// Adds an attribute after the last one.
  pugi::xml_attribute append_attribute(pugi::xml_node element, std::string_view name, std::string_view raw);
  void remove_attribute(pugi::xml_node element, pugi::xml_attribute attr);
  /// Sets the raw value of a text, CDATA, comment or processing-instruction node.
  void set_value(pugi::xml_node node, std::string_view raw);
  /// Removes `node` and everything inside it.
  void remove(pugi::xml_node node);
  void remove_children(pugi::xml_node element);
  /// Inserts a deep copy of `proto` (a node of `from`, which may be this document) into `parent` before
  /// `before` (at the end when `before` is null). The copy keeps the source text of its markup.
  pugi::xml_node insert_copy(const document& from, pugi::xml_node proto, pugi::xml_node parent,
                             pugi::xml_node before);
  /// Inserts a text node with raw content `raw` into `parent` before `before` (at the end when null).
  pugi::xml_node insert_text(pugi::xml_node parent, pugi::xml_node before, std::string_view raw);

  /// Renames an element or attribute until restore_names(); save() always writes the original names.
  void rename(pugi::xml_node node, std::string_view name);
  void rename(pugi::xml_attribute attr, std::string_view name);
  void restore_names();

 private:
  struct markup {
    std::string start;  // start tag, declaration, DOCTYPE or processing instruction as written
    std::string end;    // end tag as written, or empty when unknown or self-closing
  };
  std::optional<std::string> validate(load_mode mode) const;
  void record_markup();
  void forget(pugi::xml_node subtree);
  void write_open(std::string& out, pugi::xml_node node) const;
  void write_close(std::string& out, pugi::xml_node node) const;
  std::string where(std::size_t offset) const;

  pugi::xml_document doc_;
  std::string source_;  // the text parsed (without BOM), for positions and recording markup
  std::string bom_;
  std::unordered_map<const void*, markup> markup_;
  std::unordered_map<const void*, std::string> original_names_;
};

/// True for the four XML white-space characters.
constexpr bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
/// `text` without leading and trailing XML white space.
std::string_view trim(std::string_view text);
/// True when `text` is empty or only XML white space.
bool is_blank(std::string_view text);
/// Escapes `value` for element content: &amp; &lt; &gt;, and control characters as character references.
std::string escape_text(std::string_view value);
/// Escapes `value` for a double-quoted attribute: as escape_text plus &quot;, and tab, line feed and
/// carriage return as character references so that they survive attribute-value normalisation.
std::string escape_attribute(std::string_view value);
/// Expands the five predefined entities and character references; other references are kept as written.
std::string unescape(std::string_view raw);
/// "line L, column C" of byte `offset` of `text`.
std::string line_column_text(std::string_view text, std::size_t offset);

}  // namespace cuttle::runner::deploy::xml_support
