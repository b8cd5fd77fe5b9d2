// Normalised (echo) text of templates, as Octostache regenerates it from its parse tree (spec §5.4).
// Tested by tests/engine/parser_test.cpp

#include "printer.hpp"

namespace cuttle::engine::detail {
namespace {

// Literal text inside an echo: "#{" is written "##{" so it reads back as text.
void print_escaped(std::string& out, std::string_view text) {
  std::size_t from = 0;
  while (true) {
    const auto at = text.find("#{", from);
    if (at == std::string_view::npos) break;
    out.append(text.substr(from, at - from));
    out.append("##{");
    from = at + 2;
  }
  out.append(text.substr(from));
}

void print_operand(std::string& out, const operand& o) {
  if (o.is_literal) {
    out.push_back('"');
    out.append(o.literal);
    out.push_back('"');
  } else {
    print_expression(out, o.expr);
  }
}

}  // namespace

void print_symbol(std::string& out, const symbol& s) {
  bool first = true;
  for (const auto& st : s.steps) {
    switch (st.kind) {
      case step_kind::identifier:
        if (!first) out.push_back('.');
        out.append(st.text);
        break;
      case step_kind::index:
        out.push_back('[');
        out.append(st.text);
        out.push_back(']');
        break;
      case step_kind::substitution_index:
        out.append("[#{");
        print_symbol(out, *st.inner);
        out.append("}]");
        break;
    }
    first = false;
  }
}

void print_expression(std::string& out, const expression& e) {
  if (e.subject) {
    print_symbol(out, *e.subject);
  } else if (e.filters.empty()) {
    out.append("\"\"");
  }
  for (const auto& f : e.filters) {
    out.append(" | ");
    out.append(f.name);
    for (const auto& o : f.options) {
      out.push_back(' ');
      if (o.nested) {
        print_token(out, *o.nested);
      } else {
        out.push_back('"');
        print_escaped(out, o.literal);
        out.push_back('"');
      }
    }
  }
}

void print_calc(std::string& out, const calc_node& n) {
  switch (n.type) {
    case calc_node::kind::number:
      out.append(format_double(n.number));
      break;
    case calc_node::kind::variable:
      print_symbol(out, n.var);
      break;
    case calc_node::kind::binary:
      print_calc(out, *n.lhs);
      out.push_back(n.op);
      print_calc(out, *n.rhs);
      break;
  }
}

void print_token(std::string& out, const token& t) {
  switch (t.kind) {
    case token_kind::text:
      print_escaped(out, t.text);
      break;
    case token_kind::substitution:
      out.append("#{");
      print_expression(out, *t.expr);
      out.push_back('}');
      break;
    case token_kind::reference:
      out.append("#{");
      out.append(t.text);
      out.push_back('}');
      break;
    case token_kind::conditional: {
      const auto& c = *t.cond;
      out.append("#{if ");
      print_operand(out, c.left);
      if (c.op != compare_op::none) {
        out.append(c.op == compare_op::equal ? " == " : " != ");
        print_operand(out, c.right);
        out.push_back(' ');
      }
      out.push_back('}');
      print_tokens(out, c.truthy);
      if (c.falsy) {
        out.append("#{else}");
        print_tokens(out, *c.falsy);
      }
      out.append("#{/if}");
      break;
    }
    case token_kind::each:
      out.append("#{each ");
      out.append(t.each->variable);
      out.append(" in ");
      print_symbol(out, t.each->collection);
      out.push_back('}');
      print_tokens(out, t.each->body);
      out.append("#{/each}");
      break;
    case token_kind::calc:
      out.append("#{");
      print_calc(out, *t.calc);
      out.push_back('}');
      break;
  }
}

void print_tokens(std::string& out, const token_list& tokens) {
  for (const auto& t : tokens) print_token(out, t);
}

}  // namespace cuttle::engine::detail
