// Fuzzer for the masker: secrets (some added mid-stream), a text made of arbitrary bytes, secrets, their
// encoded forms and prefixes, and the sizes of the writes that carry it. Checks that the one-shot result
// marks exactly the occurrences of every form (against a naive reference), that any chunking gives the
// one-shot result, that a stream holds less than the longest pattern, that secrets added mid-stream apply
// to everything not yet released, that masking the whole text in blocks on one or two threads, or as a bulk
// stream in the same writes, gives the one-shot result, and that no secret is left in the output. Seed
// corpus: corpus/masker/.
//
// The order of the FuzzedDataProvider calls below is the input format.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/engine.hpp"
#include "masker_reference.hpp"

namespace {

namespace ce = cuttle::engine;

constexpr std::size_t max_input_bytes = 4096;

[[noreturn]] void invariant_failed(const char* what) {
  __builtin_printf("invariant failed: %s\n", what);
  std::abort();
}

using cuttle::test::all_forms;
using cuttle::test::mark;
using cuttle::test::replace_runs;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > max_input_bytes) return -1;  // -1: do not add to the corpus
  FuzzedDataProvider fdp(data, size);

  ce::mask_options options;
  options.min_length = fdp.ConsumeIntegralInRange<std::size_t>(1, 8);
  options.encodings = fdp.ConsumeBool();
  std::vector<std::string> secrets(fdp.ConsumeIntegralInRange<std::size_t>(0, 8));
  for (auto& s : secrets) s = fdp.ConsumeRandomLengthString(48);
  std::vector<std::string> late(fdp.ConsumeIntegralInRange<std::size_t>(0, 2));
  for (auto& s : late) s = fdp.ConsumeRandomLengthString(48);
  std::vector<std::string> everything = secrets;
  everything.insert(everything.end(), late.begin(), late.end());

  // The text: 0 arbitrary bytes, 1 a secret, 2 one of its forms, 3 a prefix of it.
  std::string text;
  const int pieces = fdp.ConsumeIntegralInRange<int>(0, 24);
  for (int k = 0; k < pieces; ++k) {
    const int kind = fdp.ConsumeIntegralInRange<int>(0, 3);
    if (kind == 0 || everything.empty()) {
      text += fdp.ConsumeRandomLengthString(24);
      continue;
    }
    const std::string& s = everything[fdp.ConsumeIntegralInRange<std::size_t>(0, everything.size() - 1)];
    if (kind == 1) {
      text += s;
    } else if (kind == 2) {
      const auto forms = ce::masker::forms(s, options);
      if (!forms.empty()) text += forms[fdp.ConsumeIntegralInRange<std::size_t>(0, forms.size() - 1)];
    } else {
      text += s.substr(0, fdp.ConsumeIntegralInRange<std::size_t>(0, s.size()));
    }
  }

  // The writes: sizes until the text is used up (the rest goes in one last write).
  std::vector<std::size_t> writes;
  for (std::size_t total = 0; total < text.size() && fdp.remaining_bytes() > 0;) {
    writes.push_back(std::min(fdp.ConsumeIntegralInRange<std::size_t>(0, 64), text.size() - total));
    total += writes.back();
  }
  const std::size_t update_after = fdp.ConsumeIntegralInRange<std::size_t>(0, writes.size());

  const auto before = ce::masker::make(secrets, options);
  const auto after = before->with(late);

  // One shot against the reference.
  const std::string one_shot = before->mask(text);
  std::vector<bool> marked(text.size(), false);
  mark(text, all_forms(*before), marked, 0);
  if (one_shot != replace_runs(text, marked, options.replacement)) invariant_failed("one-shot != reference");

  // No secret is left (a secret containing the replacement's character can reappear around it).
  const std::string masked_all = after->mask(text);
  for (const auto& s : after->secrets()) {
    if (s.find('*') == std::string::npos && masked_all.find(s) != std::string::npos) {
      invariant_failed("a secret is left in the output");
    }
  }

  // Streams: without and with the update.
  for (const bool with_update : {false, true}) {
    ce::mask_stream stream(before);
    std::string out;
    std::size_t at = 0;
    std::size_t released_at_update = 0;
    for (std::size_t w = 0; w <= writes.size(); ++w) {
      if (with_update && w == update_after) {
        released_at_update = at - stream.held();
        stream.update(after);
      }
      const std::size_t n = w < writes.size() ? writes[w] : text.size() - at;
      stream.write(std::string_view(text).substr(at, n), out);
      at += n;
      if (stream.held() > 0 && stream.held() >= stream.current()->longest_pattern()) {
        invariant_failed("held as much as the longest pattern");
      }
      if (!std::string_view(text).substr(0, at).ends_with(stream.held_text())) {
        invariant_failed("held text is not the end of the input");
      }
    }
    stream.finish(out);
    if (!with_update) {
      if (out != one_shot) invariant_failed("chunked != one-shot");
      continue;
    }
    std::vector<bool> late_marked = marked;
    mark(text, all_forms(*after), late_marked, released_at_update);
    if (out != replace_runs(text, late_marked, options.replacement)) {
      invariant_failed("update mid-stream != reference");
    }
  }

  // The whole text in blocks (mask_pieces), on one and on two threads.
  const std::size_t block = fdp.ConsumeIntegralInRange<std::size_t>(1, 64);
  for (const unsigned threads : {1U, 2U}) {
    std::string in_blocks;
    before->mask_pieces(
        text,
        [&in_blocks](std::string_view piece) {
          in_blocks.append(piece);
          return true;
        },
        threads, block);
    if (in_blocks != one_shot) invariant_failed("mask_pieces != one-shot");
  }

  // A bulk stream in the same writes (it verifies candidates when the masker allows).
  ce::mask_bulk_stream bulk(before);
  std::string bulk_out;
  std::size_t bulk_at = 0;
  for (std::size_t w = 0; w <= writes.size(); ++w) {
    const std::size_t n = w < writes.size() ? writes[w] : text.size() - bulk_at;
    bulk.write(std::string_view(text).substr(bulk_at, n), bulk_out);
    bulk_at += n;
    if (bulk.held() > 0 && bulk.held() >= before->longest_pattern()) {
      invariant_failed("bulk stream held as much as the longest pattern");
    }
  }
  bulk.finish(bulk_out);
  if (bulk_out != one_shot) invariant_failed("bulk stream != one-shot");
  return 0;
}
