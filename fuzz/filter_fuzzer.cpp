// Fuzzer for the built-in filters: renders a chain of one or two filters (mostly the 46 Octostache names)
// with up to three options each (arbitrary bytes or interesting values) over an arbitrary or missing input,
// and checks the render's invariants. Seed corpus: corpus/filter/, written by make_filter_corpus.py.
//
// The order of the FuzzedDataProvider calls below is the input format; make_filter_corpus.py writes it, so
// change both together. Options are passed as nested variables (#{O1}) unless they are safe to write
// quoted or bare, so arbitrary bytes never break the template's own quoting.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cuttle/engine.hpp"
#include "filter_names.hpp"

namespace {

namespace ce = cuttle::engine;
using namespace std::chrono_literals;

constexpr std::size_t max_input_bytes = 4096;

// Values that reach the filters' special cases: numbers and sizes, encodings, .NET numeric and date format
// strings and type names, regular expressions (invalid and catastrophic ones too) and replacements,
// versions, URIs and UriPart names, base64, dates, Trim/Indent options, Markdown, and awkward text.
constexpr std::string_view interesting[] = {
    // numbers
    "0",
    "1",
    "-1",
    "2",
    "4",
    "8",
    "16",
    "100",
    "2147483647",
    "2147483648",
    "-2147483648",
    "99999999999",
    "1e308",
    "1.5",
    "-0.5",
    "NaN",
    "\xe2\x88\x9e",
    "0x10",
    " 5 ",
    "+3",
    "1,234.5678",
    "79228162514264337593543950336",
    // encodings
    "utf8",
    "utf-8",
    "UTF8",
    "unicode",
    "base64",
    "ascii",
    // numeric formats and Format types
    "C",
    "C2",
    "N2",
    "N0",
    "P1",
    "E2",
    "e",
    "F0",
    "F2",
    "G17",
    "R",
    "X",
    "X8",
    "D10",
    "0.00",
    "#,##0.00;(#,##0.00);zero",
    "0,,",
    "%",
    "\xe2\x80\xb0",
    "E+0",
    "'lit'",
    "\\",
    "F100000",
    "F200000",
    "int",
    "int32",
    "double",
    "decimal",
    "date",
    "datetime",
    "datetimeoffset",
    // date formats
    "yyyy-MM-dd",
    "yyyy-MM-ddTHH:mm:ss.fffffffK",
    "O",
    "o",
    "r",
    "u",
    "U",
    "s",
    "D",
    "d",
    "f",
    "F",
    "g",
    "G",
    "t",
    "T",
    "y",
    "M",
    "%d",
    "ffffffff",
    "FFFFFFF",
    "zzz",
    "K",
    "Q",
    "H",
    "dddd, MMMM d, yyyy h:mm:ss tt gg",
    "'unclosed",
    // regular expressions and replacements
    "^(\\d+)\\.(\\d+).*$",
    "(a+)+$",
    "^(a+)+$",
    "(",
    "[a-z-[aeiou]]",
    "(?<x>a)(b)",
    "\\uD83D\\uDE00",
    "(?i)abc",
    "x*",
    "$1.$2",
    "${x}",
    "$$",
    "$&",
    "$`",
    "$'",
    "$+",
    "$_",
    "$99999999999",
    "\\k<x>",
    "(?<=a|bb)c",
    "\\R\\h\\K",
    "\\p{L}+",
    ".*",
    "",
    // versions
    "1.2.3",
    "v1.2.3.4-branch.1+meta",
    "1.0.0-alpha.beta.1",
    "latest",
    "abc def",
    "99999999999.1",
    "1.2.3.4.5",
    // URIs and UriPart names
    "https://user:pw@Octopus.com:8443/a/../docs?x=1#top",
    "http://[::1]:80/",
    "file:///C:/x",
    "\\\\server\\share\\f",
    "/docs",
    "http://exa mple.com/",
    "http://a:99999/",
    "Host",
    "Port",
    "AbsolutePath",
    "HostNameType",
    "IsUnc",
    "Path",
    // base64
    "QmF6",
    "QQ==",
    "QR==",
    "QQ",
    "Rm9v\r\nIEJh\r\ncg==",
    "not base64!",
    // dates
    "2030-05-22T09:05:00+02:00",
    "5/22/2030",
    "Wed, 22 May 2030 09:05:00 GMT",
    "0001-01-01",
    "9999-12-31T23:59:59",
    // Trim, Indent, Markdown, text
    "start",
    "end",
    "2/4",
    "256",
    "|a|b|\n|-|-:|\n|c|d|",
    "a\r\nb\n\xf0\x9f\x98\x80\xff",
};

bool bare_word(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool quotable(std::string_view s) { return s.find_first_of("\"#") == std::string_view::npos; }

std::string pick_value(FuzzedDataProvider& fdp, std::size_t max_length) {
  if (fdp.ConsumeBool()) return fdp.ConsumeRandomLengthString(max_length);
  return std::string(fdp.PickValueInArray(interesting));
}

const ce::filter_registry& fallback_filters() {
  static const ce::filter_registry registry = [] {
    ce::filter_registry r;
    // Consulted when a built-in of the same name gives no value (spec §9.1).
    r.add("Format",
          [](const std::optional<std::string>& in,
             std::span<const std::string> options) -> std::optional<std::string> {
            return in.value_or("<none>") + "/" + std::to_string(options.size());
          });
    return r;
  }();
  return registry;
}

[[noreturn]] void invariant_failed(const char* what) {
  __builtin_printf("invariant failed: %s\n", what);
  std::abort();
}

void check(const ce::render_result& r, std::string_view text) {
  bool has_error = false;
  bool has_null = false;
  for (const auto& d : r.diagnostics) {
    if (d.line < 1 || d.column < 1) invariant_failed("diagnostic line/column below 1");
    if (d.source == "fuzz" && d.offset > text.size()) invariant_failed("diagnostic offset past the template");
    if (d.to_string().empty()) invariant_failed("empty diagnostic text");
    has_error = has_error || d.severity == ce::severity::error;
    has_null = has_null || d.code == ce::error_code::null_result;
  }
  if (r.failed && !has_error) invariant_failed("failed without an error diagnostic");
  if (!r.failed && !r.output && !has_null) invariant_failed("no output, not failed, not null");
  if (r.output && r.output->size() > (std::size_t{1} << 20)) invariant_failed("output over the limit");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > max_input_bytes) return -1;  // -1: do not add to the corpus
  FuzzedDataProvider fdp(data, size);

  const int offset_minutes = fdp.ConsumeIntegralInRange<int>(-18 * 60, 18 * 60);
  const bool halt_on_error = fdp.ConsumeBool();
  const bool use_fallback = fdp.ConsumeBool();

  ce::variables vars;
  // Input: 0 arbitrary or interesting text, 1 null value, 2 missing variable, 3 no left side at all.
  const int input_mode = fdp.ConsumeIntegralInRange<int>(0, 3);
  if (input_mode == 0) vars.set("V", pick_value(fdp, 256));
  if (input_mode == 1) vars.set("V", std::nullopt);
  std::string expr = input_mode == 3 ? "" : "V";

  // Whitespace after a nested option is not skipped: it must be followed directly by '|', '}' or the next
  // nested option (docs/syntax.md, "Option forms"), so `after_nested` drops the usual space.
  int option_number = 0;
  bool after_nested = false;
  const int chain_length = fdp.ConsumeIntegralInRange<int>(1, 2);
  for (int f = 0; f < chain_length; ++f) {
    std::string name;
    const int name_kind = fdp.ConsumeIntegralInRange<int>(0, 15);
    if (name_kind == 0) {
      name = fdp.ConsumeRandomLengthString(24);
    } else {
      name = cuttle::test::octostache_filter_names[fdp.ConsumeIntegralInRange<std::size_t>(
          0, cuttle::test::octostache_filter_names.size() - 1)];
      if (name_kind == 1) {
        for (char& c : name) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
      }
    }
    expr += (after_nested ? "| " : " | ") + name;
    after_nested = false;
    const int option_count = fdp.ConsumeIntegralInRange<int>(0, 3);
    for (int o = 0; o < option_count; ++o) {
      const std::string value = pick_value(fdp, 64);
      const int form = fdp.ConsumeIntegralInRange<int>(0, 3);  // 0, 1: nested; 2: quoted; 3: bare
      if (form == 3 && bare_word(value)) {
        expr += " " + value;
        after_nested = false;
      } else if (form >= 2 && quotable(value)) {
        expr += " \"" + value + "\"";
        after_nested = false;
      } else {
        const std::string var = "O" + std::to_string(++option_number);
        vars.set(var, value);
        expr += (after_nested ? "#{" : " #{") + var + "}";
        after_nested = true;
      }
    }
  }

  // Shape: 0 plain, 1 inside text on a later line, 2 as a condition, 3 inside an #{each}.
  std::string text;
  switch (fdp.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      text = "#{" + expr + "}";
      break;
    case 1:
      text = "a\nb #{" + expr + "} c";
      break;
    case 2:
      text = "#{if " + expr + "}yes#{else}no#{/if}";
      break;
    default:
      vars.set("L", std::string("x,y"));
      text = "#{each i in L}#{i}:#{" + expr + "};#{/each}";
      break;
  }

  ce::parse_options popts;
  popts.source_name = "fuzz";
  popts.halt_on_error = halt_on_error;
  popts.max_nesting_depth = 32;

  ce::render_options ropts;
  ropts.max_iterations = 1'000;
  ropts.max_output_bytes = std::size_t{1} << 20;
  ropts.max_reference_depth = 16;
  if (use_fallback) ropts.filters = &fallback_filters();
  ropts.clock.now = [] {
    return std::chrono::system_clock::time_point(std::chrono::sys_days(std::chrono::year(2030) / 5 / 22) +
                                                 9h + 5min);
  };
  ropts.clock.local_offset = [offset_minutes](std::chrono::system_clock::time_point) {
    return std::chrono::seconds(std::chrono::minutes(offset_minutes));
  };

  // The streaming evaluate() and parse + render are separate paths; they must agree.
  const auto streamed = ce::evaluate(text, vars, popts, ropts);
  check(streamed, text);
  const auto tpl = ce::compiled_template::parse(text, popts);
  const auto rendered = tpl.render(vars, ropts);
  check(rendered, text);
  if (streamed.output != rendered.output || streamed.failed != rendered.failed) {
    invariant_failed("evaluate() and parse()+render() disagree");
  }
  return 0;
}
