// Whole-file reads and atomic writes (temporary file + fsync + rename) for the CLI.
// Tested by tests/runner/cli_test.cpp

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "cuttle/runner/files.hpp"

namespace cuttle::runner {

std::optional<std::string> read_file(const std::string& path, std::string& out) {
  const bool is_stdin = path == "-";
  const int fd = is_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fmt::format("{}: cannot open: {}", path, std::strerror(errno));
  out.clear();
  // Read straight into `out`, sized up front for regular files so there are no growth copies.
  struct stat st {};
  const std::size_t expected =
      ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? static_cast<std::size_t>(st.st_size) : std::size_t{0};
  std::size_t got = 0;
  while (true) {
    if (got == out.size()) out.resize(std::max(expected + 1, got + got / 2 + (std::size_t{1} << 16)));
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      if (!is_stdin) ::close(fd);
      out.clear();
      return fmt::format("{}: cannot read: {}", is_stdin ? "<stdin>" : path, std::strerror(err));
    }
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  if (!is_stdin) ::close(fd);
  return std::nullopt;
}

file_contents::~file_contents() {
  if (map_ != nullptr) ::munmap(map_, size_);
}

std::optional<std::string> file_contents::open(const std::string& path) {
  if (path != "-") {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fmt::format("{}: cannot open: {}", path, std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* m =
          ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (m != MAP_FAILED) {
        ::close(fd);
        map_ = static_cast<char*>(m);
        size_ = static_cast<std::size_t>(st.st_size);
        return std::nullopt;
      }
    }
    ::close(fd);
  }
  return read_file(path, data_);
}

namespace {

/// The temporary-file-and-rename write behind both public functions. `forced_mode` replaces the usual rule
/// (keep the mode of a file being replaced; new files get 0666 minus the umask).
std::optional<std::string> write_atomically(const std::string& path, std::string_view content, bool durable,
                                            std::optional<mode_t> forced_mode) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string tmp = dir + "/." + base + ".cuttle-XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // created with mode 0600
  if (fd < 0)
    return fmt::format("{}: cannot create a temporary file in '{}': {}", path, dir, std::strerror(errno));
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return fmt::format("{}: cannot {}: {}", path, what, std::strerror(err));
  };
  if (!write_all(fd, content)) return fail("write");
  mode_t mode = 0666;
  struct stat st {};
  if (forced_mode) {
    mode = *forced_mode;
  } else if (::stat(path.c_str(), &st) == 0) {
    mode = st.st_mode & 07777;
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  if (::fchmod(fd, mode) != 0) return fail("set permissions");
  if (durable && ::fsync(fd) != 0) return fail("flush");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fmt::format("{}: cannot close: {}", path, std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return fmt::format("{}: cannot replace: {}", path, std::strerror(err));
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> write_file_atomically(const std::string& path, std::string_view content,
                                                 bool durable) {
  return write_atomically(path, content, durable, std::nullopt);
}

std::optional<std::string> write_private_file_atomically(const std::string& path, std::string_view content) {
  return write_atomically(path, content, true, mode_t{0600});
}

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::optional<std::string> write_new_private_file(const std::string& path, std::string_view content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return "cannot create '" + path + "': " + std::strerror(errno);
  const bool written = write_all(fd, content);
  const int err = errno;
  ::close(fd);
  if (!written) return "cannot write '" + path + "': " + std::strerror(err);
  return std::nullopt;
}

private_dir::~private_dir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::optional<std::string> private_dir::create(std::string_view prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  if (pattern.back() != '/') pattern += '/';
  pattern += prefix;
  pattern += "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    return "cannot create a private directory in '" + pattern.substr(0, pattern.rfind('/')) +
           "': " + std::strerror(errno);
  path_ = pattern;
  return std::nullopt;
}

}  // namespace cuttle::runner
