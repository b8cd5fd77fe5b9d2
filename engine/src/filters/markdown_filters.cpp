// Built-in filters, Markdown family (spec §9.3): Markdown / MarkdownToHtml render the trimmed input as HTML
// through cmark-gfm, configured to come as close as possible to Octostache's Markdig pipeline.
// Tested by tests/engine/filters_markdown_test.cpp
//
// Octostache uses Markdig with pipe tables, the emphasis extras and auto-links, and appends "\n" to its
// output. cmark-gfm gives us GFM tables and auto-links; the emphasis extras come from a small inline
// extension defined here ("cuttle_emphasis_extras"), which goes through cmark's delimiter machinery like
// `*` and `_`, with Markdig's delimiter counts:
//   ~x~  -> <sub>   ~~x~~ -> <del>   ^x^ -> <sup>   ++x++ -> <ins>   ==x== -> <mark>
// cmark-gfm lets only one extension own a delimiter character (the first attached that lists it), so
// this extension also provides `~~strike~~`, and cmark-gfm's own strikethrough extension is not attached:
// with it, a single `~` would mean <del> rather than Markdig's <sub>.
//
// Thread safety: cmark-gfm registers its core extensions in a process-wide registry, and its inline
// parser switches extension characters on and off in process-wide tables while it parses
// (cmark_manage_extensions_special_characters), so two concurrent parses race. Registration therefore
// happens once under std::call_once, and every parse-and-render runs under one mutex.

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "filters/filter_api.hpp"
#include "unicode.hpp"

namespace cuttle::engine::detail {
namespace {

using result_t = std::optional<std::string>;

// ---- RAII for cmark objects -------------------------------------------------------------------------

struct parser_deleter {
  void operator()(cmark_parser* p) const { cmark_parser_free(p); }
};
struct node_deleter {
  void operator()(cmark_node* n) const { cmark_node_free(n); }
};
struct html_deleter {
  void operator()(char* s) const { cmark_get_default_mem_allocator()->free(s); }
};
using parser_ptr = std::unique_ptr<cmark_parser, parser_deleter>;
using node_ptr = std::unique_ptr<cmark_node, node_deleter>;
using html_ptr = std::unique_ptr<char, html_deleter>;

// ---- The emphasis-extras inline extension ----------------------------------------------------------

/// Markdig's delimiter run lengths for each extra character: a run outside [min, max] is literal text.
struct delimiter_rule {
  char c;
  int min_count;
  int max_count;
};
constexpr std::array<delimiter_rule, 4> delimiter_rules{{
    {'~', 1, 2},
    {'^', 1, 1},
    {'+', 2, 2},
    {'=', 2, 2},
}};

const delimiter_rule* rule_for(unsigned char c) {
  for (const auto& r : delimiter_rules) {
    if (static_cast<unsigned char>(r.c) == c) return &r;
  }
  return nullptr;
}

/// The HTML element for `count` delimiters of `c`.
std::string_view element_for(unsigned char c, int count) {
  switch (c) {
    case '~':
      return count == 2 ? "del" : "sub";
    case '^':
      return "sup";
    case '+':
      return "ins";
    default:
      return "mark";
  }
}

// Scans a delimiter run, returns it as a text node, and pushes it on the delimiter stack when its length
// is one Markdig accepts and it can open or close (CommonMark flanking rules, intraword allowed).
cmark_node* match_extra(cmark_syntax_extension*, cmark_parser*, cmark_node*, unsigned char character,
                        cmark_inline_parser* inline_parser) {
  const delimiter_rule* rule = rule_for(character);
  if (rule == nullptr) return nullptr;
  int left_flanking = 0;
  int right_flanking = 0;
  int punct_before = 0;
  int punct_after = 0;
  const int count = cmark_inline_parser_scan_delimiters(inline_parser, 64, character, &left_flanking,
                                                        &right_flanking, &punct_before, &punct_after);
  cmark_node* text = cmark_node_new_with_mem(CMARK_NODE_TEXT, cmark_get_default_mem_allocator());
  const std::string literal(static_cast<std::size_t>(count), static_cast<char>(character));
  cmark_node_set_literal(text, literal.c_str());
  if ((left_flanking || right_flanking) && count >= rule->min_count && count <= rule->max_count) {
    cmark_inline_parser_push_delimiter(inline_parser, character, left_flanking, right_flanking, text);
  }
  return text;
}

/// Length of a delimiter's text node.
int literal_length(cmark_node* text) {
  const char* literal = cmark_node_get_literal(text);
  return literal == nullptr ? 0 : static_cast<int>(std::strlen(literal));
}

/// Removes `used` characters from a delimiter's text; when none are left, frees the text and drops the
/// delimiter. Returns true when the delimiter was dropped.
bool consume_delimiter(cmark_inline_parser* inline_parser, delimiter* d, int used) {
  const int left = literal_length(d->inl_text) - used;
  if (left > 0) {
    const std::string literal(static_cast<std::size_t>(left), static_cast<char>(d->delim_char));
    cmark_node_set_literal(d->inl_text, literal.c_str());
    d->length = left;
    return false;
  }
  cmark_node_free(d->inl_text);
  cmark_inline_parser_remove_delimiter(inline_parser, d);
  return true;
}

// Called by cmark when `closer` matches `opener`: wraps the inlines between them in an element and
// returns the next closer to look at (the same one when it still has characters left).
delimiter* insert_extra(cmark_syntax_extension*, cmark_parser*, cmark_inline_parser* inline_parser,
                        delimiter* opener, delimiter* closer) {
  const unsigned char c = closer->delim_char;
  const int opener_count = literal_length(opener->inl_text);
  const int closer_count = literal_length(closer->inl_text);
  // `~` uses two characters from each side when both have two, as `*` does; the others always use
  // their whole (fixed-length) runs.
  const int used = (c == '~' && (opener_count < 2 || closer_count < 2)) ? 1 : std::min(opener_count, 2);
  const std::string tag(element_for(c, used));

  const std::string open_tag = "<" + tag + ">";
  const std::string close_tag = "</" + tag + ">";
  cmark_node* element = cmark_node_new_with_mem(CMARK_NODE_CUSTOM_INLINE, cmark_get_default_mem_allocator());
  cmark_node_set_on_enter(element, open_tag.c_str());
  cmark_node_set_on_exit(element, close_tag.c_str());
  // Insert the (empty) element first: a parent may refuse it. The table extension's cells accept only a
  // fixed list of inline types, which has no custom inline. Moving the children into an element that
  // then cannot be inserted would lose them (and leak the element).
  if (cmark_node_insert_after(opener->inl_text, element) != 0) {
    cmark_node* child = cmark_node_next(element);
    while (child != nullptr && child != closer->inl_text) {
      cmark_node* next = cmark_node_next(child);
      cmark_node_append_child(element, child);
      child = next;
    }
  } else {
    // In a table cell: mark the span with raw HTML tags around the children instead, which cells accept.
    // (The one visible difference: inside an image's alt text the tags would be written escaped.)
    cmark_node_free(element);
    cmark_node* open = cmark_node_new_with_mem(CMARK_NODE_HTML_INLINE, cmark_get_default_mem_allocator());
    cmark_node_set_literal(open, open_tag.c_str());
    cmark_node_insert_after(opener->inl_text, open);
    cmark_node* close = cmark_node_new_with_mem(CMARK_NODE_HTML_INLINE, cmark_get_default_mem_allocator());
    cmark_node_set_literal(close, close_tag.c_str());
    cmark_node_insert_before(closer->inl_text, close);
  }

  // Delimiters between the two can no longer match anything.
  for (delimiter* d = closer->previous; d != nullptr && d != opener;) {
    delimiter* previous = d->previous;
    cmark_inline_parser_remove_delimiter(inline_parser, d);
    d = previous;
  }
  consume_delimiter(inline_parser, opener, used);
  delimiter* next_closer = closer->next;
  return consume_delimiter(inline_parser, closer, used) ? next_closer : closer;
}

/// The extension, created once and kept for the life of the process (parsers only borrow it).
cmark_syntax_extension* make_emphasis_extras() {
  cmark_syntax_extension* ext = cmark_syntax_extension_new("cuttle_emphasis_extras");
  cmark_llist* chars = nullptr;
  for (const auto& r : delimiter_rules) {
    chars = cmark_llist_append(cmark_get_default_mem_allocator(), chars,
                               reinterpret_cast<void*>(static_cast<std::uintptr_t>(r.c)));
  }
  cmark_syntax_extension_set_special_inline_chars(ext, chars);
  cmark_syntax_extension_set_match_inline_func(ext, match_extra);
  cmark_syntax_extension_set_inline_from_delim_func(ext, insert_extra);
  cmark_syntax_extension_set_emphasis(ext, 1);
  return ext;
}

/// The extensions to attach, in order (the first to list a character owns it).
struct markdown_setup {
  cmark_syntax_extension* extras = nullptr;
  cmark_syntax_extension* table = nullptr;
  cmark_syntax_extension* autolink = nullptr;
};

std::mutex cmark_mutex;

const markdown_setup& setup() {
  static std::once_flag once;
  static markdown_setup s;
  std::call_once(once, [] {
    cmark_gfm_core_extensions_ensure_registered();
    s.extras = make_emphasis_extras();
    s.table = cmark_find_syntax_extension("table");
    s.autolink = cmark_find_syntax_extension("autolink");
  });
  return s;
}

// ---- Rendering ---------------------------------------------------------------------------------------

/// True when some raw HTML in the document mentions `align=` (the table post-pass then stays off).
bool raw_html_mentions_align(cmark_node* root) {
  cmark_iter* iter = cmark_iter_new(root);
  bool found = false;
  cmark_event_type ev = CMARK_EVENT_NONE;
  while (!found && (ev = cmark_iter_next(iter)) != CMARK_EVENT_DONE) {
    cmark_node* n = cmark_iter_get_node(iter);
    const cmark_node_type t = cmark_node_get_type(n);
    if (ev == CMARK_EVENT_ENTER && (t == CMARK_NODE_HTML_BLOCK || t == CMARK_NODE_HTML_INLINE)) {
      const char* literal = cmark_node_get_literal(n);
      found = literal != nullptr && std::strstr(literal, "align=") != nullptr;
    }
  }
  cmark_iter_free(iter);
  return found;
}

/// Markdig writes a cell alignment as `style="text-align: X;"` where cmark-gfm writes `align="X"`.
std::string markdig_cell_alignment(std::string html) {
  static constexpr std::array<std::string_view, 2> cells{"<th align=\"", "<td align=\""};
  for (const auto cell : cells) {
    std::size_t pos = 0;
    while ((pos = html.find(cell, pos)) != std::string::npos) {
      const std::size_t value = pos + cell.size();
      const std::size_t quote = html.find('"', value);
      if (quote == std::string::npos) break;
      const std::string align = html.substr(value, quote - value);
      const std::string replacement =
          std::string(cell.substr(0, 3)) + " style=\"text-align: " + align + ";\"";
      html.replace(pos, quote + 1 - pos, replacement);
      pos += replacement.size();
    }
  }
  return html;
}

/// Renders `markdown` to HTML; nullopt only if cmark fails to allocate.
std::optional<std::string> render_markdown(std::string_view markdown) {
  const markdown_setup& s = setup();
  const int options = CMARK_OPT_UNSAFE;  // Markdig passes raw HTML and every URL through.
  std::lock_guard<std::mutex> lock(cmark_mutex);
  parser_ptr parser(cmark_parser_new(options));
  if (!parser) return std::nullopt;
  for (cmark_syntax_extension* ext : {s.extras, s.table, s.autolink}) {
    if (ext != nullptr) cmark_parser_attach_syntax_extension(parser.get(), ext);
  }
  cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
  node_ptr root(cmark_parser_finish(parser.get()));
  if (!root) return std::nullopt;
  html_ptr html(cmark_render_html(root.get(), options, cmark_parser_get_syntax_extensions(parser.get())));
  if (!html) return std::nullopt;
  std::string out(html.get());
  if (!raw_html_mentions_align(root.get())) out = markdig_cell_alignment(std::move(out));
  return out;
}

// Markdown / MarkdownToHtml: options or null input -> null; the input is trimmed and "\n" is appended.
result_t markdown_filter(filter_args& a) {
  if (!a.input || !a.options.empty()) return std::nullopt;
  auto html = render_markdown(trim(*a.input));
  if (!html) {
    a.failure = "the Markdown renderer failed";
    return std::nullopt;
  }
  *html += '\n';
  return html;
}

constexpr std::array<builtin_entry, 2> markdown_table{{
    {"markdown", markdown_filter},
    {"markdowntohtml", markdown_filter},
}};

}  // namespace

std::span<const builtin_entry> markdown_filters() { return markdown_table; }

}  // namespace cuttle::engine::detail
