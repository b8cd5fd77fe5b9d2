// `cuttle run`: starts a hook script's interpreter directly (no shell) with the bootstrapper's preamble and
// the variables channel, copies its stdout through while reading service messages from it, and writes
// the output variables it set.
// Tested by tests/runner/run_test.cpp
//
// Design. The variables travel in a sealed memfd that the child inherits as descriptor 3 (its number is
// in CUTTLE_VARIABLES_FD); the bootstrap files are code only and live in a private 0700 directory that is
// removed when the run ends, however it ends. The child gets its own process group so a timeout or a
// forwarded SIGINT/SIGTERM reaches everything it started. cuttle blocks SIGINT, SIGTERM, SIGHUP and
// SIGCHLD and reads them from a signalfd, so one poll() loop handles the child's output, its exit, the
// signals to forward and the deadline; the child's signal mask and dispositions are reset at spawn.
// Output is written through as it arrives; the service-message scanner is a character state machine
// that keeps only the body of a message being read (calamari-spec §3.1), never whole lines.

#include "cuttle/runner/script_run.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <utility>

#include "cuttle/bootstrappers/bootstrap.hpp"
#include "cuttle/runner/files.hpp"
#include "cuttle/runner/script_output.hpp"

extern char** environ;

namespace cuttle::runner {
namespace {

namespace bs = cuttle::bootstrappers;

/// The descriptor number the child finds the variables channel on.
constexpr int channel_child_fd = 3;
/// Grace period between SIGTERM and SIGKILL when --timeout expires.
constexpr std::chrono::seconds kill_grace{5};

void report(const std::string& message) { write_all(STDERR_FILENO, "cuttle: " + message + "\n"); }

std::string errno_text(int err) { return std::strerror(err); }

/// Closes a descriptor when it goes out of scope.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  ~unique_fd() { reset(); }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// Moves `fd` to a number >= 10 (close-on-exec), so that the dup2s done at spawn time never collide with
/// their own sources or with descriptors 0-3.
int move_high(int fd) {
  if (fd >= 10) return fd;
  const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return high;
}

/// A file name the plan may use: one path component, not "." or "..".
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

/// A sealed memfd holding `content`, rewound; -1 and `error` on failure. `what` names it in the error.
int make_sealed_memfd(const char* name, std::string_view content, const std::string& what,
                      std::string& error) {
  unique_fd fd(::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (fd.get() < 0) {
    error = "cannot create " + what + " (memfd_create: " + errno_text(errno) +
            "); cuttle run needs Linux 3.17 or later with memfd support";
    return -1;
  }
  std::string_view rest = content;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "cannot write " + what + ": " + errno_text(errno);
      return -1;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0 ||
      ::lseek(fd.get(), 0, SEEK_SET) != 0) {
    error = "cannot seal " + what + ": " + errno_text(errno);
    return -1;
  }
  return move_high(fd.release());
}

/// How to install an interpreter that is missing.
std::string install_hint(const std::string& interpreter) {
  if (interpreter == "bash" || interpreter == "python3")
    return "install it with apt-get install " + interpreter;
  if (interpreter == "dotnet")
    return "install the .NET SDK (C# and F# scripts run on it; see "
           "https://learn.microsoft.com/dotnet/core/install/linux-debian)";
  if (interpreter == "pwsh")
    return "install PowerShell 7 (pwsh), for example with `dotnet tool install --global PowerShell`, and put "
           "it on PATH";
  return "install it and make sure it is on PATH";
}

/// Finds `name` on PATH (as execvp would). Sets `found_not_executable` when a file of that name exists
/// but cannot be executed.
std::optional<std::string> find_on_path(const std::string& name, bool& found_not_executable) {
  found_not_executable = false;
  auto usable = [&](const std::string& candidate) {
    struct stat st {};
    if (::stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    found_not_executable = true;
    return false;
  };
  if (name.find('/') != std::string::npos) {
    if (usable(name)) return name;
    return std::nullopt;
  }
  const char* env_path = std::getenv("PATH");
  const std::string path = env_path != nullptr ? env_path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = end == start ? "." : path.substr(start, end - start);
    const std::string candidate = dir + "/" + name;
    if (usable(candidate)) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

// --- output variables -------------------------------------------------------------------------------------

/// The JSON text of the output variables whose sensitivity is `sensitive`, each under its own name and,
/// when Octopus.Action.Name is set, as Octopus.Action[<action>].Output.<name> (and
/// Octopus.Action[<action>].Output[<machine>].<name> when Octopus.Machine.Name is set too).
std::string output_variables_json(const engine::variables& outputs, const engine::variables& inputs,
                                  bool sensitive) {
  const auto action = inputs.get("Octopus.Action.Name");
  const auto machine = inputs.get("Octopus.Machine.Name");
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  for (const auto& v : outputs.entries()) {
    if (v.sensitive != sensitive) continue;
    const nlohmann::ordered_json value =
        v.value ? nlohmann::ordered_json(*v.value) : nlohmann::ordered_json();
    doc[v.name] = value;
    if (action && !action->empty()) {
      doc["Octopus.Action[" + *action + "].Output." + v.name] = value;
      if (machine && !machine->empty())
        doc["Octopus.Action[" + *action + "].Output[" + *machine + "]." + v.name] = value;
    }
  }
  // Invalid UTF-8 cannot be written as JSON: such bytes become U+FFFD.
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace

bool write_output_variables(const std::optional<std::string>& file,
                            const std::optional<std::string>& sensitive_file,
                            const engine::variables& outputs, const engine::variables& inputs,
                            log_writer& log) {
  bool ok = true;
  if (file) {
    if (auto err = write_file_atomically(*file, output_variables_json(outputs, inputs, false))) {
      log.note(log_level::error, *err);
      ok = false;
    }
  }
  if (sensitive_file) {
    if (auto err =
            write_private_file_atomically(*sensitive_file, output_variables_json(outputs, inputs, true))) {
      log.note(log_level::error, *err);
      ok = false;
    }
  } else {
    std::string names;
    for (const auto& v : outputs.entries()) {
      if (v.sensitive) names += (names.empty() ? "" : ", ") + v.name;
    }
    if (!names.empty())
      log.note(log_level::warning,
               "sensitive output variables not written (give --sensitive-output-variables FILE): " + names);
  }
  return ok;
}

namespace {

// --- artifacts --------------------------------------------------------------------------------------------

/// A file name for an artifact in the artifacts directory: the display name's last component, without
/// control characters; "artifact" when nothing is left; "-2", "-3" ... before the extension when taken.
std::string artifact_file_name(const std::string& display, std::set<std::string>& taken) {
  const auto slash = display.find_last_of('/');
  std::string base = display.substr(slash == std::string::npos ? 0 : slash + 1);
  base.erase(
      std::remove_if(base.begin(), base.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }),
      base.end());
  if (base.empty() || base == "." || base == ".." || base == "manifest.json") base = "artifact" + base;
  const auto dot = base.find_last_of('.');
  const bool has_extension = dot != std::string::npos && dot != 0;
  const std::string stem = base.substr(0, has_extension ? dot : std::string::npos);
  const std::string extension = has_extension ? base.substr(dot) : "";
  std::string name = base;
  for (int n = 2; !taken.insert(name).second; ++n) name = stem + "-" + std::to_string(n) + extension;
  return name;
}

/// Copies the files named by createArtifact into `dir` and writes `dir/manifest.json` (masked). A missing
/// file is a warning. Returns false when the directory or the manifest cannot be written.
bool collect_artifacts(const std::string& dir, script_output& log) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    log.note(log_level::error, "cannot create the artifacts directory " + dir + ": " + ec.message());
    return false;
  }
  std::set<std::string> taken{"manifest.json"};
  nlohmann::ordered_json manifest = nlohmann::ordered_json::array();
  for (const auto& a : log.artifacts()) {
    nlohmann::ordered_json entry;
    entry["name"] = a.name;
    entry["source"] = a.path;
    struct stat st {};
    if (::stat(a.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      log.note(log_level::warning,
               "artifact '" + a.name + "' was not collected: " + a.path +
                   (::access(a.path.c_str(), F_OK) != 0 ? " does not exist" : " is not a file"));
      entry["collected"] = false;
      manifest.push_back(std::move(entry));
      continue;
    }
    const auto file = artifact_file_name(a.name, taken);
    fs::copy_file(a.path, fs::path(dir) / file, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      log.note(log_level::warning, "artifact '" + a.name + "' was not collected: " + ec.message());
      entry["collected"] = false;
    } else {
      entry["collected"] = true;
      entry["file"] = file;
      entry["length"] = static_cast<std::uint64_t>(st.st_size);
    }
    manifest.push_back(std::move(entry));
  }
  const auto text =
      log.mask(manifest.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
  if (auto err = write_file_atomically((fs::path(dir) / "manifest.json").string(), text)) {
    log.note(log_level::error, *err);
    return false;
  }
  return true;
}

// --- the child process ------------------------------------------------------------------------------------

/// Signals cuttle handles through its signalfd while the script runs.
sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&set, s);
  return set;
}

/// The child's environment: ours, without any inherited CUTTLE_VARIABLES_FD, plus the channel's number.
std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  const std::string prefix = std::string(bs::channel_fd_variable) + "=";
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).substr(0, prefix.size()) != prefix) env.emplace_back(*e);
  }
  env.push_back(prefix + std::to_string(channel_child_fd));
  return env;
}

struct spawn_result {
  pid_t pid = -1;
  int error = 0;
};

spawn_result spawn_child(const std::string& executable, const std::vector<std::string>& argv, int stdout_fd,
                         int stderr_fd, int channel_fd, const std::vector<unique_fd>& inherited,
                         const char* working_directory) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (working_directory != nullptr) posix_spawn_file_actions_addchdir_np(&actions, working_directory);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, stderr_fd, STDERR_FILENO);
  // dup2 clears close-on-exec on the copy: descriptor 3 is the one the child inherits.
  posix_spawn_file_actions_adddup2(&actions, channel_fd, channel_child_fd);
  for (std::size_t k = 0; k < inherited.size(); ++k) {
    posix_spawn_file_actions_adddup2(&actions, inherited[k].get(),
                                     bs::first_inherited_fd + static_cast<int>(k));
  }

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (const int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE, SIGQUIT}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto env = child_environment();
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  spawn_result r;
  r.error = ::posix_spawn(&r.pid, executable.c_str(), &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return r;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string replace_all(std::string arg, std::string_view placeholder, const std::string& with) {
  std::size_t at = 0;
  while ((at = arg.find(placeholder, at)) != std::string::npos) {
    arg.replace(at, placeholder.size(), with);
    at += with.size();
  }
  return arg;
}

/// The directory of cuttle's helper programs (the C# script host): $CUTTLE_LIBEXEC_DIR, else `lib/cuttle`
/// beside the directory of the cuttle executable (`<prefix>/bin/cuttle` -> `<prefix>/lib/cuttle`; in the
/// build tree `build/runner/cuttle` -> `build/lib/cuttle`).
std::string libexec_dir() {
  if (const char* env = std::getenv("CUTTLE_LIBEXEC_DIR"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "/usr/local/lib/cuttle";
  return (exe.parent_path().parent_path() / "lib" / "cuttle").string();
}

/// Replaces "{libexec}" in `arg`; sets `used` when it did.
std::string replace_libexec(std::string arg, bool& used) {
  static constexpr std::string_view placeholder = "{libexec}";
  const auto at = arg.find(placeholder);
  if (at == std::string::npos) return arg;
  used = true;
  arg.replace(at, placeholder.size(), libexec_dir());
  return arg;
}

std::string supported_languages() {
  std::string names;
  for (const auto l : {bs::language::bash, bs::language::python, bs::language::csharp, bs::language::fsharp,
                       bs::language::powershell}) {
    if (bs::is_supported(l)) names += (names.empty() ? "" : ", ") + std::string(bs::language_name(l));
  }
  return names;
}

/// The script's language, or nullopt after reporting why there is none.
std::optional<bs::language> choose_language(const script_run_options& o) {
  std::optional<bs::language> l;
  if (o.language) {
    l = bs::language_from_name(*o.language);
    if (!l) {
      report("error: unknown language '" + *o.language +
             "' (expected bash, python, csharp, fsharp or powershell)");
      return std::nullopt;
    }
  } else {
    l = bs::language_from_path(o.script);
    if (!l) {
      report("error: cannot tell the language of '" + o.script +
             "' from its extension (.sh, .py, .csx, .fsx, .ps1); give --language");
      return std::nullopt;
    }
  }
  if (!bs::is_supported(*l)) {
    report("error: " + std::string(bs::language_name(*l)) +
           " scripts are not supported yet (supported: " + supported_languages() + ")");
    return std::nullopt;
  }
  return l;
}

/// Runs the child to its end: passes its stdout and stderr through `output` (service messages, masking,
/// levels), forwards signals and enforces the deadline. Returns the exit code (run_exit::timed_out on
/// timeout).
int supervise(pid_t pid, int out_fd, int err_fd, int signal_fd, const std::optional<double>& timeout_seconds,
              script_output& output) {
  using clock = std::chrono::steady_clock;
  // A plain flag and time point (not std::optional): gcc 12 warns wrongly about optional's storage here.
  bool has_deadline = timeout_seconds.has_value();
  clock::time_point deadline{};
  if (has_deadline)
    deadline = clock::now() +
               std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(*timeout_seconds));
  bool timed_out = false;
  bool terminating = false;  // SIGTERM (or the forwarded signal) sent; SIGKILL follows at the deadline
  int stop_signal = 0;       // the signal that stopped cuttle, if one did
  std::array<int, 2> pipes{out_fd, err_fd};
  constexpr std::array<log_stream, 2> streams{log_stream::out, log_stream::err};
  std::vector<char> buffer(65536);
  int status = 0;
  bool exited = false;
  // JSON records of a partial line wait this long for the rest of the line.
  constexpr int idle_flush_ms = 200;

  auto read_once = [&](std::size_t k) {
    const ssize_t n = ::read(pipes[k], buffer.data(), buffer.size());
    if (n > 0) {
      output.feed(streams[k], std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      output.end_of_stream(streams[k]);
      pipes[k] = -1;
    }
    return n;
  };

  while (!exited) {
    int wait_ms = -1;
    if (has_deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
      wait_ms = static_cast<int>(std::clamp<long long>(left + 1, 0, 60'000));
    }
    if (output.wants_idle_flush()) wait_ms = wait_ms < 0 ? idle_flush_ms : std::min(wait_ms, idle_flush_ms);
    pollfd fds[3] = {{signal_fd, POLLIN, 0}, {pipes[0], POLLIN, 0}, {pipes[1], POLLIN, 0}};
    const int ready = ::poll(fds, 3, wait_ms);
    if (ready < 0 && errno != EINTR) break;
    if (ready == 0) output.idle_flush();
    if (has_deadline && clock::now() >= deadline) {
      if (!terminating) {
        timed_out = true;
        terminating = true;
        output.note(log_level::error,
                    fmt::format("the script ran longer than --timeout {} s; stopping it (SIGTERM to its "
                                "process group)",
                                *timeout_seconds));
        ::kill(-pid, SIGTERM);
        deadline = clock::now() + kill_grace;
      } else {
        ::kill(-pid, SIGKILL);
        has_deadline = false;
      }
    }
    if (ready <= 0) continue;
    for (std::size_t k = 0; k < 2; ++k) {
      if (pipes[k] >= 0 && (fds[k + 1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) read_once(k);
    }
    if ((fds[0].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        const int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGCHLD) continue;
        ::kill(-pid, sig);  // SIGINT, SIGTERM, SIGHUP go to the script's group
        if (!terminating) {
          // cuttle is being stopped: the group gets the grace period, then SIGKILL.
          stop_signal = sig;
          terminating = true;
          has_deadline = true;
          deadline = clock::now() + kill_grace;
        }
      }
      const pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) exited = true;
    }
  }
  if (!exited) {  // poll failed: nothing else to do but wait
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  // What the child wrote before it ended is in the pipes already; processes it left behind in the
  // background may hold the pipes open, so read only what is there now.
  for (std::size_t k = 0; k < 2; ++k) {
    if (pipes[k] < 0) continue;
    ::fcntl(pipes[k], F_SETFL, ::fcntl(pipes[k], F_GETFL) | O_NONBLOCK);
    while (pipes[k] >= 0 && read_once(k) > 0) {
    }
    if (pipes[k] >= 0) output.end_of_stream(streams[k]);
  }
  if (timed_out) {
    ::kill(-pid, SIGKILL);  // anything of the script's still running
    return run_exit::timed_out;
  }
  if (stop_signal != 0) {
    ::kill(-pid, SIGKILL);
    return 128 + stop_signal;
  }
  return exit_code_of(status);
}

}  // namespace

script_execution_result execute_script(const script_execution& o, const engine::variables& vars) {
  script_execution_result result;
  auto fail = [&](int code, const std::string& message) {
    report("error: " + mask_secrets(message, vars.sensitive_values()));
    result.code = code;
    return std::move(result);
  };
  const auto payload = bs::encode_variables(vars);
  if (!payload.error.empty()) return fail(run_exit::usage, payload.error);

  std::error_code ec;
  const auto script = std::filesystem::absolute(o.script, ec).lexically_normal().string();
  struct stat st {};
  if (ec || ::stat(script.c_str(), &st) != 0)
    return fail(run_exit::usage, "cannot run '" + o.script + "': " + errno_text(ec ? ec.value() : errno));
  if (!S_ISREG(st.st_mode)) return fail(run_exit::usage, "cannot run '" + o.script + "': not a regular file");

  auto plan = bs::plan_launch(o.script_language, script, o.args, vars);
  if (plan.argv.empty())
    return fail(run_exit::usage, "no way to start " + std::string(bs::language_name(o.script_language)) +
                                     " scripts in this build");
  bool not_executable = false;
  const auto executable = find_on_path(plan.argv[0], not_executable);
  if (!executable) {
    if (not_executable)
      return fail(run_exit::interpreter_not_usable,
                  plan.argv[0] + " was found on PATH but cannot be executed; check its permissions");
    return fail(run_exit::interpreter_missing,
                plan.argv[0] + " not found on PATH; " + install_hint(plan.argv[0]));
  }

  // Files on disk go into a private directory, created only when there is one; inherited ones become
  // sealed memfds.
  private_dir dir;
  auto need_dir = [&dir]() -> std::optional<std::string> {
    return dir.path().empty() ? dir.create() : std::nullopt;
  };
  std::vector<unique_fd> inherited;
  std::vector<std::pair<std::string, std::string>> placeholders;
  for (const auto& f : plan.files) {
    if (!is_plain_file_name(f.name))
      return fail(run_exit::usage, "the launch plan names an unusable file '" + f.name + "'");
    if (f.inherited) {
      std::string error;
      inherited.emplace_back(make_sealed_memfd(f.name.c_str(), f.content, f.name, error));
      if (inherited.back().get() < 0) return fail(run_exit::usage, error);
      placeholders.emplace_back(bs::inherited_placeholder(f.name),
                                "/dev/fd/" + std::to_string(bs::first_inherited_fd + inherited.size() - 1));
      continue;
    }
    if (auto err = need_dir()) return fail(run_exit::usage, *err);
    if (auto err = write_new_private_file(dir.path() + "/" + f.name, f.content))
      return fail(run_exit::usage, *err);
  }
  for (std::size_t k = 0; k < plan.argv.size() && k < plan.verbatim_from; ++k) {
    auto& a = plan.argv[k];
    bool from_libexec = false;
    a = replace_libexec(std::move(a), from_libexec);
    for (const auto& [placeholder, path] : placeholders) a = replace_all(std::move(a), placeholder, path);
    if (a.find("{dir}") != std::string::npos) {
      if (auto err = need_dir()) return fail(run_exit::usage, *err);
    }
    a = replace_all(std::move(a), "{dir}", dir.path());
    // A helper program of cuttle's own (the C# script host) that is not there: say how to get it.
    if (from_libexec && ::access(a.c_str(), R_OK) != 0)
      return fail(run_exit::interpreter_missing,
                  std::string(bs::language_name(o.script_language)) + " scripts need " + a +
                      ", which is missing; install the .NET SDK and rebuild cuttle (the build makes the host "
                      "when dotnet is on PATH), or set CUTTLE_LIBEXEC_DIR to the directory that holds it");
  }

  std::string channel_error;
  unique_fd channel(
      make_sealed_memfd("cuttle-variables", payload.data, "the variables channel", channel_error));
  if (channel.get() < 0) return fail(run_exit::usage, channel_error);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    return fail(run_exit::usage, "cannot create a pipe: " + errno_text(errno));
  unique_fd out_read(move_high(pipe_fds[0]));
  unique_fd out_write(move_high(pipe_fds[1]));
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    return fail(run_exit::usage, "cannot create a pipe: " + errno_text(errno));
  unique_fd err_read(move_high(pipe_fds[0]));
  unique_fd err_write(move_high(pipe_fds[1]));

  // From here on the signals are read from the signalfd; the child gets them reset.
  const sigset_t signals = handled_signals();
  sigset_t previous;
  ::sigprocmask(SIG_BLOCK, &signals, &previous);
  struct restore_mask {
    sigset_t mask;
    ~restore_mask() { ::sigprocmask(SIG_SETMASK, &mask, nullptr); }
  } restore{previous};
  unique_fd signal_fd(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (signal_fd.get() < 0) return fail(run_exit::usage, "cannot create a signalfd: " + errno_text(errno));
  // A closed stdout must not kill cuttle before it has cleaned up.
  ::signal(SIGPIPE, SIG_IGN);

  output_settings settings;
  settings.format = o.format;
  for (const auto& v : vars.entries()) {
    if (v.sensitive && v.value && !v.value->empty()) settings.secrets.push_back(*v.value);
  }
  settings.secrets.insert(settings.secrets.end(), o.masks.begin(), o.masks.end());
  script_output output(std::move(settings), STDOUT_FILENO, STDERR_FILENO, result.outputs);

  const auto spawned = spawn_child(*executable, plan.argv, out_write.get(), err_write.get(), channel.get(),
                                   inherited, o.working_directory ? o.working_directory->c_str() : nullptr);
  out_write.reset();
  err_write.reset();
  channel.reset();
  inherited.clear();
  if (spawned.error != 0) {
    output.finish();
    return fail(spawned.error == ENOENT ? run_exit::interpreter_missing : run_exit::interpreter_not_usable,
                "cannot start " + plan.argv[0] + " (" + *executable + "): " + errno_text(spawned.error));
  }

  int code =
      supervise(spawned.pid, out_read.get(), err_read.get(), signal_fd.get(), o.timeout_seconds, output);
  result.started = true;
  output.finish();

  if (o.artifacts_dir && !collect_artifacts(*o.artifacts_dir, output))
    code = code == 0 ? run_exit::usage : code;
  if (const auto& message = output.result_message(); message && !message->empty()) {
    output.note(code == 0 ? log_level::info : log_level::error,
                (code == 0 ? "result: " : "the script failed: ") + *message);
  }
  result.wrote_stderr = output.wrote_stderr();
  const bool fail_on_stderr =
      o.fail_on_stderr || reads_true(vars.get("Octopus.Action.FailScriptOnErrorOutput").value_or(""));
  if (code == 0 && fail_on_stderr && output.wrote_stderr()) {
    output.note(
        log_level::error,
        "the script wrote to stderr, and --fail-on-stderr (or Octopus.Action.FailScriptOnErrorOutput) "
        "makes that a failure");
    code = run_exit::wrote_stderr;
    result.failed_on_stderr = true;
  }
  result.code = code;
  return result;
}

int run_script(const script_run_options& o) {
  const auto language = choose_language(o);
  if (!language) return run_exit::usage;

  engine::variables& vars = process_lifetime_variables();
  std::vector<std::string> errors;
  if (!load_variable_sources(o.sources, vars, errors)) {
    const auto secrets = vars.sensitive_values();
    for (const auto& e : errors) write_all(STDERR_FILENO, mask_secrets(e, secrets) + "\n");
    return run_exit::usage;
  }

  script_execution e;
  e.script = o.script;
  e.args = o.args;
  e.script_language = *language;
  e.timeout_seconds = o.timeout_seconds;
  e.format = o.format.value_or(::isatty(STDOUT_FILENO) == 1 ? log_format::terminal : log_format::plain);
  e.artifacts_dir = o.artifacts_dir;
  e.fail_on_stderr = o.fail_on_stderr;
  e.masks = o.masks;
  auto result = execute_script(e, vars);
  if (!result.started) return result.code;
  log_writer log(e.format, STDOUT_FILENO, STDERR_FILENO);
  if (!write_output_variables(o.output_variables, o.sensitive_output_variables, result.outputs, vars, log) &&
      result.code == 0)
    return run_exit::usage;
  return result.code;
}

int print_bootstrap(const std::string& language) {
  const auto l = bs::language_from_name(language);
  if (!l) {
    report("error: unknown language '" + language +
           "' (expected bash, python, csharp, fsharp or powershell)");
    return run_exit::usage;
  }
  if (!bs::is_supported(*l)) {
    report("error: " + std::string(bs::language_name(*l)) +
           " scripts are not supported yet (supported: " + supported_languages() + ")");
    return run_exit::usage;
  }
  write_all(STDOUT_FILENO, bs::preamble(*l));
  return 0;
}

}  // namespace cuttle::runner
