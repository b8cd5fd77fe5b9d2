// Masker properties (RapidCheck): a stream in any pieces gives the one-shot result, which marks exactly the
// occurrences of every form of every secret; no secret or encoded form survives; what a stream holds is a
// short prefix of some pattern; text without secrets passes unchanged; secrets added mid-stream apply to
// everything not yet released; masking a whole text in blocks on several threads, or as a bulk stream in
// any pieces, gives the same result.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/engine.hpp"
#include "masker_reference.hpp"

namespace {

namespace ce = cuttle::engine;

using cuttle::test::all_forms;
using cuttle::test::mark;
using cuttle::test::replace_runs;

bool contains_any(std::string_view text, const std::vector<std::string>& patterns) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [text](const std::string& p) { return text.find(p) != std::string_view::npos; });
}

/// Secrets from a small alphabet, so they overlap, nest and share prefixes; with line breaks, characters
/// that URL and JSON encode, and non-ASCII. Never '*', the replacement's character.
rc::Gen<std::string> secret_gen() {
  static const std::vector<std::string> pieces = {"a",    "b", "a", "b",  "c", "\n",
                                                  "\r\n", " ", "%", "\"", "/", "\xc3\xa9"};
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(pieces)),
                      [](const std::vector<std::string>& parts) {
                        std::string s;
                        for (std::size_t k = 0; k < parts.size() && k < 14; ++k) s += parts[k];
                        return s;
                      });
}

struct setup {
  std::vector<std::string> secrets;
  ce::mask_options options;
};

rc::Gen<setup> setup_gen() {
  return rc::gen::build<setup>(
      rc::gen::set(&setup::secrets,
                   rc::gen::resize(12, rc::gen::container<std::vector<std::string>>(secret_gen()))),
      rc::gen::set(&setup::options, rc::gen::map(rc::gen::pair(rc::gen::inRange<std::size_t>(1, 7),
                                                               rc::gen::arbitrary<bool>()),
                                                 [](const std::pair<std::size_t, bool>& p) {
                                                   ce::mask_options o;
                                                   o.min_length = p.first;
                                                   o.encodings = p.second;
                                                   return o;
                                                 })));
}

/// Text made of secrets, their prefixes and encoded forms, and other bytes.
std::string text_for(const std::vector<std::string>& secrets, const ce::mask_options& options) {
  const auto parts = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 6));
  std::string text;
  for (const int kind : parts) {
    if (secrets.empty() || kind >= 4) {
      text += *rc::gen::oneOf(
          rc::gen::elementOf(std::vector<std::string>{"a", "b", "c", " ", "\n", "Y", "=", "%2"}),
          rc::gen::resize(6, rc::gen::arbitrary<std::string>()));
      continue;
    }
    const std::string& s = *rc::gen::elementOf(secrets);
    if (kind == 0) {
      text += s;
    } else if (kind == 1) {
      text += s.substr(0, *rc::gen::inRange<std::size_t>(0, s.size() + 1));
    } else {
      const auto forms = ce::masker::forms(s, options);
      text += forms.empty() ? s : *rc::gen::elementOf(forms);
    }
  }
  return text;
}

std::vector<std::size_t> cuts_for(std::size_t size) {
  auto cuts = *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(0, size + 1));
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

RC_GTEST_PROP(masker_props, any_chunking_gives_the_one_shot_result_which_matches_the_reference, ()) {
  const auto [secrets, options] = *setup_gen();
  const auto m = ce::masker::make(secrets, options);
  const std::string text = text_for(secrets, options);
  const std::string one_shot = m->mask(text);

  std::vector<bool> marked(text.size(), false);
  mark(text, all_forms(*m), marked);
  RC_ASSERT(one_shot == replace_runs(text, marked, options.replacement));

  ce::mask_stream stream(m);
  std::string out;
  std::size_t at = 0;
  for (const std::size_t cut : cuts_for(text.size())) {
    stream.write(std::string_view(text).substr(at, cut - at), out);
    at = cut;
  }
  stream.write(std::string_view(text).substr(at), out);
  stream.finish(out);
  RC_ASSERT(out == one_shot);
}

/// Secrets like real tokens: 4 to 24 printable characters, mostly distinct in their first bytes, so the
/// masker verifies candidates instead of building its automaton; sometimes sharing a prefix.
rc::Gen<std::vector<std::string>> token_secrets_gen() {
  return rc::gen::map(
      rc::gen::pair(
          rc::gen::resize(20, rc::gen::container<std::vector<std::string>>(
                                  rc::gen::container<std::string>(rc::gen::inRange<char>('!', '~')))),
          rc::gen::elementOf(std::vector<std::string>{"", "", "tok_", "ghp_0123"})),
      [](const std::pair<std::vector<std::string>, std::string>& p) {
        std::vector<std::string> out;
        for (const auto& s : p.first) out.push_back(p.second + s.substr(0, 24));
        return out;
      });
}

RC_GTEST_PROP(masker_props, a_bulk_stream_in_any_pieces_gives_the_reference_result, ()) {
  auto [secrets, options] = *setup_gen();
  if (*rc::gen::arbitrary<bool>()) {
    secrets = *token_secrets_gen();
    options.min_length = 4;
  }
  const auto m = ce::masker::make(secrets, options);
  RC_CLASSIFY(m->verifiable());
  const std::string text = text_for(secrets, options);

  ce::mask_bulk_stream stream(m);
  std::string out;
  std::size_t at = 0;
  for (const std::size_t cut : cuts_for(text.size())) {
    stream.write(std::string_view(text).substr(at, cut - at), out);
    RC_ASSERT(stream.held() < std::max<std::size_t>(m->longest_pattern(), 1));
    at = cut;
  }
  stream.write(std::string_view(text).substr(at), out);
  stream.finish(out);
  std::vector<bool> marked(text.size(), false);
  mark(text, all_forms(*m), marked);
  RC_ASSERT(out == replace_runs(text, marked, options.replacement));
  RC_ASSERT(m->mask(text) == out);
}

RC_GTEST_PROP(masker_props, masking_in_blocks_on_threads_gives_the_reference_result, ()) {
  const auto [secrets, options] = *setup_gen();
  const auto m = ce::masker::make(secrets, options);
  const std::string text = text_for(secrets, options);
  // Blocks from one byte (every occurrence crosses a boundary) to more than the text (one block).
  const auto block = *rc::gen::inRange<std::size_t>(1, text.size() + 2);
  const auto threads = *rc::gen::inRange(1U, 4U);

  const std::string replacement = options.replacement;
  std::string out;
  RC_ASSERT(m->mask_pieces(
      text,
      [&out, &text, &replacement](std::string_view piece) {
        // Clean text is passed as a view into the input, never copied.
        const bool inside =
            piece.data() >= text.data() && piece.data() + piece.size() <= text.data() + text.size();
        RC_ASSERT(inside || piece == replacement);
        out.append(piece);
        return true;
      },
      threads, block));
  std::vector<bool> marked(text.size(), false);
  mark(text, all_forms(*m), marked);
  RC_ASSERT(out == replace_runs(text, marked, options.replacement));
}

RC_GTEST_PROP(masker_props, no_secret_or_encoded_form_survives, ()) {
  const auto [secrets, options] = *setup_gen();
  const auto m = ce::masker::make(secrets, options);
  const std::string text = text_for(secrets, options);
  const std::string masked = m->mask(text);
  for (const auto& s : m->secrets()) {
    RC_ASSERT(masked.find(s) == std::string::npos);
    if (!options.encodings) continue;
    // Encoded independently, by the engine's own filters.
    ce::variables vars;
    vars.set("S", s);
    for (const char* f : {"ToBase64", "UriDataEscape", "JsonEscape"}) {
      const auto encoded = ce::evaluate(std::string("#{S | ") + f + "}", vars).output.value_or("");
      // Encoded forms shorter than 6 characters are not masked (docs/masking.md).
      if (encoded.size() >= 6) RC_ASSERT(masked.find(encoded) == std::string::npos);
    }
  }
}

RC_GTEST_PROP(masker_props, held_text_is_a_short_prefix_of_some_pattern, ()) {
  const auto [secrets, options] = *setup_gen();
  const auto m = ce::masker::make(secrets, options);
  const auto patterns = all_forms(*m);
  const std::string text = text_for(secrets, options);
  ce::mask_stream stream(m);
  std::string out;
  std::size_t at = 0;
  auto cuts = cuts_for(text.size());
  cuts.push_back(text.size());
  for (const std::size_t cut : cuts) {
    stream.write(std::string_view(text).substr(at, cut - at), out);
    at = cut;
    const std::string_view held = stream.held_text();
    RC_ASSERT(held.size() == stream.held());
    if (held.empty()) continue;
    RC_ASSERT(held.size() < m->longest_pattern());
    RC_ASSERT(std::string_view(text).substr(0, at).ends_with(held));
    RC_ASSERT(std::any_of(patterns.begin(), patterns.end(), [held](const std::string& p) {
      return p.size() > held.size() && std::string_view(p).starts_with(held);
    }));
  }
}

RC_GTEST_PROP(masker_props, text_without_secrets_passes_unchanged, ()) {
  const auto [secrets, options] = *setup_gen();
  const auto m = ce::masker::make(secrets, options);
  const auto text = *rc::gen::arbitrary<std::string>();
  RC_PRE(!contains_any(text, all_forms(*m)));
  RC_ASSERT(m->mask(text) == text);
  ce::mask_stream stream(m);
  std::string out;
  std::size_t at = 0;
  for (const std::size_t cut : cuts_for(text.size())) {
    stream.write(std::string_view(text).substr(at, cut - at), out);
    at = cut;
  }
  stream.write(std::string_view(text).substr(at), out);
  RC_ASSERT(text.starts_with(out));
  RC_ASSERT(out.size() + stream.held() == text.size());
  stream.finish(out);
  RC_ASSERT(out == text);
}

RC_GTEST_PROP(masker_props, secrets_added_mid_stream_apply_to_everything_not_yet_released, ()) {
  const auto [first, options] = *setup_gen();
  const auto added = *rc::gen::resize(6, rc::gen::container<std::vector<std::string>>(secret_gen()));
  std::vector<std::string> everything = first;
  everything.insert(everything.end(), added.begin(), added.end());
  const auto before = ce::masker::make(first, options);
  const auto after = before->with(added);
  const std::string text = text_for(everything, options);
  const std::size_t split = *rc::gen::inRange<std::size_t>(0, text.size() + 1);

  ce::mask_stream stream(before);
  std::string out;
  stream.write(std::string_view(text).substr(0, split), out);
  const std::size_t released = split - stream.held();
  stream.update(after);
  stream.write(std::string_view(text).substr(split), out);
  stream.finish(out);

  // The old secrets everywhere; the new ones where they start in text not yet released at the update.
  std::vector<bool> marked(text.size(), false);
  mark(text, all_forms(*before), marked);
  mark(text, all_forms(*after), marked, released);
  RC_ASSERT(out == replace_runs(text, marked, options.replacement));
}

}  // namespace
