// `cuttle mask`: stdin through the masker to stdout. A regular file is mapped (while the masker is built)
// and masked in blocks on two threads, with clean text written straight from the mapping; anything else (a
// pipe, a terminal) goes through one engine::mask_stream and is released as it arrives.
// Tested by tests/runner/run_messages_test.cpp (run_mask_command)

#include "cuttle/runner/mask_filter.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "cuttle/engine/masker.hpp"
#include "cuttle/runner/files.hpp"

namespace cuttle::runner {
namespace {

void report(const std::string& message) { write_all(STDERR_FILENO, "cuttle: " + message + "\n"); }

/// Gathers pieces and writes them with writev once enough have come (pieces stay valid until then).
class gather_writer {
 public:
  explicit gather_writer(int fd) : fd_(fd) {}
  bool add(std::string_view piece) {
    if (piece.empty()) return true;
    if (count_ == max_pieces) {
      if (!flush()) return false;
    }
    iov_[count_++] = {const_cast<char*>(piece.data()), piece.size()};
    bytes_ += piece.size();
    return bytes_ < flush_bytes || flush();
  }
  bool flush() {
    std::size_t first = 0;
    while (first < count_) {
      const ssize_t n = ::writev(fd_, iov_ + first, static_cast<int>(count_ - first));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      auto left = static_cast<std::size_t>(n);
      while (first < count_ && left >= iov_[first].iov_len) left -= iov_[first++].iov_len;
      if (left > 0) {
        iov_[first].iov_base = static_cast<char*>(iov_[first].iov_base) + left;
        iov_[first].iov_len -= left;
      }
    }
    count_ = 0;
    bytes_ = 0;
    return true;
  }

 private:
  static constexpr std::size_t max_pieces = 64;
  static constexpr std::size_t flush_bytes = std::size_t{1} << 18;
  int fd_;
  iovec iov_[max_pieces]{};
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
};

/// The rest of `fd` mapped into memory, when it is a non-empty regular file.
class mapped_input {
 public:
  static constexpr std::size_t populate_limit = std::size_t{64} << 20;

  static std::optional<mapped_input> open(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    const off_t at = ::lseek(fd, 0, SEEK_CUR);
    if (at < 0 || at >= st.st_size) return std::nullopt;
    const auto page = static_cast<off_t>(::sysconf(_SC_PAGESIZE));
    const off_t from = at / page * page;  // mmap's offset must be page aligned
    const auto length = static_cast<std::size_t>(st.st_size - from);
    // Reading the pages in with the mapping (MAP_POPULATE) is cheaper than a fault for every 64 KiB, but
    // a large file is left to fault in as the scan reaches it, so memory and the first output do not wait
    // for all of it.
    const int populate = length <= populate_limit ? MAP_POPULATE : 0;
    void* p = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE | populate, fd, from);
    if (p == MAP_FAILED) return std::nullopt;
    if (populate == 0) ::madvise(p, length, MADV_SEQUENTIAL);
    mapped_input m;
    m.base_ = p;
    m.length_ = length;
    m.skip_ = static_cast<std::size_t>(at - from);
    m.end_ = st.st_size;
    return m;
  }
  mapped_input(mapped_input&& o) noexcept
      : base_(std::exchange(o.base_, nullptr)), length_(o.length_), skip_(o.skip_), end_(o.end_) {}
  mapped_input& operator=(mapped_input&& o) noexcept {
    std::swap(base_, o.base_);
    std::swap(length_, o.length_);
    skip_ = o.skip_;
    end_ = o.end_;
    return *this;
  }
  mapped_input(const mapped_input&) = delete;
  mapped_input& operator=(const mapped_input&) = delete;
  ~mapped_input() {
    if (base_ != nullptr) ::munmap(base_, length_);
  }
  std::string_view text() const { return {static_cast<const char*>(base_) + skip_, length_ - skip_}; }
  /// File offset just after the mapped text.
  off_t end() const { return end_; }

 private:
  mapped_input() = default;
  void* base_ = nullptr;
  std::size_t length_ = 0;
  std::size_t skip_ = 0;
  off_t end_ = 0;
};

}  // namespace

int mask_filter(const std::vector<variable_source>& sources, const std::vector<std::string>& masks, int in_fd,
                int out_fd) {
  // A regular file is all there: it is mapped and read in (on another thread, while the masker is built),
  // masked in blocks on both cores, and clean text is written from the mapping. The file is masked as it
  // was when it was mapped: what is appended later is not read.
  std::optional<mapped_input> mapped;
  std::jthread mapper;
  try {
    mapper = std::jthread([&mapped, in_fd] { mapped = mapped_input::open(in_fd); });
  } catch (const std::system_error&) {
    mapped = mapped_input::open(in_fd);  // no thread to be had: map it here
  }

  engine::variables vars;
  std::vector<std::string> errors;
  if (!load_variable_sources(sources, vars, errors)) {
    const auto secrets = vars.sensitive_values();
    for (const auto& e : errors) report(mask_secrets(e, secrets));
    return 2;
  }
  std::vector<std::string> secrets;
  for (const auto& v : vars.entries()) {
    if (v.value && !v.value->empty()) secrets.push_back(*v.value);
  }
  secrets.insert(secrets.end(), masks.begin(), masks.end());
  const auto masker = std::make_shared<const engine::masker>(secrets);
  if (mapper.joinable()) mapper.join();

  if (mapped) {
    gather_writer out(out_fd);
    const unsigned threads = std::max(1U, std::min(2U, std::thread::hardware_concurrency()));
    if (!masker->mask_pieces(
            mapped->text(), [&out](std::string_view piece) { return out.add(piece); }, threads) ||
        !out.flush()) {
      return errno == EPIPE ? 0 : 2;
    }
    ::lseek(in_fd, mapped->end(), SEEK_SET);  // as if it had been read
    return 0;
  }

  engine::mask_stream stream(masker);
  std::string in(std::size_t{256} << 10U, '\0');
  std::string out;
  out.reserve(in.size() * 2);
  while (true) {
    const ssize_t n = ::read(in_fd, in.data(), in.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      report(std::string("error: cannot read the input: ") + std::strerror(errno));
      return 2;
    }
    if (n == 0) break;
    out.clear();
    stream.write(std::string_view(in.data(), static_cast<std::size_t>(n)), out);
    if (!write_all(out_fd, out)) return errno == EPIPE ? 0 : 2;
  }
  out.clear();
  stream.finish(out);
  if (!write_all(out_fd, out)) return 2;
  return 0;
}

}  // namespace cuttle::runner
