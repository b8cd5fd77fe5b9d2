// Test support: starts a launch plan's interpreter with a variables channel and captures its output.
// It does what `cuttle run` does, in miniature: a private 0700 directory for the plan's files, a sealed
// memfd holding the payload, inherited by the child as descriptor `channel_fd` (CUTTLE_VARIABLES_FD), and a
// timeout after which the child's process group is killed.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <rapidcheck.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/bootstrappers/bootstrap.hpp"

extern char** environ;

namespace cuttle::test {

/// What a script run left behind.
struct script_result {
  int exit_code = -1;  ///< the exit status, or 128 + signal number when killed by a signal
  bool timed_out = false;
  std::string out;
  std::string err;
};

/// How to run a plan.
struct script_options {
  std::chrono::milliseconds timeout{20000};
  std::string cwd;                 ///< working directory of the child (empty: inherit)
  int channel_fd = 3;              ///< the descriptor number the child gets the channel on
  bool with_channel = true;        ///< false: no memfd and no CUTTLE_VARIABLES_FD
  std::vector<std::string> env;    ///< extra NAME=VALUE entries (override inherited ones)
  std::vector<std::string> unset;  ///< inherited names to drop
};

/// Options for interpreters that compile on every start (.NET, pwsh): a generous timeout, since a loaded
/// 2-core machine compiles slowly.
inline script_options slow_options() {
  script_options options;
  options.timeout = std::chrono::milliseconds(120000);
  return options;
}

/// True when `name` is an executable file in a PATH directory.
inline bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "";
  while (true) {
    const auto colon = rest.find(':');
    const auto dir = rest.substr(0, colon);
    const std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) return false;
    rest.remove_prefix(colon + 1);
  }
}

/// Standard base64 (padded), to build the expected service messages.
inline std::string base64(std::string_view bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], alphabet[v & 63]};
  }
  if (bytes.size() - i == 2) {
    const unsigned v =
        (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += {alphabet[v >> 18], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], '='};
  } else if (bytes.size() - i == 1) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += {alphabet[v >> 18], alphabet[(v >> 12) & 63], '=', '='};
  }
  return out;
}

/// The inverse of base64() (the input is trusted to be valid).
inline std::string unbase64(std::string_view text) {
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (const char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '+') v = 62;
    if (c == '/') v = 63;
    if (v < 0) continue;
    acc = ((acc << 6) | static_cast<unsigned>(v)) & 0xFFFFFF;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

/// Every `##octopus[...]` message in `out`, in order.
inline std::vector<std::string> service_messages(const std::string& out) {
  std::vector<std::string> found;
  for (auto at = out.find("##octopus["); at != std::string::npos; at = out.find("##octopus[", at + 1)) {
    found.push_back(out.substr(at, out.find(']', at) - at + 1));
  }
  return found;
}

/// The decoded attribute `attr` of a service message, or "<missing>".
inline std::string message_attribute(const std::string& message, const std::string& attr) {
  const auto at = message.find(" " + attr + "='");
  if (at == std::string::npos) return "<missing>";
  const auto start = at + attr.size() + 3;
  return unbase64(message.substr(start, message.find('\'', start) - start));
}

/// A generator of names and values from the character classes that break naive quoting: quotes, `$`,
/// backticks, `%`, backslashes, newlines, CRLF, tabs, emoji, right-to-left marks, ANSI escapes, padding
/// spaces, combining marks and the empty string, plus the language-specific `extra` pieces.
inline std::string awkward_text(const std::vector<std::string>& extra) {
  static const std::vector<std::string> common = {
      "'",      "\"",       "$",    "`",       "%", "\\", "\n", "\r\n",      "\t",    "😀",
      "\u200F", "\x1b[31m", " ",    "  ",      "a", "Z",  "9",  "$(echo x)", "*",     "[",
      "]",      "=",        "漢字", "e\u0301", "{", "#",  "@",  ".",         "\u202E"};
  const std::size_t choices = common.size() + extra.size();
  const auto indexes = *rc::gen::container<std::vector<std::size_t>>(
      *rc::gen::inRange<std::size_t>(0, 8), rc::gen::inRange<std::size_t>(0, choices));
  std::string out;
  for (const auto i : indexes) out += i < common.size() ? common[i] : extra[i - common.size()];
  return out;
}

namespace detail {

inline void write_file(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string replace_all(std::string text, std::string_view placeholder, const std::string& with) {
  for (auto at = text.find(placeholder); at != std::string::npos;
       at = text.find(placeholder, at + with.size()))
    text.replace(at, placeholder.size(), with);
  return text;
}

/// A sealed memfd holding `content`, rewound, at a descriptor >= 100 (clear of the child's dup2 targets).
inline int sealed_memfd(const char* name, std::string_view content) {
  const int raw = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (raw < 0) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
  const int fd = ::fcntl(raw, F_DUPFD_CLOEXEC, 100);
  ::close(raw);
  std::string_view rest = content;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n <= 0) throw std::runtime_error(std::string("write memfd: ") + std::strerror(errno));
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0 ||
      ::lseek(fd, 0, SEEK_SET) != 0)
    throw std::runtime_error(std::string("seal memfd: ") + std::strerror(errno));
  return fd;
}

}  // namespace detail

/// The directory "{libexec}" stands for in a launch plan, as the runner resolves it: $CUTTLE_LIBEXEC_DIR,
/// else the build tree's lib/cuttle (CUTTLE_TEST_LIBEXEC_DIR, defined by tests/CMakeLists.txt).
inline std::string libexec_dir() {
  if (const char* env = std::getenv("CUTTLE_LIBEXEC_DIR"); env != nullptr && *env != '\0') return env;
#ifdef CUTTLE_TEST_LIBEXEC_DIR
  return CUTTLE_TEST_LIBEXEC_DIR;
#else
  return "/usr/local/lib/cuttle";
#endif
}

namespace detail {

inline std::string replace_libexec(std::string text) {
  static constexpr std::string_view placeholder = "{libexec}";
  const std::string dir = libexec_dir();
  for (auto at = text.find(placeholder); at != std::string::npos;
       at = text.find(placeholder, at + dir.size()))
    text.replace(at, placeholder.size(), dir);
  return text;
}

}  // namespace detail

/// Runs `plan` with `payload` on the channel, as `cuttle run` does; the plan's directory is removed after.
inline script_result run_plan(const bootstrappers::launch_plan& plan, std::string_view payload,
                              const script_options& options = {}) {
  std::string dir = (std::filesystem::temp_directory_path() / "cuttle-plan-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr)
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  struct remover {
    std::string path;
    ~remover() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } cleanup{dir};
  // Inherited files become memfds, handed over as descriptors 4, 5, ... (first_inherited_fd).
  std::vector<int> inherited;
  struct closer {
    std::vector<int>& fds;
    ~closer() {
      for (const int fd : fds) ::close(fd);
    }
  } close_inherited{inherited};
  std::vector<std::pair<std::string, std::string>> placeholders;
  for (const auto& f : plan.files) {
    if (!f.inherited) {
      detail::write_file(dir + "/" + f.name, f.content);
      continue;
    }
    inherited.push_back(detail::sealed_memfd(f.name.c_str(), f.content));
    placeholders.emplace_back(bootstrappers::inherited_placeholder(f.name),
                              "/dev/fd/" + std::to_string(bootstrappers::first_inherited_fd +
                                                          static_cast<int>(inherited.size()) - 1));
  }
  std::vector<std::string> argv;
  for (std::size_t k = 0; k < plan.argv.size(); ++k) {
    std::string a = plan.argv[k];
    if (k < plan.verbatim_from) {
      a = detail::replace_libexec(std::move(a));
      for (const auto& [placeholder, path] : placeholders)
        a = detail::replace_all(std::move(a), placeholder, path);
      a = detail::replace_all(std::move(a), "{dir}", dir);
    }
    argv.push_back(std::move(a));
  }

  // The channel: written, sealed against any change, rewound; kept above the low descriptors so the
  // child's dup2 calls never overwrite it.
  int memfd = -1;
  if (options.with_channel) memfd = detail::sealed_memfd("cuttle-variables", payload);

  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto name = entry.substr(0, entry.find('='));
    bool drop = name == bootstrappers::channel_fd_variable;
    for (const auto& u : options.unset) drop = drop || name == u;
    for (const auto& x : options.env) drop = drop || name == std::string_view(x).substr(0, x.find('='));
    if (!drop) env.emplace_back(entry);
  }
  for (const auto& x : options.env) env.push_back(x);
  if (options.with_channel)
    env.push_back(std::string(bootstrappers::channel_fd_variable) + "=" + std::to_string(options.channel_fd));
  std::vector<char*> argp;
  for (auto& a : argv) argp.push_back(a.data());
  argp.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    ::setpgid(0, 0);
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    if (memfd >= 0) ::dup2(memfd, options.channel_fd);  // the copy is not close-on-exec: it is inherited
    for (std::size_t k = 0; k < inherited.size(); ++k)
      ::dup2(inherited[k], bootstrappers::first_inherited_fd + static_cast<int>(k));
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
    ::execvpe(argp[0], argp.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (memfd >= 0) ::close(memfd);

  script_result result;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  int fds[2] = {out_pipe[0], err_pipe[0]};
  char buffer[65536];
  while (fds[0] >= 0 || fds[1] >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
            .count();
    if (left <= 0) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      break;
    }
    std::vector<pollfd> polled;
    for (const int fd : fds)
      if (fd >= 0) polled.push_back({fd, POLLIN, 0});
    if (::poll(polled.data(), polled.size(), static_cast<int>(left)) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (const auto& p : polled) {
      if (p.revents == 0) continue;
      const ssize_t n = ::read(p.fd, buffer, sizeof buffer);
      const int which = p.fd == fds[0] ? 0 : 1;
      if (n > 0) {
        (which == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(p.fd);
        fds[which] = -1;
      }
    }
  }
  for (const int fd : fds)
    if (fd >= 0) ::close(fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

/// Writes `source` as `name` in a fresh directory and runs it in language `l` with `vars` and `args`.
/// The script's directory is the working directory unless options.cwd says otherwise.
inline script_result run_source(bootstrappers::language l, std::string_view source,
                                const engine::variables& vars, const std::vector<std::string>& args = {},
                                script_options options = {}, const std::string& name = "") {
  std::string dir = (std::filesystem::temp_directory_path() / "cuttle-script-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr)
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  struct remover {
    std::string path;
    ~remover() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } cleanup{dir};
  static constexpr const char* default_names[] = {"script.sh", "script.py", "script.csx", "script.fsx",
                                                  "script.ps1"};
  const std::string file = dir + "/" + (name.empty() ? default_names[static_cast<int>(l)] : name);
  detail::write_file(file, source);
  if (options.cwd.empty()) options.cwd = dir;
  const auto payload = bootstrappers::encode_variables(vars);
  if (!payload.error.empty()) throw std::runtime_error(payload.error);
  return run_plan(bootstrappers::plan_launch(l, file, args, vars), payload.data, options);
}

/// The two bad channels every preamble refuses with exit 2 before the script runs: CUTTLE_VARIABLES_FD
/// naming `closed_fd`, a descriptor that is not open, and a payload that is not cuttle's. `source` (the
/// script, written as `name`) must print something if it ever runs.
inline void expect_bad_channels_refused(bootstrappers::language l, const std::string& name,
                                        std::string_view source, int closed_fd) {
  auto options = slow_options();
  options.with_channel = false;
  options.env = {std::string(bootstrappers::channel_fd_variable) + "=" + std::to_string(closed_fd)};
  auto r = run_source(l, source, {}, {}, options, name);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "cuttle: cannot read the variables channel (descriptor " + std::to_string(closed_fd) + ")\n");
  std::string dir = (std::filesystem::temp_directory_path() / "cuttle-script-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr)
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  const std::string script = dir + "/" + name;
  detail::write_file(script, source);
  using namespace std::string_literals;
  r = run_plan(bootstrappers::plan_launch(l, script, {}, {}), "CUTTLE1\0name\0"s, slow_options());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "cuttle: the variables channel does not hold a cuttle payload\n");
}

}  // namespace cuttle::test
