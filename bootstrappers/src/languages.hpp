// Private to the bootstrappers library: the per-language pieces that launch.cpp assembles into a launch
// plan, and the script modules every language reads from the variables.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cuttle/bootstrappers/bootstrap.hpp"

namespace cuttle::bootstrappers::detail {

/// A script module (`Octopus.Script.Module[Name]`) of one language, ready to be written as a file.
struct script_module {
  std::string file_stem;  ///< Name filtered to ASCII letters, digits and '_' (never empty)
  std::string content;    ///< the evaluated module body
};

/// The modules whose `Octopus.Script.Module.Language[Name]` names `l`, in variable order; a later module
/// whose file stem repeats an earlier one is left out.
std::vector<script_module> script_modules(const engine::variables& vars, language l);

/// The file name of the bootstrap in the private directory. The '-' keeps it from ever being a module
/// name (module stems hold only letters, digits and '_') or an importable Python module.
inline constexpr std::string_view bash_bootstrap_name = "cuttle-bootstrap.sh";
/// The Bash channel loader (bootstrappers/bash-loader/), handed to Bash with the bootstrap.
inline constexpr std::string_view bash_loader_name = "cuttle-channel-loader.so";
/// Its bytes, embedded at build time; empty when this build has no loader (no Bash headers).
extern const std::string_view bash_channel_loader;
inline constexpr std::string_view python_bootstrap_name = "cuttle-bootstrap.py";
/// The Python bootstrap itself (python/cuttle_bootstrap.py), which cuttle-bootstrap.py loads, and its
/// bytecode: the running interpreter's magic number (importlib.util.MAGIC_NUMBER), then the marshalled code.
inline constexpr std::string_view python_bootstrap_main_name = "cuttle-bootstrap-main.py";
inline constexpr std::string_view python_bootstrap_code_name = "cuttle-bootstrap-main.pyc";
/// Their bytes, embedded at build time; the bytecode is empty when the build had no python3.
extern const std::string_view python_bootstrap_source;
extern const std::string_view python_bootstrap_code;
inline constexpr std::string_view csharp_bootstrap_name = "cuttle-bootstrap.csx";
inline constexpr std::string_view fsharp_bootstrap_name = "cuttle-bootstrap.fsx";
inline constexpr std::string_view powershell_bootstrap_name = "cuttle-bootstrap.ps1";

std::string bash_preamble();
launch_plan bash_plan(const std::string& script, const std::vector<std::string>& args,
                      const engine::variables& vars);

std::string python_preamble();
launch_plan python_plan(const std::string& script, const std::vector<std::string>& args,
                        const engine::variables& vars);

std::string csharp_preamble();
launch_plan csharp_plan(const std::string& script, const std::vector<std::string>& args,
                        const engine::variables& vars);

std::string fsharp_preamble();
launch_plan fsharp_plan(const std::string& script, const std::vector<std::string>& args,
                        const engine::variables& vars);

std::string powershell_preamble();
launch_plan powershell_plan(const std::string& script, const std::vector<std::string>& args,
                            const engine::variables& vars);

}  // namespace cuttle::bootstrappers::detail
