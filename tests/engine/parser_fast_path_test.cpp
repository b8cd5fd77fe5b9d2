// The parser's hand-written fast paths (`#{A.B}` as a reference token, `#{A.B | Filter options}` built
// directly) against the grammar they stand in for: for the same text, parse_template and
// parse_template_grammar_only must give the same tokens, with the same steps, keys, offsets, options and
// resolved built-ins, and the same outcome flags. White-box: the AST is private to the engine.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "parser.hpp"
#include "printer.hpp"

namespace {

namespace det = cuttle::engine::detail;

void dump_tokens(std::string& out, const det::token_list& tokens);

void dump_symbol(std::string& out, const det::symbol& s) {
  out += "sym@" + std::to_string(s.offset) + "(";
  for (const auto& st : s.steps) {
    out += std::to_string(static_cast<int>(st.kind)) + ":" + st.text + "/" + st.key + "@" +
           std::to_string(st.offset);
    if (st.inner) {
      out += "[";
      dump_symbol(out, *st.inner);
      out += "]";
    }
    out += ";";
  }
  out += ")";
}

void dump_expression(std::string& out, const det::expression& e) {
  if (e.subject) dump_symbol(out, *e.subject);
  for (const auto& f : e.filters) {
    out += "|" + f.name + (f.builtin != nullptr ? "(builtin)" : "(none)");
    for (const auto& o : f.options) {
      if (o.nested) {
        out += " {";
        det::token_list one{*o.nested};
        dump_tokens(out, one);
        out += "}";
      } else {
        out += " '" + o.literal + "'";
      }
    }
  }
}

void dump_operand(std::string& out, const det::operand& o) {
  if (o.is_literal) {
    out += "lit'" + o.literal + "'";
  } else {
    dump_expression(out, o.expr);
  }
}

void dump_tokens(std::string& out, const det::token_list& tokens) {
  for (const auto& t : tokens) {
    out += "<" + std::to_string(t.offset) + ":";
    switch (t.kind) {
      case det::token_kind::text:
        out += "text'" + std::string(t.text) + "'";
        break;
      case det::token_kind::reference: {
        // What the grammar builds for the same text.
        det::expression e;
        e.subject = det::reference_symbol(t.text, t.offset);
        out += "subst ";
        dump_expression(out, e);
        break;
      }
      case det::token_kind::substitution:
        out += "subst ";
        dump_expression(out, *t.expr);
        break;
      case det::token_kind::conditional:
        out += "if ";
        dump_operand(out, t.cond->left);
        out += std::to_string(static_cast<int>(t.cond->op));
        if (t.cond->op != det::compare_op::none) dump_operand(out, t.cond->right);
        out += " then ";
        dump_tokens(out, t.cond->truthy);
        if (t.cond->falsy) {
          out += " else ";
          dump_tokens(out, *t.cond->falsy);
        }
        break;
      case det::token_kind::each:
        out += "each " + t.each->variable + " in ";
        dump_symbol(out, t.each->collection);
        dump_tokens(out, t.each->body);
        break;
      case det::token_kind::calc: {
        std::string printed;
        det::print_token(printed, t);
        out += "calc " + printed;
        break;
      }
    }
    out += ">";
  }
}

std::string dump(const det::parse_outcome& o) {
  std::string out = "failed=" + std::to_string(o.failed) + " at=" + std::to_string(o.error_offset) +
                    " furthest=" + std::to_string(o.furthest) + " depth=" + std::to_string(o.depth_exceeded);
  for (const auto& [b, e] : o.recovered) out += " recovered=" + std::to_string(b) + "-" + std::to_string(e);
  out += "\n";
  // Adjacent text tokens are one text to the renderer, however the parser split them.
  std::string text;
  for (const auto& t : o.tokens) {
    if (t.kind == det::token_kind::text) {
      text += std::string(t.text);
      continue;
    }
    if (!text.empty()) out += "text'" + text + "'";
    text.clear();
    dump_tokens(out, det::token_list{t});
  }
  if (!text.empty()) out += "text'" + text + "'";
  return out;
}

void expect_same(const std::string& src) {
  for (const int depth : {1, 2, 64}) {
    for (const bool halt : {true, false}) {
      const auto fast = det::parse_template(src, halt, depth);
      const auto grammar = det::parse_template_grammar_only(src, halt, depth);
      EXPECT_EQ(dump(fast), dump(grammar))
          << "template: " << src << " (halting: " << halt << ", depth limit: " << depth << ")";
    }
  }
}

TEST(parser_fast_paths, agree_with_the_grammar_on_chosen_cases) {
  for (const char* src : {
           "#{A}",
           "#{A.B.C}",
           "#{A | ToUpper}",
           "#{A.B|ToLower}",
           "#{A  \t| Trim |HtmlEscape }",
           "#{Config.Owner | Replace \"Team\" \"Squad\"}",
           "#{A | Replace \"}\" \"|\"}",
           "#{A | F a\"b\"c}",
           "#{A | Substring 2 3}",
           "#{A | Format \"yyyy-MM-dd HH:mm\"}",
           "x #{A | NoSuchFilter x} y",
           "#{if | ToUpper}x#{/if}",
           "#{If | ToUpper}",
           "#{unless | F}#{/unless}",
           "#{each | F}",
           "#{calc | F}",
           "#{iffy | ToUpper}",
           "#{each.x | F}",
           "#{A |}",
           "#{A | F \"unterminated}",
           "#{A | F \"a#b\"}",
           "#{A | F #{B}}",
           "#{A | F \\\"q\\\"}",
           "#{A[x] | F}",
           "#{A. | F}",
           "#{A..B | F}",
           "#{.A | F}",
           "#{/A | F}",
           "#{ A | F}",
           "#{A | F}}",
           "#{A | F",
           "#{A | Fé}",
           "#{A | F é}",
           "#{Aé | F}",
           "#{A | F x\u00a0y}",
           "#{A in B | F}",
           "#{A == B | F}",
           "#{A | F in}",
           "##{A | F}",
           "#{A | F\n}",
           "#{A\n| F}",
           "#{A | F \"\"}",
           "#{A | F \"x\"\"y\"}",
           "#{A|F|G|H}",
           "#{A|F|}",
           "#{A || F}",
           "#{if A}#{B | ToUpper}#{/if}",
           "#{if A}#{B}#{/if}",
           "#{if A}#{if B}#{C.D}#{/if}#{/if}",
           "#{each x in L}#{x | Trim}#{/each}",
           "#{A | F}#{if B}",
       }) {
    expect_same(src);
  }
}

// Pieces that make filter chains and their near misses.
const std::vector<std::string>& alphabet() {
  static const std::vector<std::string> pieces = {
      "#{",  "}",  "|",  " ",       "\t", "\n", ".",     "A",      "b",       "If",   "each", "calc",
      "in",  "==", "\"", "\\\"",    "#",  "[",  "]",     "x",      "ToUpper", "Trim", "é",    "\xc2\xa0",
      "#{/", "/",  "_",  "Replace", "-",  "{",  "#{if ", "#{/if}", "unless",  "(",    "*",    "\xff"};
  return pieces;
}

rc::Gen<std::string> soup() {
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(alphabet())),
                      [](const std::vector<std::string>& parts) {
                        std::string text;
                        for (const auto& p : parts) text += p;
                        return text;
                      });
}

// Mostly well-formed chains, so the fast path is taken often, with the soup mixed in.
rc::Gen<std::string> chains() {
  const auto word = rc::gen::elementOf(std::vector<std::string>{"A", "Db", "x1", "Octopus", "If", "Trim",
                                                                "ToUpper", "Replace", "in", "each", "é"});
  const auto sep = rc::gen::elementOf(std::vector<std::string>{"", " ", "  ", "\t", "\n", "\xc2\xa0"});
  const auto option =
      rc::gen::oneOf(word, rc::gen::map(soup(), [](std::string s) { return "\"" + s + "\""; }),
                     rc::gen::just(std::string("\"\"")), soup());
  return rc::gen::map(
      rc::gen::tuple(
          rc::gen::container<std::vector<std::string>>(word),
          rc::gen::container<std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>>(
              rc::gen::tuple(sep, word,
                             rc::gen::container<std::vector<std::string>>(rc::gen::oneOf(option, sep)))),
          sep, soup()),
      [](const auto& parts) {
        const auto& [names, filters, tail_ws, tail] = parts;
        std::string text = "#{";
        for (std::size_t i = 0; i < names.size(); ++i) text += (i != 0 ? "." : "") + names[i];
        for (const auto& [ws, name, options] : filters) {
          text += ws + "|" + ws + name;
          for (const auto& o : options) text += " " + o;
        }
        return text + tail_ws + "}" + tail;
      });
}

// Chains and soup inside constructs, where the fast paths run within the grammar (bodies, options), nested
// up to a few levels, parsed with small depth limits so that the limit is hit too.
rc::Gen<std::string> nested() {
  return rc::gen::withSize([](int size) {
    return rc::gen::map(
        rc::gen::tuple(rc::gen::container<std::vector<int>>(
                           static_cast<std::size_t>(std::min(size / 25 + 1, 5)), rc::gen::inRange(0, 8)),
                       rc::gen::oneOf(chains(), soup())),
        [](const auto& parts) {
          const auto& [wrappers, core] = parts;
          std::string text = core;
          for (const int w : wrappers) {
            switch (w) {
              case 0:
                text = "#{if A}" + text + "#{/if}";
                break;
              case 1:
                text = "#{each x in L}" + text + "#{/each}";
                break;
              case 2:
                text = "#{A | Replace " + text + " b}";
                break;
              case 3:
                text = "#{if A}" + text;
                break;
              case 4:
                text = "#{unless B}x#{else}" + text + "#{/unless}";
                break;
              case 5:
                text = "#{if A == \"v\"}y#{elseif B}" + text + "#{else}z#{/if}";
                break;
              case 6:
                text = text + "#{/if}";
                break;
              default:
                text = "t " + text + " #{A.B}";
                break;
            }
          }
          return text;
        });
  });
}

// Both parsers, both modes: the same dump.
void check_agreement(const std::string& src, int depth) {
  for (const bool halt : {true, false}) {
    RC_ASSERT(dump(det::parse_template(src, halt, depth)) ==
              dump(det::parse_template_grammar_only(src, halt, depth)));
  }
}

RC_GTEST_PROP(parser_fast_path_props, agree_with_the_grammar_inside_constructs, ()) {
  const auto src = *nested();
  check_agreement(src, *rc::gen::inRange(1, 6));
}

RC_GTEST_PROP(parser_fast_path_props, agree_with_the_grammar_on_soup, ()) { check_agreement(*soup(), 64); }

RC_GTEST_PROP(parser_fast_path_props, agree_with_the_grammar_on_filter_chains, ()) {
  check_agreement(*chains(), 64);
}

}  // namespace
