// `cuttle mask`: stdin through the masker to stdout. A regular file is read in chunks and masked on one
// thread while another writes (engine::mask_bulk_stream: it holds back a pattern's length at the end of
// each chunk, which lets the masker skip building its automaton); anything else (a pipe, a terminal) goes
// through one engine::mask_stream and is released as it arrives.
// Tested by tests/runner/run_messages_test.cpp (run_mask_command)

#include "cuttle/runner/mask_filter.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "cuttle/engine/masker.hpp"
#include "cuttle/runner/files.hpp"

namespace cuttle::runner {
namespace {

void report(const std::string& message) { write_all(STDERR_FILENO, "cuttle: " + message + "\n"); }

/// Reads what is there of `in_fd` into `buf` (up to its size): the byte count, 0 at the end, or nothing after
/// reporting an error.
std::optional<std::size_t> read_input(int in_fd, std::string& buf) {
  ssize_t n;
  do {
    n = ::read(in_fd, buf.data(), buf.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    report(std::string("error: cannot read the input: ") + std::strerror(errno));
    return std::nullopt;
  }
  return static_cast<std::size_t>(n);
}

/// A regular file on `in_fd` is masked on two threads: the caller reads it in 64 KiB chunks and writes the
/// results, as `cat` would; another thread masks each chunk with a mask_bulk_stream (no automaton to build
/// when the secrets are verifiable, and latency does not matter for a file). Chunks go round a ring of a
/// few reused buffers, which stay in the cores' caches: reading the whole file into fresh memory first
/// cost more in page faults than `cat` takes for the whole job. Returns 0, or 2 after a message (read or
/// write error; a closed pipe is not an error).
class file_pipeline {
 public:
  file_pipeline(int in_fd, int out_fd, std::shared_ptr<const engine::masker> m)
      : in_fd_(in_fd), out_fd_(out_fd), stream_(std::move(m)) {
    for (slot& s : slots_) s.in.resize(chunk);
  }

  int run() {
    std::jthread worker;
    try {
      worker = std::jthread([this] { mask_chunks(); });
    } catch (const std::system_error&) {
      return run_alone();
    }
    const int code = read_and_write();
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    return code;
  }

 private:
  static constexpr std::size_t chunk = std::size_t{64} << 10;
  static constexpr std::size_t slot_count = 4;

  enum class stage { free, read, masked };
  struct slot {
    std::string in;
    std::size_t size = 0;  // bytes read into `in`; 0 at the end of the input
    std::string text;      // the masked output
    stage at = stage::free;
  };

  /// Reads into `s`; false after reporting an error.
  bool read_into(slot& s) {
    const auto n = read_input(in_fd_, s.in);
    if (n) s.size = *n;
    return n.has_value();
  }

  void mask(slot& s) {
    s.text.clear();
    if (s.size > 0) {
      stream_.write(std::string_view(s.in.data(), s.size), s.text);
    } else {
      stream_.finish(s.text);
    }
  }

  // The caller's part: writes masked chunks in order as soon as they are ready, and reads ahead into free
  // slots while there is nothing to write.
  int read_and_write() {
    std::size_t next_read = 0;
    std::size_t next_write = 0;
    bool at_end = false;
    std::unique_lock lock(mutex_);
    for (;;) {
      slot& w = slots_[next_write % slot_count];
      slot& r = slots_[next_read % slot_count];
      if (w.at == stage::masked) {
        lock.unlock();
        if (!write_all(out_fd_, w.text)) return errno == EPIPE ? 0 : 2;
        const bool last = w.size == 0;
        lock.lock();
        w.at = stage::free;
        ++next_write;
        if (last) return 0;
      } else if (!at_end && r.at == stage::free) {
        lock.unlock();
        if (!read_into(r)) return 2;
        at_end = r.size == 0;
        lock.lock();
        r.at = stage::read;
        ++next_read;
        changed_.notify_all();
      } else {
        changed_.wait(lock);
      }
    }
  }

  // The other thread's part: masks the chunks in order.
  void mask_chunks() {
    for (std::size_t k = 0;; ++k) {
      slot& s = slots_[k % slot_count];
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stopping_ || s.at == stage::read; });
        if (stopping_) return;
      }
      mask(s);
      const bool last = s.size == 0;  // read before the slot is handed back: it may be refilled at once
      {
        const std::lock_guard lock(mutex_);
        s.at = stage::masked;
      }
      changed_.notify_all();
      if (last) return;
    }
  }

  int run_alone() {  // no second thread to be had
    slot& s = slots_[0];
    for (;;) {
      if (!read_into(s)) return 2;
      mask(s);
      if (!write_all(out_fd_, s.text)) return errno == EPIPE ? 0 : 2;
      if (s.size == 0) return 0;
    }
  }

  int in_fd_;
  int out_fd_;
  engine::mask_bulk_stream stream_;
  std::array<slot, slot_count> slots_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
};

bool is_regular_file(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

int mask_filter(const std::vector<variable_source>& sources, const std::vector<std::string>& masks, int in_fd,
                int out_fd) {
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

  // A file is masked as fast as it can be read; what is appended while it is read is masked too.
  if (is_regular_file(in_fd)) return file_pipeline(in_fd, out_fd, masker).run();

  // A pipe or a terminal: text is released as soon as it cannot be part of a secret.
  engine::mask_stream stream(masker);
  std::string in(std::size_t{256} << 10U, '\0');
  std::string out;
  out.reserve(in.size() * 2);
  while (true) {
    const auto n = read_input(in_fd, in);
    if (!n) return 2;
    if (*n == 0) break;
    out.clear();
    stream.write(std::string_view(in.data(), *n), out);
    if (!write_all(out_fd, out)) return errno == EPIPE ? 0 : 2;
  }
  out.clear();
  stream.finish(out);
  if (!write_all(out_fd, out)) return 2;
  return 0;
}

}  // namespace cuttle::runner
