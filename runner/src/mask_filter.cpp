// `cuttle mask`: stdin through the masker to stdout. A regular file of up to 64 MiB is read in (while the
// masker is built) and masked in blocks on two threads, with clean text written straight from that copy;
// anything else (a pipe, a terminal, a larger file) goes through one engine::mask_stream and is released
// as it arrives.
// Tested by tests/runner/run_messages_test.cpp (run_mask_command)

#include "cuttle/runner/mask_filter.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "cuttle/engine/masker.hpp"
#include "cuttle/engine/memory.hpp"
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

/// The rest of a regular file read into private memory, when it is not empty and at most `limit` bytes;
/// nullopt otherwise (a pipe, a terminal, a larger file: those stream). Read, not mapped: a mapping would
/// kill the process with SIGBUS if the file were truncated meanwhile (logrotate's copytruncate), and bytes
/// rewritten in place between the scan and the write would reach the output unscanned. Reading 10 MB takes
/// a few milliseconds, on another thread while the masker is built.
class loaded_input {
 public:
  static constexpr std::size_t limit = std::size_t{64} << 20;

  static std::optional<loaded_input> open(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    const off_t at = ::lseek(fd, 0, SEEK_CUR);
    if (at < 0 || at >= st.st_size || static_cast<std::size_t>(st.st_size - at) > limit) return std::nullopt;
    loaded_input in;
    in.size_ = static_cast<std::size_t>(st.st_size - at);
    in.data_ = std::make_unique_for_overwrite<char[]>(in.size_);
    // Transparent huge pages for the copy: 4 KiB pages would cost a fault each (2,700 for 10.8 MB, more
    // system time than the whole of `cat`). Advice for the whole huge pages inside it; failure is harmless.
    engine::advise_huge_pages(in.data_.get(), in.size_);
    std::size_t got = 0;
    while (got < in.size_) {
      const ssize_t n = ::read(fd, in.data_.get() + got, in.size_ - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        // Nothing consumed that the streaming path could not read again.
        if (::lseek(fd, at, SEEK_SET) < 0) break;
        return std::nullopt;
      }
      if (n == 0) break;  // the file shrank: mask what there is
      got += static_cast<std::size_t>(n);
    }
    in.size_ = got;
    return in;
  }
  std::string_view text() const { return {data_.get(), size_}; }

 private:
  loaded_input() = default;
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
};

}  // namespace

int mask_filter(const std::vector<variable_source>& sources, const std::vector<std::string>& masks, int in_fd,
                int out_fd) {
  // A regular file of up to 64 MiB is all there: it is read in (on another thread, while the masker is
  // built), masked in blocks on both cores, and clean text is written from that copy. It is masked as it
  // was when it was read: what is appended later is not read.
  std::optional<loaded_input> loaded;
  std::jthread reader;
  try {
    reader = std::jthread([&loaded, in_fd] { loaded = loaded_input::open(in_fd); });
  } catch (const std::system_error&) {
    loaded = loaded_input::open(in_fd);  // no thread to be had: read it here
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
  if (reader.joinable()) reader.join();

  if (loaded) {
    gather_writer out(out_fd);
    const unsigned threads = std::max(1U, std::min(2U, std::thread::hardware_concurrency()));
    if (!masker->mask_pieces(
            loaded->text(), [&out](std::string_view piece) { return out.add(piece); }, threads) ||
        !out.flush()) {
      return errno == EPIPE ? 0 : 2;
    }
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
