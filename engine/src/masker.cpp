// The masker: every secret and its encoded forms in one Aho–Corasick automaton behind a q-gram prefilter,
// and the release logic that lets a stream hold back only what may still become a secret.
// Tested by tests/engine/masker_test.cpp and tests/property/masker_props.cpp
//
// Design.
//
// *What is masked.* Each accepted secret (at least `min_length` code points, not only whitespace) becomes a
// set of byte patterns: the value as written, its line-break forms (LF, CRLF, and Octopus's form with the
// breaks removed), and, with `encodings`, base64 (padded, and the stable middle of the encoding at each of
// the three byte alignments, standard and URL-safe alphabets), URL encodings and JSON escapings. The output
// is defined on the whole text: take every occurrence of every pattern, mark its bytes, and replace each
// maximal run of marked bytes with the replacement. Overlapping, nested and touching occurrences therefore
// give one replacement, and the result does not depend on how the text was split.
//
// *Finding occurrences.* One automaton for all patterns, so the cost per byte does not grow with the
// number of secrets. The trie is built level by level from the sorted patterns, which numbers states in
// breadth-first order and puts each state's children in consecutive ids. The first states (the shallow
// ones, up to a 1 MB budget) get dense transition rows over byte classes with the failure transitions
// already folded in; deeper states keep only their children and fall back along failure links, which
// always ends in a dense state. Per state we keep `match`, the longest pattern ending there, and `hold`,
// the length of the longest suffix of the text read that some pattern still extends.
//
// *Building.* A process such as `cuttle mask` builds the masker once and then may scan little, so the build
// is kept lean: the forms of all secrets go into one buffer (no allocation per pattern), the URL and JSON
// forms are only generated for values with a byte some encoder changes, the patterns are sorted by an
// 8-byte integer key first, the node array is reserved at its exact size (counted from the sorted
// patterns), the breadth-first queue is a ring as long as the pattern list, and the dense rows are written
// once without being zeroed first. The large tables live in transparent huge pages, so the kernel supplies
// them with a few page faults rather than one per 4 KiB.
//
// *Whole texts.* `mask_pieces` masks a text that is all in memory in blocks, on several threads: each block
// is scanned a little past its end, and the runs found are merged across block boundaries in order (see
// the function). `mask_bulk_stream` masks a file in chunks, holding back a pattern's length each time.
//
// *Verifying instead of the automaton.* A whole text, a block or a bulk stream's chunk has all the text an
// occurrence starting in it can need, so it does not need the automaton's state: the positions that pass
// the prefilter (below) are looked up in an index of the sorted patterns by their first 8 (or 4) bytes and
// compared with the few patterns of that key. This applies when every pattern has at least 4 bytes and no
// key has more than `max_bucket` patterns; the trie, most of the cost of a build, is then built only if a
// live `mask_stream` needs it (`std::call_once`).
//
// *Skipping.* Walking the automaton costs a dependent memory access per byte, and with many secrets almost
// every letter leads away from the root. So the scan alternates: in prefilter mode it tests positions
// against a table of the patterns' first q bytes (q = 4 when every pattern has at least 4 bytes: a Bloom
// filter; q = 2 or 1: exact tables), which needs no state and pipelines well. When every pattern has at
// least w > 4 bytes (w <= 8), a second Bloom filter of the 4-grams at offsets 0..w-4 lets one test rule out
// w-3 starts, so only one position in w-3 is probed. A position that passes the first table
// restarts the automaton at the root there (no pattern can start at a position that failed); exact mode
// continues until that candidate is resolved and the live prefix is shorter than q, then prefiltering
// resumes where the live prefix starts. Invariant: no occurrence starts before the prefilter's position,
// because every earlier start either failed the table or was read by the automaton. The last q - 1
// positions of a write cannot be tested and are read by the automaton. Every position is read a bounded
// number of times, so the scan is linear even on adversarial text.
//
// *Streaming.* After a write, the live prefix (`hold` of the state) is the only text a future occurrence
// can start in; everything before it is final and released, marked runs as one replacement each. The
// held text is therefore a prefix of some pattern and shorter than the longest one. Marked ranges that
// reach into the held text, and whether the last released byte was marked, carry over to the next write,
// so a run split by a release still gives one replacement.

#include "cuttle/engine/masker.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <iterator>
#include <limits>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "cuttle/engine/memory.hpp"
#include "unicode.hpp"

namespace cuttle::engine {
namespace detail {

namespace {

// Dense rows take at most this many transition entries (4 bytes each): 1 MB, about every state of depth 2
// or less with 64 byte classes (letters, digits and the base64 punctuation). The automaton only runs
// where the prefilter has passed, and a larger table mostly costs time to build (and, before the tables
// were given huge pages, page faults: 4 MB took 1.5 ms of a 7 ms build for 1,000 secrets), for no
// throughput gain measured by benchmarks/masker_benchmark.cpp (2026-11-21).
constexpr std::size_t dense_budget_entries = std::size_t{1} << 18;

// From this many secrets on, their forms are generated and sorted on two threads: for 1,000 secrets that is
// about a third of the instructions of building the masker, and starting a thread costs about 50 µs.
constexpr std::size_t parallel_forms_min = 256;

// The verifier compares a candidate position with every pattern that shares its key (first 8 or 4 bytes):
// at most this many, so a position costs a bounded number of comparisons. Secrets that share long prefixes
// (tokens of one issuer, "xoxb-<team>-...") exceed it; their maskers use the trie for everything.
constexpr std::uint32_t max_bucket = 8;

// A bulk stream holds back up to the longest pattern and copies it once per write: beyond this length it
// is a mask_stream instead.
constexpr std::size_t bulk_hold_max = std::size_t{16} << 10;

// Tables of at least this many bytes get memory of their own, in 2 MiB huge pages (below).
constexpr std::size_t huge_table_bytes = std::size_t{1} << 20;
constexpr std::size_t small_page_bytes = 4096;

// An allocator for the automaton's large tables. A fresh 4 KiB page costs a page fault when it is first
// written, 2 to 7 µs each on the virtual machines measured: with 1,000 secrets the ~3 MB of tables took
// about a thousand faults, more time than building them. So a table of 1 MiB or more gets an anonymous
// mapping aligned to 2 MiB and marked MADV_HUGEPAGE; when transparent huge pages are enabled (`always` or
// `madvise`) the kernel supplies each 2 MiB with one fault (building for 1,000 secrets: ~1,040 faults ->
// ~240). Otherwise, or for smaller tables, this is ordinary memory. A process that rebuilds maskers often
// gets fresh pages each time instead of reusing freed heap memory; building one masker per process
// (`cuttle mask`) is the case this is for.
template <class T>
struct table_allocator {
  using value_type = T;
  table_allocator() = default;
  template <class U>
  explicit table_allocator(const table_allocator<U>& /*other*/) {}

  // Whole huge pages, and a last partial one only when at least half of it is used: a smaller tail gets
  // 4 KiB pages, since the kernel zeroes all of a huge page (2.2 MB of trie states: 2 MiB + 52 pages).
  static std::size_t mapped_size(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    const std::size_t tail = bytes % huge_page_bytes;
    return tail >= huge_page_bytes / 2 ? bytes - tail + huge_page_bytes
                                       : (bytes + small_page_bytes - 1) / small_page_bytes * small_page_bytes;
  }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T) / 2) throw std::bad_array_new_length();
    if (n * sizeof(T) < huge_table_bytes) return std::allocator<T>().allocate(n);
    const std::size_t size = mapped_size(n);
    // Map one huge page more than needed, then trim to a 2 MiB boundary.
    void* raw =
        ::mmap(nullptr, size + huge_page_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto at = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = (at + huge_page_bytes - 1) / huge_page_bytes * huge_page_bytes;
    if (aligned > at) ::munmap(raw, aligned - at);
    if (const std::size_t tail = huge_page_bytes - (aligned - at); tail > 0) {
      ::munmap(reinterpret_cast<void*>(aligned + size), tail);
    }
    advise_huge_pages(reinterpret_cast<void*>(aligned), size);  // failure is harmless
    return reinterpret_cast<T*>(aligned);
  }
  void deallocate(T* p, std::size_t n) {
    if (n * sizeof(T) < huge_table_bytes) {
      std::allocator<T>().deallocate(p, n);
    } else {
      ::munmap(p, mapped_size(n));
    }
  }
#else
  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) { std::allocator<T>().deallocate(p, n); }
#endif
  // `resize` default-initialises: a table's entries are written before they are read.
  template <class U>
  void construct(U* p) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <class U>
  bool operator==(const table_allocator<U>& /*other*/) const {
    return true;
  }
};

template <class T>
using table = std::vector<T, table_allocator<T>>;

void add_span(std::vector<mask_span>& spans, std::uint64_t begin, std::uint64_t end) {
  // Occurrences arrive in order of their end, so only the last spans can overlap or touch a new one.
  while (!spans.empty() && spans.back().end >= begin) {
    begin = std::min(begin, spans.back().begin);
    end = std::max(end, spans.back().end);
    spans.pop_back();
  }
  spans.push_back({begin, end});
}

std::uint32_t load4(const unsigned char* p) {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// A Bloom filter over 4-byte strings: two bits per entry, both in one 64-bit word chosen by the same 64-bit
// product, so a test is one memory access (the scan is bound by those). With about 64 bits per entry a
// string that was not added passes with probability ~0.2%, so even a 4-gram that is frequent in the text
// rarely collides.
class bloom4 {
 public:
  void reset(std::size_t entries) {
    bits_ = static_cast<std::uint32_t>(std::clamp<std::size_t>(std::bit_width(entries * 64), 12, 24));
    table_.assign((std::size_t{1} << bits_) / 64, 0);
  }
  void add(std::uint32_t w) {
    const std::uint64_t h = w * 0x9E3779B97F4A7C15ull;
    table_[word(h)] |= mask(h);
  }
  bool test(std::uint32_t w) const {
    const std::uint64_t h = w * 0x9E3779B97F4A7C15ull;
    const std::uint64_t m = mask(h);
    return (table_[word(h)] & m) == m;
  }

 private:
  std::size_t word(std::uint64_t h) const { return static_cast<std::size_t>(h >> (64 - (bits_ - 6))); }
  static std::uint64_t mask(std::uint64_t h) {
    // Bits below the word's (at most 18 from the top) and above the low ones, which a product mixes least.
    return (std::uint64_t{1} << ((h >> 34) & 63)) | (std::uint64_t{1} << ((h >> 40) & 63));
  }
  std::vector<std::uint64_t> table_;
  std::uint32_t bits_ = 12;
};

// The patterns of a masker, collected in one buffer: no allocation per pattern while forms are generated.
class pattern_list {
 public:
  void add(std::string_view p) {
    if (p.empty()) return;
    refs_.push_back({bytes_.size(), p.size()});
    bytes_.append(p);
  }
  /// The patterns, sorted and without duplicates: views into this list, valid while it is not changed.
  std::vector<std::string_view> sorted() const {
    // Sorted by their first 8 bytes as a big-endian number (zero-padded, which orders a shorter pattern
    // before its extensions), then by the whole text: most comparisons are one integer comparison.
    struct keyed {
      std::uint64_t key;
      std::string_view text;
    };
    std::vector<keyed> keys;
    keys.reserve(refs_.size());
    for (const auto& [offset, size] : refs_) {
      std::uint64_t key = 0;
      for (std::size_t k = 0; k < 8; ++k) {
        key = key << 8 | (k < size ? static_cast<unsigned char>(bytes_[offset + k]) : 0U);
      }
      keys.push_back({key, std::string_view(bytes_.data() + offset, size)});
    }
    std::sort(keys.begin(), keys.end(), [](const keyed& a, const keyed& b) {
      return a.key != b.key ? a.key < b.key : a.text < b.text;
    });
    std::vector<std::string_view> out;
    out.reserve(keys.size());
    for (const auto& k : keys) {
      if (out.empty() || out.back() != k.text) out.push_back(k.text);
    }
    return out;
  }
  void reserve(std::size_t patterns, std::size_t bytes) {
    refs_.reserve(patterns);
    bytes_.reserve(bytes);
  }

 private:
  std::string bytes_;
  std::vector<std::pair<std::size_t, std::size_t>> refs_;  // offset and size in bytes_
};

}  // namespace

class mask_automaton {
 public:
  /// `patterns`: sorted, without duplicates. Copied: the automaton does not refer to them afterwards.
  explicit mask_automaton(const std::vector<std::string_view>& patterns);

  std::size_t pattern_count() const { return pattern_count_; }
  std::size_t longest() const { return longest_; }
  /// Bytes the text read so far must keep unreleased in `state`.
  std::uint32_t hold(std::uint32_t state) const { return trie().nodes[state].hold; }

  /// Reads `n` bytes at stream offset `base`, continuing from `state`, and adds every occurrence to
  /// `spans` (merged, in stream offsets). Builds the trie on first use.
  void scan(std::uint32_t& state, const char* text, std::size_t n, std::uint64_t base,
            std::vector<mask_span>& spans) const;

  /// True when `find_starts` can be used: every pattern has at least 4 bytes and no more than
  /// `max_bucket` patterns share a key (their first 8 bytes, or 4 when some pattern is shorter than 8).
  bool verifiable() const { return verifiable_; }
  /// Adds to `spans` the occurrences that start in [from, to) of `text` (n bytes, at stream offset `base`),
  /// in order of their start, without the trie: positions that pass the prefilter are looked up by key
  /// and compared with the few patterns that have it. Requires `verifiable()`. An occurrence must lie
  /// within the n bytes to be found.
  void find_starts(const char* text, std::size_t from, std::size_t to, std::size_t n, std::uint64_t base,
                   std::vector<mask_span>& spans) const;

 private:
  // A state's children are consecutive states. `cls` stays in the node (rather than in an array of its
  // own): finding a child by its class then loads the line the scan reads next for its `hold` and `match`.
  struct node {
    std::uint32_t fail = 0;
    std::uint32_t first_child = 0;
    std::uint32_t hold = 0;   // longest suffix of this state's text that is a proper prefix of a pattern
    std::uint32_t match = 0;  // longest pattern that ends here (0: none)
    std::uint16_t children = 0;
    std::uint8_t cls = 0;  // class of the byte that leads here
  };

  // The Aho–Corasick automaton proper. Built on first use (`trie()`): a masker that only masks whole texts
  // or files of a verifiable pattern set never needs it, and it is most of the cost of building one.
  struct trie_tables {
    std::uint32_t next(std::uint32_t s, std::uint8_t cls) const;

    std::array<std::uint8_t, 256> class_of{};
    std::uint32_t classes = 1;
    table<node> nodes;
    // Rows of `classes` entries for states [0, dense_count). Every entry is written by build_trie, so the
    // table is allocated without being zeroed first.
    table<std::uint32_t> dense;
    std::uint32_t dense_count = 0;
  };

  // The patterns that share a key: sorted patterns [lo, hi). An empty slot has hi == 0.
  struct bucket {
    std::uint64_t key = 0;
    std::uint32_t lo = 0;
    std::uint32_t hi = 0;
  };

  std::string_view pattern(std::size_t k) const {
    return {bytes_.data() + starts_[k], starts_[k + 1] - starts_[k]};
  }
  const trie_tables& trie() const;
  void build_trie() const;
  std::uint64_t key_at(const unsigned char* p) const;
  /// The slot where a key's search starts (linear probing from there).
  std::size_t home_slot(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> (64 - bucket_bits_));
  }
  const bucket* find_bucket(std::uint64_t key) const;
  bool gram_passes(const unsigned char* p) const;
  /// First position in [from, n - q] whose q bytes pass the table (they may begin a pattern), or the start
  /// of the tail of the last q - 1 positions (never before `from`) when there is none.
  std::size_t next_candidate(const unsigned char* t, std::size_t from, std::size_t n) const;

  // The sorted patterns, one after another: pattern k is bytes_[starts_[k], starts_[k + 1]).
  std::string bytes_;
  std::vector<std::uint32_t> starts_;
  std::size_t pattern_count_ = 0;
  std::size_t longest_ = 0;

  mutable std::once_flag trie_once_;
  mutable std::unique_ptr<const trie_tables> trie_;

  std::uint32_t gram_ = 1;  // q: 4, 2 or 1
  // q = 4: `first_` holds every pattern's first 4 bytes. With window w = min(shortest pattern, 8) > 4,
  // `block_` holds the 4-grams at offsets 0..w-4 of every pattern, so one test at position p rules out
  // every start in [p-(w-4), p], and the scan probes one position in w-3.
  bloom4 first_;
  bloom4 block_;
  std::uint32_t window_ = 4;
  std::vector<std::uint64_t> exact_bits_;  // q = 2 or 1: exact table of first bytes

  // The verifier's index: buckets by key, open addressing over a power-of-two table.
  bool verifiable_ = false;
  std::uint32_t key_bytes_ = 4;  // 8 when every pattern has at least 8 bytes
  std::uint32_t bucket_bits_ = 0;
  std::vector<bucket> buckets_;
};

mask_automaton::mask_automaton(const std::vector<std::string_view>& patterns) {
  pattern_count_ = patterns.size();
  if (patterns.size() >= std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("masker: too many patterns");
  }
  // The patterns are kept, one after another.
  std::size_t total = 0;
  for (const auto& p : patterns) total += p.size();
  if (total >= std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("masker: patterns too long");
  bytes_.reserve(total);
  starts_.reserve(patterns.size() + 1);
  std::size_t shortest = patterns.empty() ? 0 : std::numeric_limits<std::size_t>::max();
  for (std::size_t k = 0; k < patterns.size(); ++k) {
    const std::string_view p = patterns[k];
    starts_.push_back(static_cast<std::uint32_t>(bytes_.size()));
    bytes_.append(p);
    longest_ = std::max(longest_, p.size());
    shortest = std::min(shortest, p.size());
  }
  starts_.push_back(static_cast<std::uint32_t>(bytes_.size()));
  if (patterns.empty()) return;

  // The prefilter: q is the largest of 4, 2, 1 that no pattern is shorter than.
  gram_ = shortest >= 4 ? 4 : shortest >= 2 ? 2 : 1;
  if (gram_ == 4) {
    std::size_t distinct = 0;
    for (std::size_t k = 0; k < patterns.size(); ++k) {
      if (k == 0 || patterns[k].substr(0, 4) != patterns[k - 1].substr(0, 4)) ++distinct;
    }
    first_.reset(distinct);
    for (const auto& p : patterns) first_.add(load4(reinterpret_cast<const unsigned char*>(p.data())));
    window_ = static_cast<std::uint32_t>(std::min<std::size_t>(shortest, 8));
    if (window_ > 4) {
      block_.reset(distinct * (window_ - 3));
      for (const auto& p : patterns) {
        for (std::uint32_t k = 0; k + 4 <= window_; ++k) {
          block_.add(load4(reinterpret_cast<const unsigned char*>(p.data()) + k));
        }
      }
    }
  } else {
    exact_bits_.assign(gram_ == 2 ? 65536 / 64 : 256 / 64, 0);
    for (const auto& p : patterns) {
      std::uint32_t key = static_cast<unsigned char>(p[0]);
      if (gram_ == 2) key |= std::uint32_t{static_cast<unsigned char>(p[1])} << 8;
      exact_bits_[key >> 6] |= std::uint64_t{1} << (key & 63);
    }
    return;  // too short for the verifier
  }

  // The verifier's index. Sorted patterns with the same key are consecutive: one bucket per run.
  key_bytes_ = shortest >= 8 ? 8 : 4;
  std::vector<bucket> runs;
  for (std::size_t k = 0; k < patterns.size(); ++k) {
    const std::uint64_t key = key_at(reinterpret_cast<const unsigned char*>(patterns[k].data()));
    if (!runs.empty() && runs.back().key == key) {
      runs.back().hi = static_cast<std::uint32_t>(k + 1);
      if (runs.back().hi - runs.back().lo > max_bucket) return;  // too many alike: the trie will do
    } else {
      runs.push_back({key, static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(k + 1)});
    }
  }
  // At most 2/3 full, so that a lookup probes few slots.
  bucket_bits_ = static_cast<std::uint32_t>(std::bit_width(runs.size() + runs.size() / 2));
  buckets_.assign(std::size_t{1} << bucket_bits_, bucket{});
  const std::size_t slot_mask = buckets_.size() - 1;
  for (const bucket& r : runs) {
    std::size_t i = home_slot(r.key);
    while (buckets_[i].hi != 0) i = (i + 1) & slot_mask;
    buckets_[i] = r;
  }
  verifiable_ = true;
}

std::uint64_t mask_automaton::key_at(const unsigned char* p) const {
  if (key_bytes_ == 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  }
  return load4(p);
}

const mask_automaton::bucket* mask_automaton::find_bucket(std::uint64_t key) const {
  const std::size_t slot_mask = buckets_.size() - 1;
  for (std::size_t i = home_slot(key);; i = (i + 1) & slot_mask) {
    const bucket& b = buckets_[i];
    if (b.hi == 0) return nullptr;
    if (b.key == key) return &b;
  }
}

void mask_automaton::find_starts(const char* text, std::size_t from, std::size_t to, std::size_t n,
                                 std::uint64_t base, std::vector<mask_span>& spans) const {
  const auto* t = reinterpret_cast<const unsigned char*>(text);
  to = std::min(to, n);
  // The prefilter needs look no further than the last start wanted.
  const std::size_t limit = std::min(n, to + 3);
  for (std::size_t p = from; p < to; ++p) {
    p = next_candidate(t, p, limit);
    if (p >= to || p + key_bytes_ > n) return;  // the tail: too short for any pattern
    const bucket* b = find_bucket(key_at(t + p));
    if (b == nullptr) continue;
    std::size_t best = 0;
    for (std::uint32_t k = b->lo; k < b->hi; ++k) {
      const std::string_view pat = pattern(k);
      if (pat.size() > best && p + pat.size() <= n &&
          std::memcmp(t + p + key_bytes_, pat.data() + key_bytes_, pat.size() - key_bytes_) == 0) {
        best = pat.size();
      }
    }
    if (best > 0) add_span(spans, base + p, base + p + best);
  }
}

const mask_automaton::trie_tables& mask_automaton::trie() const {
  std::call_once(trie_once_, [this] { build_trie(); });
  return *trie_;
}

void mask_automaton::build_trie() const {
  auto tr = std::make_unique<trie_tables>();
  auto& nodes = tr->nodes;
  auto& dense = tr->dense;
  nodes.emplace_back();  // the root
  const std::size_t n = pattern_count_;
  if (n == 0) {
    dense.assign(1, 0);
    tr->dense_count = 1;
    trie_ = std::move(tr);
    return;
  }

  // Byte classes: one per byte some pattern uses, class 0 for all the others (they lead to the root).
  std::array<bool, 256> used{};
  for (const char c : bytes_) used[static_cast<unsigned char>(c)] = true;
  const auto used_count = static_cast<std::uint32_t>(std::count(used.begin(), used.end(), true));
  if (used_count == 256) {
    for (std::uint32_t b = 0; b < 256; ++b) tr->class_of[b] = static_cast<std::uint8_t>(b);
    tr->classes = 256;
  } else {
    std::uint32_t next_class = 1;
    for (std::uint32_t b = 0; b < 256; ++b) {
      tr->class_of[b] = used[b] ? static_cast<std::uint8_t>(next_class++) : 0;
    }
    tr->classes = next_class;
  }
  const std::uint32_t classes = tr->classes;

  // The trie, breadth first: node u stands for the patterns [lo, hi) that share its text (depth bytes).
  // Patterns are sorted, so the one equal to that text comes first and the children's ranges are
  // consecutive runs of the byte at `depth`. While the trie is built, `hold` holds the node's depth.
  // The nodes waiting in the queue have disjoint, non-empty ranges, so there are never more of them than
  // patterns, and their ranges fit in a ring of that size (rounded up to a power of two) instead of an
  // array over all states. The node array is reserved at its exact size, so it is never copied.
  struct pattern_range {
    std::uint32_t lo, hi;
  };
  // Each pattern adds its bytes after the prefix it shares with the one before it (fewer states than bytes,
  // so the count fits: the constructor checked the total).
  std::size_t states = 1;
  for (std::size_t k = 0; k < n; ++k) {
    const std::string_view p = pattern(k);
    std::size_t shared = 0;
    if (k > 0) {
      const std::string_view q = pattern(k - 1);  // a proper prefix of p, or different within both
      shared =
          static_cast<std::size_t>(std::mismatch(q.begin(), q.end(), p.begin(), p.end()).first - q.begin());
    }
    states += p.size() - shared;
  }
  nodes.reserve(states);
  const std::size_t ring_mask = std::bit_ceil(n + 1) - 1;
  std::vector<pattern_range> ranges(ring_mask + 1);
  ranges[0] = {0, static_cast<std::uint32_t>(n)};
  for (std::size_t u = 0; u < nodes.size(); ++u) {
    auto [lo, hi] = ranges[u & ring_mask];
    const std::uint32_t d = nodes[u].hold;
    if (lo < hi && pattern(lo).size() == d) {
      nodes[u].match = d;
      ++lo;
    }
    const std::size_t first = nodes.size();
    nodes[u].first_child = static_cast<std::uint32_t>(first);
    while (lo < hi) {
      const char b = bytes_[starts_[lo] + d];
      std::uint32_t end = lo + 1;
      while (end < hi && bytes_[starts_[end] + d] == b) ++end;
      ranges[nodes.size() & ring_mask] = {lo, end};
      nodes.push_back({.hold = d + 1, .cls = tr->class_of[static_cast<unsigned char>(b)]});
      lo = end;
    }
    nodes[u].children = static_cast<std::uint16_t>(nodes.size() - first);
  }
  ranges = {};
  const std::size_t count = nodes.size();

  // Failure links, dense rows, hold and match, in breadth-first order: a state's failure target is
  // shallower, so it is complete before the state is. Each dense row starts as a copy of its failure
  // target's (the root's starts all zero), so every entry is written once.
  tr->dense_count =
      static_cast<std::uint32_t>(std::min(count, std::max<std::size_t>(1, dense_budget_entries / classes)));
  dense.resize(std::size_t{tr->dense_count} * classes);  // not zeroed: every entry is written once
  std::fill_n(dense.begin(), classes, 0);
  for (std::size_t u = 0; u < count; ++u) {
    node& nd = nodes[u];
    const std::uint32_t children_end = nd.first_child + nd.children;
    if (u != 0) {
      if (nd.children == 0) nd.hold = nodes[nd.fail].hold;  // otherwise its depth, as set above
      if (nd.match == 0) nd.match = nodes[nd.fail].match;
    }
    for (std::uint32_t v = nd.first_child; v < children_end; ++v) {
      nodes[v].fail = u == 0 ? 0 : tr->next(nd.fail, nodes[v].cls);
    }
    if (u < tr->dense_count) {
      std::uint32_t* row = &dense[u * classes];
      if (u != 0) std::copy_n(&dense[std::size_t{nd.fail} * classes], classes, row);
      for (std::uint32_t v = nd.first_child; v < children_end; ++v) row[nodes[v].cls] = v;
    }
  }
  trie_ = std::move(tr);
}

std::uint32_t mask_automaton::trie_tables::next(std::uint32_t s, std::uint8_t cls) const {
  for (;;) {
    if (s < dense_count) return dense[std::size_t{s} * classes + cls];
    const node& nd = nodes[s];
    const std::uint32_t end = nd.first_child + nd.children;
    for (std::uint32_t v = nd.first_child; v < end; ++v) {
      if (nodes[v].cls == cls) return v;
    }
    s = nd.fail;
  }
}

bool mask_automaton::gram_passes(const unsigned char* p) const {
  if (gram_ == 4) return first_.test(load4(p));
  const std::uint32_t key = gram_ == 2 ? p[0] | (std::uint32_t{p[1]} << 8) : p[0];
  return (exact_bits_[key >> 6] >> (key & 63)) & 1;
}

std::size_t mask_automaton::next_candidate(const unsigned char* t, std::size_t from, std::size_t n) const {
  const std::size_t tail = n + 1 > gram_ ? n + 1 - gram_ : 0;  // first position without q bytes after it
  std::size_t p = from;                                        // every start before p is ruled out
  if (gram_ == 4 && window_ > 4) {
    // Probe one position per block; a probe that passes is resolved start by start.
    const std::size_t reach = window_ - 4;
    for (std::size_t probe = p + reach; probe + 4 <= n; probe = p + reach) {
      if (block_.test(load4(t + probe))) {
        for (; p <= probe; ++p) {
          if (first_.test(load4(t + p))) return p;
        }
      } else {
        p = probe + 1;
      }
    }
  } else if (gram_ == 4) {
    // Four positions per step from one 8-byte load; the tests are independent, so they pipeline.
    for (; p + 8 <= n; p += 4) {
      std::uint64_t x;
      std::memcpy(&x, t + p, 8);
      if constexpr (std::endian::native == std::endian::little) {
        // Bitwise OR of the four tests (not ||): no branch per position.
        const unsigned any = static_cast<unsigned>(first_.test(static_cast<std::uint32_t>(x))) |
                             static_cast<unsigned>(first_.test(static_cast<std::uint32_t>(x >> 8))) |
                             static_cast<unsigned>(first_.test(static_cast<std::uint32_t>(x >> 16))) |
                             static_cast<unsigned>(first_.test(static_cast<std::uint32_t>(x >> 24)));
        if (any != 0) {
          break;
        }
      } else if (gram_passes(t + p) || gram_passes(t + p + 1) || gram_passes(t + p + 2) ||
                 gram_passes(t + p + 3)) {
        break;
      }
    }
  }
  for (; p < tail; ++p) {
    if (gram_passes(t + p)) return p;
  }
  return std::max(from, tail);
}

void mask_automaton::scan(std::uint32_t& state, const char* text, std::size_t n, std::uint64_t base,
                          std::vector<mask_span>& spans) const {
  if (pattern_count_ == 0) return;
  const trie_tables& tr = trie();
  const auto* t = reinterpret_cast<const unsigned char*>(text);
  std::uint32_t s = state;
  std::size_t i = 0;
  // Exact mode may hand over to the prefilter only once the live prefix starts at or after `resolved`
  // (so the candidate that started exact mode has been decided) and is shorter than q.
  std::size_t resolved = 0;
  for (;;) {
    for (;;) {
      const std::uint32_t h = tr.nodes[s].hold;
      if (h < gram_ && i >= resolved + h) break;
      if (i == n) {
        state = s;
        return;
      }
      s = tr.next(s, tr.class_of[t[i++]]);
      if (const std::uint32_t m = tr.nodes[s].match) add_span(spans, base + i - m, base + i);
    }
    // No occurrence starts before `from`: earlier starts were read by the automaton.
    const std::size_t from = i - tr.nodes[s].hold;
    const std::size_t p = next_candidate(t, from, n);
    // Restart at the root: every position in [from, p) failed the table with all q of its bytes present,
    // so nothing can start there. A tail too short for the table is read to the end.
    s = 0;
    i = p;
    resolved = p + gram_ <= n ? p + 1 : n + 1;
  }
}

}  // namespace detail

namespace {

// --- Encoded forms ------------------------------------------------------------------------------------

constexpr char hex_upper[] = "0123456789ABCDEF";
constexpr char hex_lower[] = "0123456789abcdef";

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  std::size_t at = 0;
  for (std::size_t k; (k = s.find(from, at)) != std::string_view::npos; at = k + from.size()) {
    out.append(s.substr(at, k - at)).append(to);
  }
  out.append(s.substr(at));
  return out;
}

// Appends the padded base64 encoding of `bytes` to `out`.
void append_base64(std::string_view bytes, std::string& out) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
  std::size_t k = 0;
  auto byte = [&bytes](std::size_t at) { return std::uint32_t{static_cast<unsigned char>(bytes[at])}; };
  for (; k + 3 <= bytes.size(); k += 3) {
    const std::uint32_t v = byte(k) << 16 | byte(k + 1) << 8 | byte(k + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out += alphabet[(v >> shift) & 63];
  }
  if (k < bytes.size()) {
    const bool two = k + 1 < bytes.size();
    const std::uint32_t v = byte(k) << 16 | (two ? byte(k + 1) << 8 : 0);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += two ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
}

// `s` in the URL-safe base64 alphabet (- and _ for + and /), into `out`. False when that is `s` itself.
bool base64_url(std::string_view s, std::string& out) {
  if (std::none_of(s.begin(), s.end(), [](char c) { return c == '+' || c == '/'; })) return false;
  out.assign(s);
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return true;
}

// Uri.EscapeDataString and its relatives: every byte but the unreserved ones (ALPHA DIGIT - . _ ~) as %XX.
// `plus`: space as '+' (forms); `marks`: ! * ' ( ) left as they are (JavaScript's encodeURIComponent).
std::string url_encode(std::string_view s, bool lower, bool plus, bool marks) {
  const char* hex = lower ? hex_lower : hex_upper;
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (marks && (c == '!' || c == '*' || c == '\'' || c == '(' || c == ')'))) {
      out += ch;
    } else if (plus && c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// How one JSON serialiser writes a string's contents.
struct json_style {
  bool upper = false;    // \u00XX rather than \u00xx
  bool slash = false;    // / as \/ (PHP)
  bool ascii = false;    // non-ASCII as \uXXXX, astral characters as surrogate pairs
  bool html = false;     // < > & as \u003c \u003e \u0026 (Go, System.Text.Json)
  bool dotnet = false;   // System.Text.Json's default encoder: " ' + ` DEL as \u00XX too
  bool minimal = false;  // only " \ CR LF TAB (Octostache's JsonEscape filter); other controls stay raw
};

std::optional<std::string> json_escape(std::string_view s, json_style style) {
  const char* hex = style.upper ? hex_upper : hex_lower;
  std::string out;
  auto unit = [&out, hex](std::uint32_t u) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(u >> shift) & 15];
  };
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x80) {
      if (!style.ascii) {
        out += *p++;
        continue;
      }
      char32_t cp = 0;
      const int n = detail::decode_utf8(p, end, cp);
      if (cp == 0xFFFD && n == 1) return std::nullopt;  // invalid UTF-8: serialisers differ, skip the form
      if (cp >= 0x10000) {
        unit(0xD800 + ((cp - 0x10000) >> 10));
        unit(0xDC00 + ((cp - 0x10000) & 0x3FF));
      } else {
        unit(cp);
      }
      p += n;
      continue;
    }
    ++p;
    if (style.minimal && c != '"' && c != '\\' && c != '\r' && c != '\n' && c != '\t') {
      out += static_cast<char>(c);
      continue;
    }
    const bool as_unit = c < 0x20 || (c == '"' && style.dotnet) ||
                         (style.html && (c == '<' || c == '>' || c == '&')) ||
                         (style.dotnet && (c == '\'' || c == '+' || c == '`' || c == 0x7F));
    const char* short_form = nullptr;
    switch (c) {
      case '"':
        short_form = style.dotnet ? nullptr : "\\\"";
        break;
      case '\\':
        short_form = "\\\\";
        break;
      case '\b':
        short_form = "\\b";
        break;
      case '\f':
        short_form = "\\f";
        break;
      case '\n':
        short_form = "\\n";
        break;
      case '\r':
        short_form = "\\r";
        break;
      case '\t':
        short_form = "\\t";
        break;
      case '/':
        short_form = style.slash ? "\\/" : nullptr;
        break;
      default:
        break;
    }
    if (short_form != nullptr) {
      out += short_form;
    } else if (as_unit) {
      unit(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// True when some URL encoding of `secret` differs from it: it has a byte outside the unreserved set.
bool url_encoding_differs(std::string_view secret) {
  return std::any_of(secret.begin(), secret.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
             c == '.' || c == '_' || c == '~');
  });
}

// True when some JSON escaping of `secret` (any style in add_forms) may differ from it: it has a control
// character, a non-ASCII byte, DEL, or one of " \ / < > & ' + `.
bool json_escaping_differs(std::string_view secret) {
  return std::any_of(secret.begin(), secret.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c >= 0x7F || c == '"' || c == '\\' || c == '/' || c == '<' || c == '>' || c == '&' ||
           c == '\'' || c == '+' || c == '`';
  });
}

// Scratch space for add_forms, reused from one secret to the next so forms cost no allocation.
struct form_buffers {
  std::string input;    // the secret after `align` zero bytes
  std::string encoded;  // its base64
  std::string url;      // a URL-safe variant
};

// Calls `add(form)` for every pattern that stands for `secret` (already accepted): the value, its
// line-break forms and its encodings. A form may be passed more than once or equal the value; callers
// sort and remove duplicates. The views passed to `add` are only valid during the call.
template <class Add>
void add_forms(std::string_view secret, const mask_options& options, form_buffers& buf, Add&& add) {
  add(secret);

  // Line-break forms: the value with LF breaks, with CRLF breaks, and without breaks (what Octopus
  // matches). Each must pass the length rule itself: "ab\r\nc" without breaks is "abc", too short to mask.
  if (secret.find('\n') != std::string_view::npos) {
    const std::string lf = replace_all(secret, "\r\n", "\n");
    for (const std::string& form : {lf, replace_all(lf, "\n", "\r\n"), replace_all(lf, "\n", "")}) {
      if (masker::accepts(form, options)) add(std::string_view(form));
    }
  }
  if (!options.encodings) return;

  // base64 of the UTF-8 bytes. Inside a longer encoded text the secret starts 0, 1 or 2 bytes into a
  // 3-byte group, and only the characters made entirely of its own bits are stable: those are the
  // fragments. The padded encoding of the value alone is added too, so its end is covered; the URL-safe
  // alphabet only when it differs (the value's encoding has + or /).
  const std::size_t min_encoded = std::max<std::size_t>(6, options.min_length);
  for (std::size_t align = 0; align < 3; ++align) {
    buf.input.assign(align, '\0');
    buf.input.append(secret);
    buf.encoded.clear();
    append_base64(buf.input, buf.encoded);
    const std::size_t from = (8 * align + 5) / 6;
    const std::size_t to = 8 * (align + secret.size()) / 6;
    if (to >= from + min_encoded) {
      const std::string_view fragment = std::string_view(buf.encoded).substr(from, to - from);
      add(fragment);
      if (base64_url(fragment, buf.url)) add(std::string_view(buf.url));
    }
    if (align == 0 && buf.encoded.size() >= min_encoded) {
      add(std::string_view(buf.encoded));
      if (!base64_url(buf.encoded, buf.url)) buf.url = buf.encoded;
      buf.url.erase(buf.url.find_last_not_of('=') + 1);  // JWT style: no padding
      add(std::string_view(buf.url));
    }
  }

  // URL encodings: hex case, '+' for space, JavaScript's unescaped marks. A value of unreserved characters
  // only (letters, digits, - . _ ~) is its own encoding in all of them, so they are skipped.
  if (url_encoding_differs(secret)) {
    for (int variant = 0; variant < 8; ++variant) {
      add(std::string_view(url_encode(secret, variant & 1, variant & 2, variant & 4)));
    }
  }

  // JSON string escaping as common serialisers write it; skipped when no style changes any byte.
  static constexpr json_style json_styles[] = {
      {},                                                            // Newtonsoft, nlohmann, JS
      {.minimal = true},                                             // Octostache's JsonEscape
      {.upper = true},                                               // \u00XX in upper case
      {.ascii = true},                                               // Python json.dumps
      {.slash = true, .ascii = true},                                // PHP json_encode
      {.html = true},                                                // Go encoding/json
      {.upper = true, .ascii = true, .html = true, .dotnet = true},  // System.Text.Json
  };
  if (json_escaping_differs(secret)) {
    for (const auto& style : json_styles) {
      if (auto form = json_escape(secret, style)) add(std::string_view(*form));
    }
  }
}

// Appends stream range [from, to) to `out`. `bytes(a, b)` appends the input bytes [a, b); each run of
// masked bytes becomes one replacement. `in_run` says whether the byte before `from` was masked (and is
// updated), so a run that spans two calls is replaced once.
template <class Bytes>
void emit(std::uint64_t from, std::uint64_t to, const std::vector<detail::mask_span>& spans,
          std::string_view replacement, bool& in_run, std::string& out, Bytes&& bytes) {
  std::uint64_t pos = from;
  for (const auto& span : spans) {  // sorted, disjoint and not touching
    if (span.end <= pos) continue;
    if (span.begin >= to) break;
    if (span.begin > pos) {
      bytes(pos, span.begin);
      in_run = false;
    }
    if (!in_run) out.append(replacement);
    in_run = true;
    pos = std::min(span.end, to);
  }
  if (pos < to) {
    bytes(pos, to);
    in_run = false;
  }
}

const std::shared_ptr<const masker>& empty_masker() {
  static const std::shared_ptr<const masker> empty = masker::make({});
  return empty;
}

}  // namespace

// --- masker ---------------------------------------------------------------------------------------------

struct masker::state {
  mask_options options;
  std::vector<std::string> secrets;
  std::unique_ptr<const detail::mask_automaton> automaton;
};

masker::masker(std::shared_ptr<const state> s) : state_(std::move(s)) {}

masker::masker(const std::vector<std::string>& secrets, mask_options options) {
  auto s = std::make_shared<state>();
  for (const auto& secret : secrets) {
    if (accepts(secret, options)) s->secrets.push_back(secret);
  }
  std::sort(s->secrets.begin(), s->secrets.end());
  s->secrets.erase(std::unique(s->secrets.begin(), s->secrets.end()), s->secrets.end());
  // The forms of each half of the secrets are generated and sorted on a thread of its own when there are
  // many (a masker is built on every `cuttle mask`), then the two sorted lists are merged.
  const auto& all = s->secrets;
  auto collect = [&all, &options](std::size_t from, std::size_t to, detail::pattern_list& list,
                                  std::vector<std::string_view>& sorted) {
    // A value of letters and digits has 6 to 8 distinct forms of about 4/3 of its length: reserve for that.
    std::size_t secret_bytes = 0;
    for (std::size_t k = from; k < to; ++k) secret_bytes += all[k].size();
    list.reserve(8 * (to - from), 10 * secret_bytes);
    form_buffers buf;
    for (std::size_t k = from; k < to; ++k) {
      add_forms(all[k], options, buf, [&list](std::string_view form) { list.add(form); });
    }
    sorted = list.sorted();
  };
  std::array<detail::pattern_list, 2> lists;
  std::array<std::vector<std::string_view>, 2> halves;
  const std::size_t n = all.size();
  std::exception_ptr failed;
  std::thread other;
  if (n >= detail::parallel_forms_min && std::thread::hardware_concurrency() > 1) {
    try {
      other = std::thread([&] {
        try {
          collect(n / 2, n, lists[1], halves[1]);
        } catch (...) {
          failed = std::current_exception();
        }
      });
    } catch (const std::system_error&) {
      // No thread to be had: one thread does it all.
    }
  }
  if (other.joinable()) {
    try {
      collect(0, n / 2, lists[0], halves[0]);
    } catch (...) {
      other.join();
      throw;
    }
    other.join();
    if (failed) std::rethrow_exception(failed);
  } else {
    collect(0, n, lists[0], halves[0]);
  }
  std::vector<std::string_view> patterns;
  if (halves[1].empty()) {
    patterns = std::move(halves[0]);
  } else {
    patterns.reserve(halves[0].size() + halves[1].size());
    std::merge(halves[0].begin(), halves[0].end(), halves[1].begin(), halves[1].end(),
               std::back_inserter(patterns));
    patterns.erase(std::unique(patterns.begin(), patterns.end()), patterns.end());
  }
  s->automaton = std::make_unique<const detail::mask_automaton>(patterns);
  s->options = std::move(options);
  state_ = std::move(s);
}

std::shared_ptr<const masker> masker::make(const std::vector<std::string>& secrets, mask_options options) {
  return std::make_shared<const masker>(secrets, std::move(options));
}

std::shared_ptr<const masker> masker::with(const std::vector<std::string>& more) const {
  const auto& known = state_->secrets;
  bool adds = false;
  for (const auto& secret : more) {
    if (accepts(secret, state_->options) && !std::binary_search(known.begin(), known.end(), secret)) {
      adds = true;
      break;
    }
  }
  if (!adds) return std::shared_ptr<const masker>(new masker(state_));
  std::vector<std::string> all = known;
  all.insert(all.end(), more.begin(), more.end());
  return make(all, state_->options);
}

bool masker::accepts(std::string_view secret, const mask_options& options) {
  std::size_t characters = 0;
  bool blank = true;
  const char* p = secret.data();
  const char* end = p + secret.size();
  while (p < end) {
    char32_t cp = 0;
    p += detail::decode_utf8(p, end, cp);  // an invalid byte counts as one character (U+FFFD)
    blank = blank && detail::is_dotnet_whitespace(cp);
    ++characters;
  }
  return characters > 0 && !blank && characters >= options.min_length;
}

std::vector<std::string> masker::forms(std::string_view secret, const mask_options& options) {
  std::vector<std::string> out;
  if (!accepts(secret, options)) return out;
  form_buffers buf;
  add_forms(secret, options, buf, [&out](std::string_view form) { out.emplace_back(form); });
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

const std::vector<std::string>& masker::secrets() const { return state_->secrets; }
std::size_t masker::pattern_count() const { return state_->automaton->pattern_count(); }
std::size_t masker::longest_pattern() const { return state_->automaton->longest(); }
const mask_options& masker::options() const { return state_->options; }
bool masker::verifiable() const { return state_->automaton->verifiable(); }
const detail::mask_automaton& masker::automaton() const { return *state_->automaton; }

std::string masker::mask(std::string_view text) const {
  std::string out;
  mask(text, out);
  return out;
}

void masker::mask(std::string_view text, std::string& out) const {
  std::vector<detail::mask_span> spans;
  const detail::mask_automaton& automaton = *state_->automaton;
  if (automaton.verifiable()) {
    automaton.find_starts(text.data(), 0, text.size(), text.size(), 0, spans);
  } else {
    std::uint32_t s = 0;
    automaton.scan(s, text.data(), text.size(), 0, spans);
  }
  if (spans.empty()) {
    out.append(text);
    return;
  }
  out.reserve(out.size() + text.size());
  bool in_run = false;
  emit(0, text.size(), spans, state_->options.replacement, in_run, out,
       [&](std::uint64_t a, std::uint64_t b) { out.append(text.substr(a, b - a)); });
}

// Blocks are independent: block [b, e) is scanned from the root, so it finds every occurrence that starts
// in it once the scan goes on past e until no occurrence that started before e can still be in progress
// (at most longest() - 1 bytes; none at all when the state holds nothing). Ranges that start at or after e
// are the next block's. The ranges of consecutive blocks are then sorted by their start, and one pass
// merges the runs that overlap or touch across a block boundary.
bool masker::mask_pieces(std::string_view text, const std::function<bool(std::string_view)>& sink,
                         unsigned threads, std::size_t block_size) const {
  const detail::mask_automaton& a = *state_->automaton;
  const std::string_view replacement = state_->options.replacement;
  const std::size_t n = text.size();
  block_size = std::max<std::size_t>(block_size, 1);
  const std::size_t blocks = n == 0 ? 0 : (n - 1) / block_size + 1;

  auto find = [&](std::size_t k, std::vector<detail::mask_span>& spans) {
    const std::size_t begin = k * block_size;
    const std::size_t end = std::min(n, begin + block_size);
    if (a.verifiable()) {
      a.find_starts(text.data(), begin, end, n, 0, spans);
      return;
    }
    std::uint32_t s = 0;
    a.scan(s, text.data() + begin, end - begin, begin, spans);
    if (end < n && a.hold(s) > 0) {
      a.scan(s, text.data() + end, std::min(n - end, a.longest()), end, spans);
      while (!spans.empty() && spans.back().begin >= end) spans.pop_back();
    }
  };

  // The run being merged, [run_begin, run_end), and the next byte not yet passed to `sink`.
  std::uint64_t pos = 0;
  std::uint64_t run_begin = 0;
  std::uint64_t run_end = 0;
  bool open = false;
  bool ok = true;
  auto clean_to = [&](std::uint64_t to) {
    if (ok && to > pos) ok = sink(text.substr(pos, to - pos));
    pos = to;
  };
  auto close_run = [&] {
    clean_to(run_begin);
    if (ok) ok = sink(replacement);
    pos = run_end;
    open = false;
  };
  // Passes on block k: every byte before the open run (which a later block may still extend) is final.
  auto emit = [&](std::size_t k, const std::vector<detail::mask_span>& spans) {
    for (const auto& span : spans) {
      if (open && span.begin <= run_end) {
        run_end = std::max(run_end, span.end);
        continue;
      }
      if (open) close_run();
      open = true;
      run_begin = span.begin;
      run_end = span.end;
    }
    if (k + 1 == blocks) {
      if (open) close_run();
      clean_to(n);
    } else {
      clean_to(open ? run_begin : std::min<std::uint64_t>(n, (k + 1) * block_size));
    }
    return ok;
  };

  threads = static_cast<unsigned>(std::clamp<std::size_t>(threads, 1, std::max<std::size_t>(blocks, 1)));
  if (threads == 1) {
    std::vector<detail::mask_span> spans;
    for (std::size_t k = 0; k < blocks && ok; ++k) {
      spans.clear();
      find(k, spans);
      emit(k, spans);
    }
    return ok;
  }

  // Blocks are claimed in order by whichever thread is free; the caller passes them on in order, and scans
  // one itself while the block it needs next is not ready. No block is claimed more than `window` blocks
  // ahead of the last one passed on.
  const std::size_t window = 2 * std::size_t{threads};
  std::vector<std::vector<detail::mask_span>> results(blocks);
  std::vector<char> ready(blocks, 0);
  std::mutex mutex;
  std::condition_variable changed;
  std::size_t next = 0;     // next block to claim
  std::size_t emitted = 0;  // blocks passed on
  bool stop = false;
  auto claimable = [&] { return next < blocks && next < emitted + window; };
  auto scan_claimed = [&](std::unique_lock<std::mutex>& lock) {
    const std::size_t k = next++;
    lock.unlock();
    find(k, results[k]);
    lock.lock();
    ready[k] = 1;
    changed.notify_all();
  };
  auto work = [&] {
    std::unique_lock lock(mutex);
    for (;;) {
      changed.wait(lock, [&] { return stop || next >= blocks || claimable(); });
      if (stop || next >= blocks) return;
      scan_claimed(lock);
    }
  };
  std::vector<std::thread> helpers;
  struct joiner {
    std::vector<std::thread>& helpers;
    std::mutex& mutex;
    std::condition_variable& changed;
    bool& stop;
    ~joiner() {
      {
        const std::lock_guard lock(mutex);
        stop = true;
      }
      changed.notify_all();
      for (auto& t : helpers) t.join();
    }
  } join_at_exit{helpers, mutex, changed, stop};
  for (unsigned t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // fewer threads: the caller's scans whatever the others do not
    }
  }
  for (std::size_t k = 0; k < blocks && ok; ++k) {
    {
      std::unique_lock lock(mutex);
      while (ready[k] == 0) {
        if (claimable()) {
          scan_claimed(lock);
        } else {
          changed.wait(lock);
        }
      }
    }
    emit(k, results[k]);
    results[k] = {};
    const std::lock_guard lock(mutex);
    emitted = k + 1;
    changed.notify_all();
  }
  return ok;
}

// --- streams --------------------------------------------------------------------------------------------

namespace {

// Releases stream range [held_begin, limit) of the held text followed by `in` (which starts where the held
// text ends): masked runs as one replacement each, with `in_run` carrying a run across calls. What is
// after `limit` becomes the held text, and `spans` keeps only the ranges that reach into it.
void release_held(std::uint64_t limit, std::string_view in, std::string_view replacement, std::string& held,
                  std::uint64_t& held_begin, bool& in_run, std::vector<detail::mask_span>& spans,
                  std::string& out) {
  const std::uint64_t base = held_begin + held.size();  // stream offset of in[0]
  if (limit <= held_begin) {
    held.append(in);
    return;
  }
  emit(held_begin, limit, spans, replacement, in_run, out, [&](std::uint64_t a, std::uint64_t b) {
    if (a < base) {
      const std::uint64_t e = std::min(b, base);
      out.append(held, a - held_begin, e - a);
      a = e;
    }
    if (a < b) out.append(in.substr(a - base, b - a));
  });
  if (limit >= base) {
    held.assign(in.substr(limit - base));
  } else {
    held.erase(0, limit - held_begin);
    held.append(in);
  }
  held_begin = limit;
  const auto kept =
      std::find_if(spans.begin(), spans.end(), [limit](const auto& s) { return s.end > limit; });
  spans.erase(spans.begin(), kept);
}

}  // namespace

mask_stream::mask_stream(std::shared_ptr<const masker> m) : masker_(m ? std::move(m) : empty_masker()) {}

void mask_stream::update(std::shared_ptr<const masker> m) {
  masker_ = m ? std::move(m) : empty_masker();
  // Read the held text again from the root: it holds every start of a future occurrence, and occurrences
  // of new patterns may lie wholly inside it. Ranges already masked stay masked.
  state_ = 0;
  std::vector<detail::mask_span> found;
  masker_->automaton().scan(state_, held_.data(), held_.size(), held_begin_, found);
  if (found.empty()) return;
  found.insert(found.end(), spans_.begin(), spans_.end());
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.end < b.end; });
  spans_.clear();
  for (const auto& span : found) detail::add_span(spans_, span.begin, span.end);
}

void mask_stream::write(std::string_view in, std::string& out) {
  const auto& automaton = masker_->automaton();
  const std::uint64_t base = held_begin_ + held_.size();
  automaton.scan(state_, in.data(), in.size(), base, spans_);
  release(base + in.size() - automaton.hold(state_), in, out);
}

void mask_stream::finish(std::string& out) {
  release(held_begin_ + held_.size(), {}, out);
  state_ = 0;
  in_run_ = false;
  spans_.clear();
}

void mask_stream::release(std::uint64_t limit, std::string_view in, std::string& out) {
  release_held(limit, in, masker_->options().replacement, held_, held_begin_, in_run_, spans_, out);
}

// --- mask_bulk_stream -----------------------------------------------------------------------------------

mask_bulk_stream::mask_bulk_stream(std::shared_ptr<const masker> m)
    : masker_(m ? std::move(m) : empty_masker()) {
  // Each write copies the held text (up to the longest pattern) once more: with very long secrets (a key
  // file, JSON-escaped) that would cost more than the automaton, which holds only what may start a secret.
  if (!masker_->verifiable() || masker_->longest_pattern() > detail::bulk_hold_max) stream_.emplace(masker_);
}

void mask_bulk_stream::write(std::string_view in, std::string& out) {
  if (stream_) {
    stream_->write(in, out);
    return;
  }
  // Every start before `limit` is searched now: an occurrence there is at most longest() bytes long, so it
  // lies within the text written so far. The rest is held.
  const auto& automaton = masker_->automaton();
  const std::uint64_t hold = std::max<std::size_t>(automaton.longest(), 1) - 1;
  const std::uint64_t base = held_begin_ + held_.size();  // stream offset of in[0]
  const std::uint64_t end = base + in.size();
  const std::uint64_t limit = std::max(held_begin_, end > hold ? end - hold : 0);
  if (limit > held_begin_ && !held_.empty()) {
    scratch_.assign(held_);
    scratch_.append(in.substr(0, std::min<std::size_t>(in.size(), hold)));
    automaton.find_starts(scratch_.data(), 0, std::min(base, limit) - held_begin_, scratch_.size(),
                          held_begin_, spans_);
  }
  if (limit > base) automaton.find_starts(in.data(), 0, limit - base, in.size(), base, spans_);
  release_held(limit, in, masker_->options().replacement, held_, held_begin_, in_run_, spans_, out);
}

void mask_bulk_stream::finish(std::string& out) {
  if (stream_) {
    stream_->finish(out);
    return;
  }
  masker_->automaton().find_starts(held_.data(), 0, held_.size(), held_.size(), held_begin_, spans_);
  release_held(held_begin_ + held_.size(), {}, masker_->options().replacement, held_, held_begin_, in_run_,
               spans_, out);
  in_run_ = false;
  spans_.clear();
}

}  // namespace cuttle::engine
