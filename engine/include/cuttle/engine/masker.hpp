// Masking sensitive values in everything cuttle prints. One `masker` holds every secret and its common
// encodings in a single multi-pattern automaton; `masker::mask` masks a whole text at once, and a
// `mask_stream` masks a stream that arrives in arbitrary pieces, releasing every byte that cannot be part of
// a secret as soon as it is written.
//
// Each occurrence of a secret, or of one of its encoded forms, is replaced; occurrences that overlap or
// touch are merged and replaced once, by `********` (8 asterisks, as Octopus), whatever their length.
// Values shorter than 4 characters, or made only of whitespace, are not masked (Octopus's rule).
// docs/masking.md lists the encodings, the streaming guarantee and the measured throughput.
//
// Example:
//   namespace ce = cuttle::engine;
//   auto m = ce::masker::make({"hunter22", "s3cr3t-token"});
//   m->mask("password=hunter22");           // "password=********"
//
//   ce::mask_stream stream(m);              // one per output stream
//   std::string out;
//   stream.write("token: s3cr", out);       // out == "token: "  ("s3cr" is held: it may start a secret)
//   stream.write("3t-token\n", out);        // out == "token: ********\n"
//   m = m->with({"late-secret"});           // e.g. a script printed ##octopus[mask ...]
//   stream.update(m);                       // applies to everything not yet released
//   stream.finish(out);                     // end of stream: releases what is still held
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cuttle::engine {

namespace detail {
class mask_automaton;
/// Internal: a masked range of stream offsets [begin, end).
struct mask_span {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};
}  // namespace detail

/// What a masker masks and how.
struct mask_options {
  /// Text that replaces each masked run. Its length never depends on the secret's.
  std::string replacement = "********";
  /// Secrets with fewer characters (Unicode code points) than this are not masked. Octopus masks values
  /// longer than 3 characters; 4 keeps that behaviour. Whitespace-only and empty values are never masked.
  std::size_t min_length = 4;
  /// Also mask the common encodings of each secret: base64 (at each byte alignment, standard and URL-safe
  /// alphabets), URL encoding and JSON string escaping (docs/masking.md has the exact list).
  bool encodings = true;
};

/// A set of secrets compiled into one automaton. Immutable once built: share it between streams and
/// threads through `std::shared_ptr<const masker>`. Copies are cheap (they share the automaton).
class masker {
 public:
  /// Builds a masker for `secrets` (duplicates and values the length rule rejects are left out).
  /// Cost: linear in the total length of the patterns (each secret and its encodings).
  explicit masker(const std::vector<std::string>& secrets, mask_options options = {});
  /// The same, as a shared pointer, the form `mask_stream` and `with` use.
  static std::shared_ptr<const masker> make(const std::vector<std::string>& secrets,
                                            mask_options options = {});

  /// A masker for these secrets plus `more`, with the same options. When `more` adds nothing new, the
  /// result shares this masker's automaton; otherwise the automaton is rebuilt (batch additions).
  std::shared_ptr<const masker> with(const std::vector<std::string>& more) const;

  /// True when `secret` would be masked under `options` (long enough, not only whitespace).
  static bool accepts(std::string_view secret, const mask_options& options);
  /// The patterns that stand for `secret` under `options`, sorted: the value, its line-break forms and
  /// its encodings. Empty when the value is not accepted.
  static std::vector<std::string> forms(std::string_view secret, const mask_options& options);

  /// The secrets this masker masks: sorted, without duplicates or rejected values.
  const std::vector<std::string>& secrets() const;
  /// Number of distinct patterns in the automaton (secrets, line-break forms and encodings).
  std::size_t pattern_count() const;
  /// Length in bytes of the longest pattern; a stream never holds back this many bytes.
  std::size_t longest_pattern() const;
  const mask_options& options() const;

  /// Masks a whole text at once. Same result as writing it to a fresh `mask_stream` in any pieces and
  /// finishing it.
  std::string mask(std::string_view text) const;
  /// Appends the masked `text` to `out`.
  void mask(std::string_view text, std::string& out) const;
  /// Masks `text`, a whole input already in memory, and passes the result to `sink` in
  /// order and in pieces: views into `text` for clean bytes and the replacement for each masked run, so
  /// clean text is never copied. The concatenated pieces are exactly `mask(text)`. The text is scanned in
  /// blocks of `block_size` bytes by up to `threads` threads (the caller's included); each block's pieces
  /// go to `sink` as soon as it and the blocks before it are scanned, on the calling thread, while other
  /// threads scan ahead (at most a few blocks, so memory stays bounded). `sink` returns false to stop.
  /// Returns false when it did.
  bool mask_pieces(std::string_view text, const std::function<bool(std::string_view)>& sink,
                   unsigned threads = 1, std::size_t block_size = std::size_t{1} << 20) const;

  /// True when whole texts (`mask`, `mask_pieces`, `mask_bulk_stream`) are masked by verifying the
  /// prefilter's candidates against the few patterns that share their first bytes, so the automaton is
  /// never built for them: every pattern has at least 4 bytes and at most 8 share their first 8 (or 4).
  bool verifiable() const;

  /// Internal: the compiled automaton (its trie is built on first use).
  const detail::mask_automaton& automaton() const;

 private:
  struct state;
  explicit masker(std::shared_ptr<const state> s);
  std::shared_ptr<const state> state_;
};

/// Masks one output stream written in arbitrary pieces. Not thread-safe: use one per stream (stdout,
/// stderr, a log file), each sharing the same `masker`.
///
/// Guarantee: the output is exactly `masker::mask` of everything written, however the input was split. A
/// byte is released by the `write` that brings it, unless it may still be the start of a secret: only the
/// shortest suffix of the input that is still a prefix of some pattern is held back, never whole lines, so
/// `held()` is always less than `masker::longest_pattern()`.
class mask_stream {
 public:
  /// A stream masked by `m` (null masks nothing).
  explicit mask_stream(std::shared_ptr<const masker> m);

  /// Switches to `m`, typically `current()->with(new_secrets)`. Text already released stays as it was;
  /// the held text is examined again, so new secrets apply to every byte not yet released. Bytes the new
  /// masker no longer needs to hold are released by the next `write` or `finish`.
  void update(std::shared_ptr<const masker> m);
  /// Masks `in` and appends to `out` everything that can be released now.
  void write(std::string_view in, std::string& out);
  /// End of the stream: appends the rest. The stream can then be used again for a new stream.
  void finish(std::string& out);

  /// Bytes written but not released yet.
  std::size_t held() const { return held_.size(); }
  /// Those bytes (a prefix of some pattern).
  std::string_view held_text() const { return held_; }
  const std::shared_ptr<const masker>& current() const { return masker_; }

 private:
  void release(std::uint64_t limit, std::string_view in, std::string& out);

  std::shared_ptr<const masker> masker_;
  std::string held_;                      // input not released yet
  std::uint64_t held_begin_ = 0;          // stream offset of held_[0]
  std::uint32_t state_ = 0;               // automaton state after the last byte written
  bool in_run_ = false;                   // the last released byte was masked
  std::vector<detail::mask_span> spans_;  // masked ranges that reach into held_, sorted, disjoint
};

/// Masks a stream whose latency does not matter, such as a file being copied. The output is exactly
/// `masker::mask` of everything written, like `mask_stream`'s, but each write holds back its last
/// `longest_pattern() - 1` bytes (not only what may start a secret), so that occurrences can be found by
/// verifying candidates, without building the automaton, when the masker is `verifiable()` and its longest
/// pattern is at most 16 KiB; otherwise it is a `mask_stream`. Not thread-safe: one per stream.
class mask_bulk_stream {
 public:
  /// A stream masked by `m` (null masks nothing).
  explicit mask_bulk_stream(std::shared_ptr<const masker> m);

  /// Masks `in` and appends to `out` everything that can be released now.
  void write(std::string_view in, std::string& out);
  /// End of the stream: appends the rest. The stream can then be used again for a new stream.
  void finish(std::string& out);

  /// Bytes written but not released yet.
  std::size_t held() const { return stream_ ? stream_->held() : held_.size(); }

 private:
  std::shared_ptr<const masker> masker_;
  std::optional<mask_stream> stream_;  // when the masker is not verifiable
  std::string held_;                   // input whose starts are not searched yet
  std::uint64_t held_begin_ = 0;       // stream offset of held_[0]
  bool in_run_ = false;
  std::vector<detail::mask_span> spans_;
  std::string scratch_;  // held_ and the start of the next write, contiguous
};

}  // namespace cuttle::engine
