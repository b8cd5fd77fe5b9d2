// The evaluator: walks the AST against a binding tree and writes the output.
// Tested by tests/engine/evaluator_test.cpp and tests/engine/conformance_test.cpp
//
// Design. Evaluation runs in a chain of contexts (spec §1, §5). Each context has a local tree (the
// binding tree at the root; loop locals in #{each} bodies; nothing for variable values and filter
// options), a parent, and a stack of the symbols it is resolving. A symbol is walked in a context; when
// a step is not found there the whole symbol restarts in the parent. A found value that is itself a
// template is rendered in a child of the context where it was found, with the symbol still on the
// stack, so a cycle meets an equal symbol (same text, same offset) on its second lap and is reported
// with the chain. Runtime nodes (JSON elements, loop items) live in an arena owned by the render, so
// they are never shared between threads; the binding tree and the AST are read-only.
//
// Invariants: no recursion without a bound (render depth, reference depth, loop iterations and output
// size are checked where they grow); errors that stop a render are internal exceptions caught at
// evaluate_tokens and turned into diagnostics; nothing throws out of this file's entry point.

#include "evaluator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#if defined(__linux__)
#endif
#include <deque>
#include <exception>
#include <unordered_map>
#include <unordered_set>

#include "cuttle/engine/filters.hpp"
#include "cuttle/engine/memory.hpp"
#include "cuttle/engine/template.hpp"
#include "printer.hpp"
#include "unicode.hpp"

namespace cuttle::engine::detail {
namespace {

/// An error that stops the render.
struct render_stop {
  error_code code;
  std::string message;
  std::string_view source_name;
  std::string_view source_text;
  std::size_t offset;
};

/// Recursion is its own type: JSON lookups catch it (spec §5.5).
struct recursion_stop : render_stop {};

constexpr int max_render_depth = 400;  // combined nesting across variable values; keeps the stack bounded

struct source_ref {
  std::string_view text;
  std::string_view name;
};

struct context {
  const node* root = nullptr;
  context* parent = nullptr;
  std::vector<const symbol*> stack;
  source_ref src;
};

bool symbols_equal(const symbol& a, const symbol& b) {
  if (&a == &b) return true;
  if (a.steps.size() != b.steps.size()) return false;
  for (std::size_t i = 0; i < a.steps.size(); ++i) {
    const auto& x = a.steps[i];
    const auto& y = b.steps[i];
    if (x.offset != y.offset || x.kind != y.kind || x.text != y.text) return false;
    if (x.kind == step_kind::substitution_index && !symbols_equal(*x.inner, *y.inner)) return false;
  }
  return true;
}

std::string symbol_text(const symbol& s) {
  std::string out;
  print_symbol(out, s);
  return out;
}

// .NET int.TryParse (NumberStyles.Integer): surrounding whitespace and a leading sign.
bool parse_dotnet_int(std::string_view s, long long& out) {
  s = trim(s);
  if (s.empty()) return false;
  bool negative = false;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
    if (v > 2147483648LL) return false;
  }
  v = negative ? -v : v;
  if (v > 2147483647LL) return false;
  out = v;
  return true;
}

// .NET double.TryParse (NumberStyles.Float | AllowThousands, invariant/en-US).
bool parse_dotnet_double(std::string_view s, double& out) {
  s = trim(s);
  if (s.empty()) return false;
  std::string_view body = s;
  bool negative = false;
  if (body.front() == '+' || body.front() == '-') {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (body == "NaN") {
    out = std::nan("");
    return true;
  }
  if (body == "Infinity" || body == "\xE2\x88\x9E") {
    out = negative ? -INFINITY : INFINITY;
    return true;
  }
  std::string clean;
  std::size_t i = 0;
  bool digits = false;
  while (i < body.size() && ((body[i] >= '0' && body[i] <= '9') || body[i] == ',')) {
    if (body[i] != ',') {
      clean.push_back(body[i]);
      digits = true;
    } else if (!digits) {
      return false;
    }
    ++i;
  }
  if (i < body.size() && body[i] == '.') {
    clean.push_back('.');
    ++i;
    while (i < body.size() && body[i] >= '0' && body[i] <= '9') {
      clean.push_back(body[i++]);
      digits = true;
    }
  }
  if (!digits) return false;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    clean.push_back('e');
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) clean.push_back(body[i++]);
    bool exp_digits = false;
    while (i < body.size() && body[i] >= '0' && body[i] <= '9') {
      clean.push_back(body[i++]);
      exp_digits = true;
    }
    if (!exp_digits) return false;
  }
  if (i != body.size()) return false;
  out = std::strtod(clean.c_str(), nullptr);
  if (negative) out = -out;
  return true;
}

/// A resolved symbol: nothing, a node without a value (a container), or text.
struct resolved {
  enum class kind : std::uint8_t { none, container, text } what = kind::none;
  const node* n = nullptr;
  std::string owned;
  std::string_view view;
  bool owns = false;

  std::string_view str() const { return owns ? std::string_view(owned) : view; }
  bool is_text() const { return what == kind::text; }
};

/// Why a filter expression produced no value, for the diagnostic.
struct failure_reason {
  error_code code = error_code::unresolved_variable;
  std::string detail;
};

/// Top-level reference text -> its rendered value. Open addressing with a word-at-a-time hash: the lookup
/// runs once per `#{Name}` token, and std::unordered_map's hashing dominated flat templates.
class reference_cache {
 public:
  const std::string* find(std::string_view key) const {
    if (slots_.empty()) return nullptr;
    const std::uint64_t h = hash(key);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (s.value == 0) return nullptr;
      if (s.hash == h && s.key == key) return &values_[s.value - 1];
    }
  }
  void insert(std::string_view key, std::string value) {
    if ((values_.size() + 1) * 2 > slots_.size()) grow();
    values_.push_back(std::move(value));
    place(slot{key, hash(key), static_cast<std::uint32_t>(values_.size())});
  }

 private:
  struct slot {
    std::string_view key;
    std::uint64_t hash = 0;
    std::uint32_t value = 0;  // index + 1 into values_; 0 marks an empty slot
  };
  static std::uint64_t hash(std::string_view key) {
    std::uint64_t h = key.size() * 0x9E3779B97F4A7C15ULL;
    const char* p = key.data();
    std::size_t n = key.size();
    for (; n >= 8; p += 8, n -= 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, p, 8);
      h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
      h ^= h >> 32;
    }
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h ^= w;
    // MurmurHash3's finaliser: every input bit reaches the low bits the table index uses.
    h = (h ^ (h >> 33)) * 0xFF51AFD7ED558CCDULL;
    h = (h ^ (h >> 33)) * 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 33);
  }
  void place(const slot& s) {
    for (std::size_t i = s.hash & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].value == 0) {
        slots_[i] = s;
        return;
      }
    }
  }
  void grow() {
    std::vector<slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, slot{});
    mask_ = slots_.size() - 1;
    for (const auto& s : old) {
      if (s.value != 0) place(s);
    }
  }
  std::vector<slot> slots_;
  std::vector<std::string> values_;
  std::size_t mask_ = 0;
};

class evaluator {
 public:
  evaluator(const binding_tree& tree, const render_options& options) : tree_(tree), options_(options) {}

  // A render is start(), feed() for each top-level token, finish(); run() does all three.
  void start(source_ref src) {
    root_.root = &tree_.root();
    root_.src = src;
    // Reserved address space costs nothing until written; twice the template avoids a copy for templates
    // whose values are longer than their references.
    out_.reserve(std::min(2 * src.text.size() + 4096, options_.max_output_bytes));
    // Filled front to back once: huge pages turn thousands of faults into a few (flat templates spent a
    // third of their time in the kernel).
    advise_huge_pages(out_.data(), out_.capacity());
  }

  void feed(const token& t) {
    guarded([&] { render_token(t, root_, out_, true); });
  }
  void feed_text(std::string_view text, std::uint32_t offset) {
    if (stopped_) return;
    out_.append(text);
    guarded([&] { check_output(root_, offset, out_); });
  }
  void feed_reference(std::string_view path, std::uint32_t offset) {
    guarded([&] {
      render_reference(path, offset, root_, out_);
      check_output(root_, offset, out_);
    });
  }

  // Runs one top-level step; a fatal error stops the render and becomes an error diagnostic.
  template <typename Step>
  void guarded(Step&& step) {
    if (stopped_) return;
    try {
      step();
    } catch (const render_stop& stop) {
      stopped_ = true;
      add_diagnostic(stop.code, severity::error, source_ref{stop.source_text, stop.source_name}, stop.offset,
                     stop.message, "");
    }
  }

  evaluation finish() {
    evaluation result;
    if (stopped_) {
      result.failed = true;
    } else if (null_result_) {
      add_diagnostic(error_code::null_result, severity::warning, root_.src, null_offset_,
                     "the template evaluated to null through the 'null' filter", "");
    } else {
      result.output = std::move(out_);
    }
    result.diagnostics = std::move(diagnostics_);
    result.missing = std::move(missing_);
    return result;
  }

  evaluation run(const token_list& tokens, source_ref src) {
    start(src);
    for (const auto& t : tokens) feed(t);
    return finish();
  }

 private:
  // ----------------------------------------------------------------------------------------------
  // Diagnostics and missing tokens.

  void add_diagnostic(error_code code, severity sev, const source_ref& src, std::size_t offset,
                      std::string message, std::string fragment) {
    diagnostic d;
    d.code = code;
    d.severity = sev;
    d.source = std::string(src.name);
    d.offset = offset;
    const auto [line, col] = locate(src.text, std::min(offset, src.text.size()));
    d.line = line;
    d.column = col;
    d.message = std::move(message);
    d.fragment = std::move(fragment);
    diagnostics_.push_back(std::move(d));
  }

  // Line and column through a per-source index of line starts (built on the first diagnostic).
  std::pair<std::uint32_t, std::uint32_t> locate(std::string_view text, std::size_t offset) {
    auto it = line_starts_.find(text.data());
    if (it == line_starts_.end()) {
      std::vector<std::size_t> starts{0};
      for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n') starts.push_back(i + 1);
      }
      it = line_starts_.emplace(text.data(), std::move(starts)).first;
    }
    const auto& starts = it->second;
    const auto line = std::upper_bound(starts.begin(), starts.end(), offset) - starts.begin();
    return {static_cast<std::uint32_t>(line), static_cast<std::uint32_t>(offset - starts[line - 1] + 1)};
  }

  void record_missing(const context& c, std::size_t offset, std::string text, const failure_reason& why) {
    if (suppress_missing_ > 0) return;
    // One diagnostic per place (a token in a loop body fails once per iteration).
    const std::string place = fmt::format("{}\x1f{}\x1f{}", c.src.name, offset, text);
    if (seen_places_.insert(place).second) {
      std::string message;
      switch (why.code) {
        case error_code::unresolved_variable:
          message = fmt::format("unresolved variable{}; '{}' is output as it is", why.detail, text);
          break;
        case error_code::unknown_filter:
        case error_code::filter_failed:
          message = fmt::format("{}; '{}' is output as it is", why.detail, text);
          break;
        default:
          message = why.detail;
      }
      add_diagnostic(why.code, severity::warning, c.src, offset, std::move(message), text);
    }
    if (seen_missing_.insert(text).second) missing_.push_back(std::move(text));
  }

  [[noreturn]] void stop(error_code code, const context& c, std::size_t offset, std::string message) {
    throw render_stop{code, std::move(message), c.src.name, c.src.text, offset};
  }

  [[noreturn]] void limit(const context& c, std::size_t offset, const char* name, std::size_t value) {
    stop(error_code::limit_exceeded, c, offset,
         fmt::format("limit '{}' exceeded (limit is {})", name, value));
  }

  void check_output(const context& c, std::size_t offset, const std::string& out) {
    if (out.size() > options_.max_output_bytes) limit(c, offset, "output_bytes", options_.max_output_bytes);
  }

  // ----------------------------------------------------------------------------------------------
  // Rendering.

  // Counts a nesting level for the life of a scope, also when an error unwinds it.
  struct level {
    int& counter;
    explicit level(int& c) : counter(c) { ++counter; }
    ~level() { --counter; }
    level(const level&) = delete;
    level& operator=(const level&) = delete;
  };

  void render_tokens(const token_list& tokens, context& c, std::string& out, bool top) {
    for (const auto& t : tokens) render_token(t, c, out, top);
  }

  void render_token(const token& t, context& c, std::string& out, bool top) {
    const level guard(depth_);
    if (depth_ > max_render_depth) limit(c, t.offset, "nesting_depth", max_render_depth);
    switch (t.kind) {
      case token_kind::text:
        out.append(t.text);
        break;
      case token_kind::substitution:
        render_substitution(t, c, out, top);
        break;
      case token_kind::conditional:
        render_conditional(t, c, out, top);
        break;
      case token_kind::each:
        render_each(t, c, out, top);
        break;
      case token_kind::calc:
        render_calc(t, c, out);
        break;
      case token_kind::reference:
        render_reference(t.text, t.offset, c, out);
        break;
    }
    check_output(c, t.offset, out);
  }

  // A `reference` token renders as the substitution it stands for. At the top level its value depends
  // only on the variables, so it is cached by its text (100,000 references to 2,000 names resolve 2,000
  // times) unless rendering it reported anything or ran loops (the cache must not hide a diagnostic or
  // an iteration from the limit).
  // The symbol of a reference, built once per place: keyed by the address of its text and checked
  // against the text and offset (a symbol is a function of both), so a reused address is never stale.
  const symbol& symbol_of(std::string_view path, std::uint32_t offset) {
    auto& entry = symbols_[path.data()];
    if (entry.second.steps.empty() || entry.second.offset != offset + 2 || entry.first != path) {
      entry.first.assign(path);
      entry.second = reference_symbol(path, offset);
    }
    return entry.second;
  }

  void render_reference(std::string_view path, std::uint32_t offset, context& c, std::string& out) {
    const bool cacheable = &c == &root_;
    if (cacheable) {
      if (const std::string* cached = reference_cache_.find(path)) {
        out.append(*cached);
        return;
      }
    }
    const symbol& sym = symbol_of(path, offset);
    const std::size_t mark = out.size();
    const std::size_t diagnostics = diagnostics_.size();
    const std::size_t missing = missing_.size();
    const std::size_t iterations = iterations_;
    const auto r = resolve(c, sym);
    if (r.is_text()) {
      out.append(r.str());
    } else {
      token t;
      t.kind = token_kind::reference;
      t.offset = offset;
      t.text = path;
      echo_missing(t, c, out, failure_reason{error_code::unresolved_variable, describe_subject(sym, r)});
    }
    if (cacheable && diagnostics_.size() == diagnostics && missing_.size() == missing &&
        iterations_ == iterations) {
      reference_cache_.insert(path, out.substr(mark));
    }
  }

  void render_substitution(const token& t, context& c, std::string& out, bool top) {
    const auto& e = *t.expr;
    if (e.filters.empty()) {
      const auto r = resolve(c, *e.subject);
      if (r.is_text()) {
        out.append(r.str());
        return;
      }
      echo_missing(t, c, out,
                   failure_reason{error_code::unresolved_variable, describe_subject(*e.subject, r)});
      return;
    }
    failure_reason why;
    auto value = evaluate_expression(e, c, why);
    if (value) {
      out.append(*value);
      return;
    }
    if (e.filters.back().name == "null") {
      if (top && !null_result_) {
        null_result_ = true;
        null_offset_ = t.offset;
      }
      std::string echo;
      print_token(echo, t);
      out.append(echo);
      return;
    }
    echo_missing(t, c, out, why);
  }

  void echo_missing(const token& t, const context& c, std::string& out, const failure_reason& why) {
    std::string echo;
    print_token(echo, t);
    out.append(echo);
    record_missing(c, t.offset, std::move(echo), why);
  }

  static std::string describe_subject(const symbol& s, const resolved& r) {
    if (r.what == resolved::kind::container) {
      return fmt::format(" ('{}' only has child values)", symbol_text(s));
    }
    return fmt::format(" '{}'", symbol_text(s));
  }

  // Evaluates a filter chain; nullopt when it gives no value (`why` says which part failed).
  std::optional<std::string> evaluate_expression(const expression& e, context& c, failure_reason& why) {
    std::optional<std::string> input;
    bool subject_missing = false;
    if (e.subject) {
      auto r = resolve(c, *e.subject);
      if (r.is_text()) {
        input = std::string(r.str());
      } else {
        subject_missing = true;
      }
    }
    std::vector<std::string> opts;
    for (const auto& f : e.filters) {
      opts.clear();
      for (const auto& o : f.options) {
        if (o.nested) {
          opts.push_back(render_nested(*o.nested, c));
        } else {
          opts.push_back(o.literal);
        }
      }
      std::optional<std::string> result;
      const builtin_filter builtin = f.builtin;
      std::string builtin_failure;
      if (builtin != nullptr) {
        filter_args args{input, opts, options_, {}};
        result = builtin(args);
        if (!result) builtin_failure = std::move(args.failure);
      }
      const filter_function* custom = nullptr;
      if (!result && options_.filters != nullptr) {
        custom = options_.filters->find(f.name);
        if (custom != nullptr) {
          try {
            result = (*custom)(input, std::span<const std::string>(opts));
          } catch (const std::exception& ex) {
            why = {error_code::filter_failed,
                   fmt::format("custom filter '{}' failed: {}", f.name, ex.what())};
            result.reset();
          }
        }
      }
      if (!result && why.detail.empty()) {
        if (!builtin_failure.empty()) {
          why = {error_code::filter_failed, fmt::format("filter '{}': {}", f.name, builtin_failure)};
        } else if (builtin == nullptr && custom == nullptr) {
          why = {error_code::unknown_filter, fmt::format("unknown filter '{}'", f.name)};
        } else if (subject_missing && !input) {
          why = {error_code::unresolved_variable, fmt::format(" '{}'", symbol_text(*e.subject))};
        } else {
          why = {error_code::filter_failed,
                 fmt::format("filter '{}' gave no value for this input and these options", f.name)};
        }
      }
      input = std::move(result);
    }
    return input;
  }

  // A nested construct used as a filter option renders in a child context.
  std::string render_nested(const token& t, context& c) {
    context child;
    child.root = &empty_;
    child.parent = &c;
    child.src = c.src;
    std::string out;
    render_token(t, child, out, false);
    return out;
  }

  // Value of one side of a condition: nullopt when a filter expression gives no value.
  std::optional<std::string> evaluate_operand(const operand& o, context& c, failure_reason& why) {
    if (o.is_literal) return o.literal;
    if (o.expr.filters.empty()) {
      const auto r = resolve(c, *o.expr.subject);
      return r.is_text() ? std::string(r.str()) : std::string();
    }
    return evaluate_expression(o.expr, c, why);
  }

  void render_conditional(const token& t, context& c, std::string& out, bool top) {
    const auto& k = *t.cond;
    failure_reason why;
    const operand* failed = nullptr;
    auto left = evaluate_operand(k.left, c, why);
    std::optional<std::string> right;
    if (!left) {
      failed = &k.left;
    } else if (k.op != compare_op::none) {
      right = evaluate_operand(k.right, c, why);
      if (!right) failed = &k.right;
    }
    if (failed != nullptr) {
      std::string echo;
      print_token(echo, t);
      out.append(echo);
      std::string text;
      print_expression(text, failed->expr);
      record_missing(c, t.offset, std::move(text), why);
      return;
    }
    bool truth = false;
    if (k.op == compare_op::none) {
      truth = is_truthy(*left);
    } else {
      truth = (*left == *right) == (k.op == compare_op::equal);
    }
    if (truth) {
      render_tokens(k.truthy, c, out, top);
    } else if (k.falsy) {
      render_tokens(*k.falsy, c, out, top);
    }
  }

  node* new_node() { return &arena_.emplace_back(); }

  // One node per JSON element for the whole render (elements live as long as the render, and nodes are
  // not changed once made), so loops and lookups over the same JSON value share the compact text.
  node* node_from_json(const json& j) {
    node*& n = json_nodes_[&j];
    if (n != nullptr) return n;
    n = new_node();
    if (j.is_object() || j.is_array()) {
      n->set_item(compact_json(j));
      n->json_value = &j;
    } else {
      n->set_item(json_scalar_text(j));
    }
    return n;
  }

  void render_each(const token& t, context& c, std::string& out, bool top) {
    const auto& blk = *t.each;
    if (ascii_iequals(blk.variable, "Octopus")) {
      stop(error_code::invalid_operation, c, t.offset,
           fmt::format("the loop variable '{}' clashes with the special 'Octopus.Template.Each' variables; "
                       "choose another name",
                       blk.variable));
    }
    const auto r = resolve(c, blk.collection);
    std::vector<const node*> fresh;
    const std::vector<const node*>* items = &fresh;
    if (r.what == resolved::kind::container) {
      fresh.assign(r.n->index_order.begin(), r.n->index_order.end());
    } else if (r.is_text()) {
      if (r.n != nullptr && !r.owns && !r.n->changes) {
        // The node's own value, which never changes during a render: its items are made once.
        auto [it, made] = loop_items_.try_emplace(r.n);
        if (made) collect_items(r, it->second);
        items = &it->second;
      } else {
        collect_items(r, fresh);
      }
    }
    if (items->empty()) return;
    // The loop's local tree: the loop variable and Octopus.Template.Each.{Index,First,Last}, from a pool
    // (a loop in a loop body would otherwise build one per execution).
    const loop_frame frame = acquire_frame();
    const std::string var_key = case_key(blk.variable);
    context child;
    child.root = frame.local;
    child.parent = &c;
    child.src = c.src;
    for (std::size_t i = 0; i < items->size(); ++i) {
      if (++iterations_ > options_.max_iterations)
        limit(c, t.offset, "loop_iterations", options_.max_iterations);
      frame.local->named[var_key] = const_cast<node*>((*items)[i]);
      frame.index->set_item(std::to_string(i));
      frame.first->set_item(i == 0 ? "True" : "False");
      frame.last->set_item(i + 1 == items->size() ? "True" : "False");
      render_tokens(blk.body, child, out, top);
      check_output(c, t.offset, out);
    }
    // A loop left by an error keeps its frame; nothing else can reach it.
    frame.local->named.erase(var_key);
    free_frames_.push_back(frame);
  }

  // The items a text value iterates: a JSON array's elements, a JSON object's properties (KEY, VALUE),
  // or the comma-separated parts.
  void collect_items(const resolved& r, std::vector<const node*>& items) {
    const std::string_view value = r.str();
    const json* parsed = nullptr;
    if (r.n != nullptr && r.n->json_value != nullptr && value == r.n->item) {
      parsed = r.n->json_value;
    } else if (auto j = parse_lenient_json(value)) {
      parsed = &json_arena_.emplace_back(std::move(*j));
    }
    if (parsed != nullptr && parsed->is_array()) {
      for (const auto& el : *parsed) items.push_back(node_from_json(el));
    } else if (parsed != nullptr && parsed->is_object()) {
      for (const auto& [key, el] : parsed->items()) {
        node* item = new_node();
        item->set_item(key);
        node* k = new_node();
        k->set_item(key);
        item->named.emplace("KEY", k);
        item->named.emplace("VALUE", node_from_json(el));
        items.push_back(item);
      }
    } else {
      split_comma_list(value, items);
    }
  }

  void split_comma_list(std::string_view value, std::vector<const node*>& items) {
    std::size_t from = 0;
    while (true) {
      const auto comma = value.find(',', from);
      node* item = new_node();
      item->set_item(std::string(value.substr(from, comma == std::string_view::npos ? comma : comma - from)));
      items.push_back(item);
      if (comma == std::string_view::npos) break;
      from = comma + 1;
    }
  }

  struct loop_frame {
    node* local;
    node* index;
    node* first;
    node* last;
  };

  loop_frame acquire_frame() {
    if (!free_frames_.empty()) {
      const loop_frame f = free_frames_.back();
      free_frames_.pop_back();
      return f;
    }
    loop_frame f{new_node(), new_node(), new_node(), new_node()};
    node* octopus = new_node();
    node* tmpl = new_node();
    node* each = new_node();
    f.local->named.emplace("OCTOPUS", octopus);
    octopus->named.emplace("TEMPLATE", tmpl);
    tmpl->named.emplace("EACH", each);
    each->named.emplace("INDEX", f.index);
    each->named.emplace("FIRST", f.first);
    each->named.emplace("LAST", f.last);
    f.index->changes = f.first->changes = f.last->changes = true;
    return f;
  }

  void render_calc(const token& t, context& c, std::string& out) {
    const auto v = evaluate_calc(*t.calc, c);
    if (v) {
      out.append(format_double(*v));
    } else {
      print_token(out, t);  // echoed without `calc`; Octostache records no error for it
    }
  }

  std::optional<double> evaluate_calc(const calc_node& n, context& c) {
    switch (n.type) {
      case calc_node::kind::number:
        return n.number;
      case calc_node::kind::variable: {
        const auto r = resolve(c, n.var);
        double v = 0;
        if (!r.is_text() || !parse_dotnet_double(r.str(), v)) return std::nullopt;
        return v;
      }
      case calc_node::kind::binary: {
        const auto a = evaluate_calc(*n.lhs, c);
        if (!a) return std::nullopt;
        const auto b = evaluate_calc(*n.rhs, c);
        if (!b) return std::nullopt;
        switch (n.op) {
          case '+':
            return *a + *b;
          case '-':
            return *a - *b;
          case '*':
            return *a * *b;
          default:
            return *a / *b;
        }
      }
    }
    return std::nullopt;
  }

  // ----------------------------------------------------------------------------------------------
  // Resolution (spec §5.1).

  resolved resolve(context& c, const symbol& sym) {
    // Pre-resolve substitution indexers in the current context.
    bool has_subst = false;
    for (const auto& s : sym.steps) has_subst = has_subst || s.kind == step_kind::substitution_index;
    if (!has_subst) return resolve_in(c, sym, nullptr);
    std::vector<std::optional<std::string>> subst(sym.steps.size());
    for (std::size_t i = 0; i < sym.steps.size(); ++i) {
      if (sym.steps[i].kind != step_kind::substitution_index) continue;
      const auto r = resolve(c, *sym.steps[i].inner);
      if (r.is_text()) subst[i] = std::string(r.str());
    }
    return resolve_in(c, sym, &subst);
  }

  void check_recursion(const context& c, const symbol& sym) {
    for (const context* k = &c; k != nullptr; k = k->parent) {
      for (const symbol* s : k->stack) {
        if (!symbols_equal(*s, sym)) continue;
        std::string chain;
        for (const symbol* t : k->stack) {
          chain += symbol_text(*t);
          chain += " -> ";
        }
        const std::string name = symbol_text(sym);
        chain += name;
        throw recursion_stop{
            {error_code::recursive_definition,
             fmt::format("An attempt to parse the variable symbol \"{}\" appears to have resulted in "
                         "a self referencing loop ({}). Ensure that recursive loops do not exist in "
                         "the variable values.",
                         name, chain),
             c.src.name, c.src.text, sym.offset}};
      }
    }
  }

  struct stack_guard {
    std::vector<const symbol*>& stack;
    ~stack_guard() { stack.pop_back(); }
  };

  resolved resolve_in(context& c, const symbol& sym, const std::vector<std::optional<std::string>>* subst) {
    check_recursion(c, sym);
    c.stack.push_back(&sym);
    stack_guard guard{c.stack};

    const node* cur = c.root;
    bool found = true;
    for (std::size_t i = 0; i < sym.steps.size() && found; ++i) {
      const auto& s = sym.steps[i];
      const node* next = nullptr;
      if (s.kind == step_kind::identifier) {
        next = cur->named_child(s.key);
        if (next == nullptr) next = json_child(cur, s.text, c, s.offset);
      } else {
        std::string_view text = s.text;
        const std::string* key = &s.key;
        std::string resolved_key;
        if (s.kind == step_kind::substitution_index) {
          if (subst == nullptr || !(*subst)[i]) return {};  // unresolvable: the parent is not consulted
          text = *(*subst)[i];
          resolved_key = case_key(text);
          key = &resolved_key;
        }
        if (text == "*" && !cur->index_order.empty()) {
          next = cur->index_order.front();
        } else {
          next = cur->indexed_child(*key);
          if (next == nullptr) next = json_child(cur, text, c, s.offset);
        }
      }
      if (next == nullptr) found = false;
      cur = next;
    }
    if (!found) {
      if (c.parent != nullptr) return resolve_in(*c.parent, sym, subst);
      return {};
    }
    resolved r;
    r.n = cur;
    if (!cur->has_item) {
      r.what = resolved::kind::container;
      return r;
    }
    r.what = resolved::kind::text;
    evaluate_item(*cur, c, r, sym.offset);
    return r;
  }

  // The value of a node, evaluated as a template in a child of `c` (spec §5.1 step 5).
  void evaluate_item(const node& n, context& c, resolved& r, std::size_t offset) {
    const parse_outcome* outcome = nullptr;
    std::shared_ptr<const parsed_value> keep;
    parse_outcome local;
    if (n.parsed) {
      outcome = &n.parsed->outcome;
    } else if (n.item.find("#{") != std::string_view::npos) {
      local = parse_template(n.item, true, 64);
      outcome = &local;
    }
    if (outcome == nullptr || outcome->failed || outcome->depth_exceeded) {
      r.view = n.item;
      return;
    }
    const level guard(reference_depth_);
    if (reference_depth_ > options_.max_reference_depth) {
      limit(c, offset, "reference_depth", static_cast<std::size_t>(options_.max_reference_depth));
    }
    context child;
    child.root = &empty_;
    child.parent = &c;
    child.src = source_ref{n.item, n.source.empty() ? c.src.name : variable_source(n.source)};
    r.owns = true;
    render_tokens(outcome->tokens, child, r.owned, false);
  }

  std::string_view variable_source(std::string_view name) {
    auto it = source_names_.find(name);
    if (it == source_names_.end()) it = source_names_.emplace(name, fmt::format("variable '{}'", name)).first;
    return it->second;
  }

  // JSON lookup on a node's value (spec §10); null when it does not apply.
  const node* json_child(const node* cur, std::string_view name, context& c, std::size_t offset) {
    if (!cur->has_item || cur->item.empty()) return nullptr;
    const json* j = json_of(cur, c);
    if (j == nullptr) return nullptr;
    if (j->is_object()) {
      const auto it = j->find(std::string(name));
      if (it == j->end() || it->is_null()) {
        node* n = new_node();
        n->set_item(std::string());
        return n;
      }
      return node_from_json(*it);
    }
    long long index = 0;
    if (!parse_dotnet_int(name, index)) return nullptr;
    if (index < 0) {
      stop(
          error_code::invalid_operation, c, offset,
          fmt::format("negative index [{}] into a JSON array (Octostache throws ArgumentOutOfRangeException)",
                      index));
    }
    if (static_cast<std::size_t>(index) >= j->size()) {
      node* n = new_node();
      n->set_item(std::string());
      return n;
    }
    return node_from_json((*j)[static_cast<std::size_t>(index)]);
  }

  const json* json_of(const node* cur, context& c) {
    if (cur->json_value != nullptr) return cur->json_value;
    const bool templated = cur->item.find("#{") != std::string_view::npos;
    if (!templated) {
      if (auto it = json_cache_.find(cur); it != json_cache_.end()) return it->second;
    }
    const std::string_view first = trim_start(cur->item);
    const json* result = nullptr;
    if (!first.empty() && (first.front() == '{' || first.front() == '[')) {
      std::optional<json> parsed;
      if (templated) {
        // Evaluated first, in the current context; missing tokens are ignored and a recursion makes
        // the lookup fail.
        resolved r;
        const level quiet(suppress_missing_);
        try {
          evaluate_item(*cur, c, r, 0);
        } catch (const recursion_stop&) {
          return nullptr;
        }
        parsed = parse_lenient_json(r.str());
      } else {
        parsed = parse_lenient_json(cur->item);
      }
      if (parsed) result = &json_arena_.emplace_back(std::move(*parsed));
    }
    if (!templated) json_cache_.emplace(cur, result);
    return result;
  }

  const binding_tree& tree_;
  const render_options& options_;
  node empty_;
  std::deque<node> arena_;
  std::deque<json> json_arena_;
  std::unordered_map<const node*, const json*> json_cache_;
  std::unordered_map<std::string_view, std::string> source_names_;
  std::unordered_map<const char*, std::vector<std::size_t>> line_starts_;
  std::vector<diagnostic> diagnostics_;
  std::vector<std::string> missing_;
  std::unordered_set<std::string> seen_missing_;
  std::unordered_set<std::string> seen_places_;
  std::size_t iterations_ = 0;
  int reference_depth_ = 0;
  int depth_ = 0;
  int suppress_missing_ = 0;
  bool null_result_ = false;
  std::size_t null_offset_ = 0;
  context root_;
  reference_cache reference_cache_;
  std::unordered_map<const json*, node*> json_nodes_;                        // see node_from_json
  std::unordered_map<const node*, std::vector<const node*>> loop_items_;     // see render_each
  std::vector<loop_frame> free_frames_;                                      // see acquire_frame
  std::unordered_map<const char*, std::pair<std::string, symbol>> symbols_;  // see symbol_of
  std::string out_;
  bool stopped_ = false;
};

}  // namespace

struct streaming_render::state {
  state(const binding_tree& tree, const render_options& options) : ev(tree, options) {}
  evaluator ev;
};

streaming_render::streaming_render(std::string_view source, std::string_view source_name,
                                   const binding_tree& tree, const render_options& options)
    : state_(std::make_unique<state>(tree, options)) {
  state_->ev.start(source_ref{source, source_name});
}
streaming_render::~streaming_render() = default;
void streaming_render::text(std::string_view text, std::uint32_t offset) {
  state_->ev.feed_text(text, offset);
}
void streaming_render::reference(std::string_view path, std::uint32_t offset) {
  state_->ev.feed_reference(path, offset);
}
void streaming_render::construct(token&& t) { state_->ev.feed(t); }
evaluation streaming_render::finish() { return state_->ev.finish(); }

evaluation evaluate_tokens(const token_list& tokens, std::string_view source, std::string_view source_name,
                           const binding_tree& tree, const render_options& options) {
  evaluator ev(tree, options);
  return ev.run(tokens, source_ref{source, source_name});
}

}  // namespace cuttle::engine::detail
