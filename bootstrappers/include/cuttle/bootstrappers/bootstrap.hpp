// Script bootstrapping: the per-language preamble that gives a hook script the Octopus helper API, the
// variables channel it reads its variables from, and the plan for starting its interpreter.
//
// The preamble is code only. Variables reach the script through a sealed memfd that the runner hands to
// the child as an inherited descriptor; its number is in the environment variable CUTTLE_VARIABLES_FD,
// which the preamble reads, then closes the descriptor and removes the variable before user code runs.
//
// Example (what `cuttle run` does, simplified):
//   auto lang = cuttle::bootstrappers::language_from_path("deploy.sh");
//   auto payload = cuttle::bootstrappers::encode_variables(vars);          // -> the memfd
//   auto plan = cuttle::bootstrappers::plan_launch(*lang, "/abs/deploy.sh", args, vars);
//   // write plan.files into a private 0700 directory (or memfds), replace the placeholders, spawn plan.argv
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/engine/variables.hpp"

namespace cuttle::bootstrappers {

/// Script languages, in the Linux preference order of hook discovery.
enum class language : std::uint8_t { bash, python, csharp, fsharp, powershell };

/// The language of a script by its extension: .sh, .py, .csx, .fsx, .ps1 (case-insensitive).
std::optional<language> language_from_path(std::string_view path);
/// The language named on the command line (`--language`): bash, python, csharp, fsharp, powershell
/// (also sh, py, cs, csx, fs, fsx, ps1, pwsh), case-insensitive.
std::optional<language> language_from_name(std::string_view name);
/// The canonical name: "bash", "python", "csharp", "fsharp", "powershell".
std::string_view language_name(language l);
/// True when this build can generate a preamble for `l`.
bool is_supported(language l);

/// The environment variable that holds the variables channel's descriptor number.
inline constexpr std::string_view channel_fd_variable = "CUTTLE_VARIABLES_FD";

/// The exit code of the fail-step helper, the same in every language.
inline constexpr int fail_step_exit_code = 255;

/// The channel payload for `vars`, or an error text when a name or value cannot be carried (the format
/// is documented in docs/scripts.md).
struct encoded_variables {
  std::string data;
  std::string error;  ///< non-empty: nothing can be sent
};
encoded_variables encode_variables(const engine::variables& vars);

/// How to start a script: files for the child (code only, never a variable value except script modules,
/// which are code), and the command line. argv[0] is the interpreter's name, looked up on PATH.
///
/// A file is either written into a private directory (mode 0700) that the runner creates and removes,
/// "{dir}" in `argv` standing for its path; or, when `inherited`, never written to disk: the runner hands
/// it to the child as a sealed memfd, the k-th inherited file as descriptor first_inherited_fd + k, and
/// "{fd:NAME}" in `argv` stands for its path, /dev/fd/N. The script's bootstrap closes those descriptors
/// before user code runs. "{libexec}" stands for the directory of cuttle's own helper programs (the C#
/// script host; `lib/cuttle` beside cuttle's `bin`, or $CUTTLE_LIBEXEC_DIR).
struct launch_plan {
  struct file {
    std::string name;
    std::string content;
    bool inherited = false;  ///< handed over as a descriptor instead of written into the directory
  };
  std::vector<file> files;
  std::vector<std::string> argv;
  /// argv[verbatim_from...] are the script's path and arguments: passed as they are, no placeholder in
  /// them is replaced (a path or an argument may well contain "{dir}").
  std::size_t verbatim_from = 0;
};

/// The descriptor the child inherits its first inherited file as (the channel is descriptor 3).
inline constexpr int first_inherited_fd = 4;

/// The placeholder for inherited file `name` in a launch plan's argv: "{fd:NAME}".
std::string inherited_placeholder(std::string_view name);

/// The launch plan for `script` (an absolute path) with `args` in `l`. `vars` supplies the script modules
/// (`Octopus.Script.Module[Name]`, with `Octopus.Script.Module.Language[Name]`).
launch_plan plan_launch(language l, const std::string& script, const std::vector<std::string>& args,
                        const engine::variables& vars);

/// The preamble of `l` alone, as `cuttle bootstrap --language L` prints it (contains no values).
std::string preamble(language l);

}  // namespace cuttle::bootstrappers
