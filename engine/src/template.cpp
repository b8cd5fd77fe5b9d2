// compiled_template, evaluate() and the truthiness helpers: the engine's public entry points.
// Parse and render errors become diagnostics here; nothing below this file throws past it.
// Tested by tests/engine/evaluator_test.cpp and tests/engine/conformance_test.cpp

#include "cuttle/engine/template.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "ast.hpp"
#include "cuttle/engine/filters.hpp"
#include "diagnostics.hpp"
#include "evaluator.hpp"
#include "parser.hpp"
#include "printer.hpp"
#include "unicode.hpp"

namespace cuttle::engine {

namespace detail {
struct template_impl {
  std::string source;
  std::string source_name;
  parse_outcome outcome;
  std::vector<diagnostic> diagnostics;
  bool too_large = false;
  std::string parse_message;  // Octostache's parser error text (halting mode)
};
}  // namespace detail

namespace {

std::string snippet(std::string_view text, std::size_t offset, std::size_t max = 40) {
  std::string s(text.substr(offset, max));
  for (auto& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (offset + max < text.size()) s += "...";
  return s;
}

void collect_names(const detail::token_list& tokens, std::vector<std::string>& out);

void collect_symbol(const detail::symbol& s, std::vector<std::string>& out) {
  for (const auto& st : s.steps) {
    if (st.kind == detail::step_kind::identifier) out.push_back(st.text);
    if (st.kind == detail::step_kind::substitution_index) collect_symbol(*st.inner, out);
  }
}

void collect_expression(const detail::expression& e, std::vector<std::string>& out) {
  if (e.subject) collect_symbol(*e.subject, out);
  for (const auto& f : e.filters) {
    for (const auto& o : f.options) {
      if (o.nested) collect_names(detail::token_list{*o.nested}, out);
    }
  }
}

void collect_calc(const detail::calc_node& n, std::vector<std::string>& out) {
  if (n.type == detail::calc_node::kind::variable) collect_symbol(n.var, out);
  if (n.type == detail::calc_node::kind::binary) {
    collect_calc(*n.lhs, out);
    collect_calc(*n.rhs, out);
  }
}

void collect_names(const detail::token_list& tokens, std::vector<std::string>& out) {
  for (const auto& t : tokens) {
    switch (t.kind) {
      case detail::token_kind::text:
        break;
      case detail::token_kind::substitution:
        collect_expression(*t.expr, out);
        break;
      case detail::token_kind::reference:
        collect_symbol(detail::reference_symbol(t.text, t.offset), out);
        break;
      case detail::token_kind::conditional:
        for (const auto* o : {&t.cond->left, &t.cond->right}) {
          if (o->is_literal) {
            out.push_back(o->literal);  // Octostache's quirk: the literal of `== "lit"` is listed too
          } else {
            collect_expression(o->expr, out);
          }
        }
        collect_names(t.cond->truthy, out);
        if (t.cond->falsy) collect_names(*t.cond->falsy, out);
        break;
      case detail::token_kind::each:
        collect_symbol(t.each->collection, out);  // the body is not analysed (as in Octostache)
        break;
      case detail::token_kind::calc:
        collect_calc(*t.calc, out);
        break;
    }
  }
}

// The diagnostics of a parse outcome, and Octostache's parser error text in halting mode.
void report_parse(const detail::parse_outcome& o, std::string_view src, const std::string& name,
                  const parse_options& options, std::vector<diagnostic>& diagnostics,
                  std::string& parse_message) {
  if (o.depth_exceeded) {
    diagnostics.push_back(detail::make_diagnostic(
        error_code::limit_exceeded, severity::error, name, src, o.error_offset,
        fmt::format("limit 'nesting_depth' exceeded (limit is {}): constructs nested too deeply",
                    options.max_nesting_depth),
        snippet(src, o.error_offset)));
  } else if (o.failed) {
    const auto [line, col] = line_column(src, o.error_offset);
    const auto [fline, fcol] = line_column(src, o.furthest);
    const std::size_t consumed_from = o.error_offset > 10 ? o.error_offset - 10 : 0;
    parse_message = fmt::format(
        "Parsing failure: unexpected '#'; expected end of input (Line {}, Column {}); recently consumed: {}",
        line, col, src.substr(consumed_from, o.error_offset - consumed_from));
    diagnostics.push_back(detail::make_diagnostic(
        error_code::parse_error, severity::warning, name, src, o.error_offset,
        fmt::format(
            "'#{{' does not start a valid expression (parsing failed at {}:{}); the whole template is output "
            "unchanged",
            fline, fcol),
        snippet(src, o.error_offset)));
  }
  for (const auto& [begin, end] : o.recovered) {
    diagnostics.push_back(
        detail::make_diagnostic(error_code::parse_error, severity::warning, name, src, begin,
                                fmt::format("'#{{' does not start a valid expression; '{}' is output as text",
                                            snippet(src.substr(0, end), begin)),
                                snippet(src.substr(0, end), begin)));
  }
}

// Adds an evaluation's output, diagnostics and missing-token text to `result`.
void take_evaluation(detail::evaluation&& ev, render_result& result) {
  result.output = std::move(ev.output);
  result.failed = ev.failed;
  for (auto& d : ev.diagnostics) result.diagnostics.push_back(std::move(d));
  if (!ev.missing.empty()) {
    std::string text = "The following tokens were unable to be evaluated: ";
    for (std::size_t i = 0; i < ev.missing.size(); ++i) {
      if (i != 0) text += ", ";
      text += '\'';
      text += ev.missing[i];
      text += '\'';
    }
    result.octostache_error = std::move(text);
  }
}

}  // namespace

compiled_template compiled_template::parse(std::string text, const parse_options& options) {
  auto impl = std::make_shared<detail::template_impl>();
  impl->source = std::move(text);
  impl->source_name = options.source_name;
  const std::string_view src = impl->source;
  if (src.size() > options.max_template_bytes) {
    impl->too_large = true;
    impl->diagnostics.push_back(detail::make_diagnostic(
        error_code::limit_exceeded, severity::error, impl->source_name, src, 0,
        fmt::format("limit 'template_bytes' exceeded (limit is {}; the template has {} bytes)",
                    options.max_template_bytes, src.size()),
        ""));
    return compiled_template(std::move(impl));
  }
  if (!needs_evaluation(src)) {
    // Octostache never parses text without "#{": it is returned unchanged.
    if (!src.empty()) {
      detail::token t;
      t.kind = detail::token_kind::text;
      t.text = src;
      impl->outcome.tokens.push_back(std::move(t));
    }
    return compiled_template(std::move(impl));
  }
  impl->outcome = detail::parse_template(src, options.halt_on_error, options.max_nesting_depth);
  report_parse(impl->outcome, src, impl->source_name, options, impl->diagnostics, impl->parse_message);
  return compiled_template(std::move(impl));
}

render_result compiled_template::render(const variables& vars, const render_options& options) const {
  render_result result;
  result.diagnostics = impl_->diagnostics;
  if (impl_->too_large || impl_->outcome.depth_exceeded) {
    result.failed = true;
    return result;
  }
  if (impl_->outcome.failed) {
    result.output = impl_->source;
    result.octostache_error = impl_->parse_message;
    return result;
  }
  if (impl_->outcome.tokens.size() == 1 && impl_->outcome.tokens[0].kind == detail::token_kind::text) {
    result.output = std::string(impl_->outcome.tokens[0].text);
    return result;
  }
  take_evaluation(
      detail::evaluate_tokens(impl_->outcome.tokens, impl_->source, impl_->source_name, vars.tree(), options),
      result);
  return result;
}

const std::vector<diagnostic>& compiled_template::diagnostics() const { return impl_->diagnostics; }
bool compiled_template::parse_failed() const { return impl_->outcome.failed; }
const std::string& compiled_template::source() const { return impl_->source; }

std::string compiled_template::to_string() const {
  if (impl_->outcome.failed || impl_->too_large || impl_->outcome.depth_exceeded) return impl_->source;
  std::string out;
  detail::print_tokens(out, impl_->outcome.tokens);
  return out;
}

std::vector<std::string> compiled_template::argument_names() const {
  std::vector<std::string> names;
  collect_names(impl_->outcome.tokens, names);
  std::vector<std::string> unique;
  std::unordered_set<std::string> seen;
  for (auto& n : names) {
    if (seen.insert(n).second) unique.push_back(std::move(n));
  }
  return unique;
}

render_result evaluate(std::string_view text, const variables& vars, const parse_options& popts,
                       const render_options& ropts) {
  if (text.size() > popts.max_template_bytes || !needs_evaluation(text)) {
    return compiled_template::parse(std::string(text), popts).render(vars, ropts);
  }
  // One render: each top-level token is rendered as soon as it is parsed and then dropped, so the whole
  // AST is never held. The result is the same as parse() then render(): in halting mode a later parse
  // failure still discards everything rendered so far.
  detail::streaming_render renderer(text, popts.source_name, vars.tree(), ropts);
  const auto outcome =
      detail::parse_template_streaming(text, popts.halt_on_error, popts.max_nesting_depth, renderer);
  render_result result;
  std::string parse_message;
  report_parse(outcome, text, popts.source_name, popts, result.diagnostics, parse_message);
  if (outcome.depth_exceeded) {
    result.failed = true;
  } else if (outcome.failed) {
    result.output = std::string(text);
    result.octostache_error = std::move(parse_message);
  } else {
    take_evaluation(renderer.finish(), result);
  }
  return result;
}

bool needs_evaluation(std::string_view text) {
  // '{' is rarer than '#' in most text, so scan for it and look one byte back.
  const char* p = text.data();
  const char* end = p + text.size();
  if (p == end) return false;
  ++p;
  while (p < end) {
    const void* brace = std::memchr(p, '{', static_cast<std::size_t>(end - p));
    if (brace == nullptr) return false;
    p = static_cast<const char*>(brace);
    if (p[-1] == '#') return true;
    ++p;
  }
  return false;
}

bool is_truthy(std::string_view value) {
  if (value.empty() || value == "0") return false;
  const auto t = detail::trim(value);
  return !(detail::ascii_iequals(t, "no") || detail::ascii_iequals(t, "false"));
}

bool evaluate_truthy(std::string_view text, const variables& vars, const render_options& ropts) {
  const auto r = evaluate(text, vars, parse_options{}, ropts);
  if (r.failed || !r.output) return false;
  if (!detail::trim(r.octostache_error).empty()) return false;
  return is_truthy(*r.output);
}

void filter_registry::add(std::string_view name, filter_function fn) {
  filters_[detail::to_lower(name)] = std::move(fn);
}

const filter_function* filter_registry::find(std::string_view name) const {
  const auto it = filters_.find(detail::to_lower(name));
  return it == filters_.end() ? nullptr : &it->second;
}

}  // namespace cuttle::engine
