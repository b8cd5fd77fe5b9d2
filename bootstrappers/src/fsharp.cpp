// The F# bootstrap: the helper API of calamari-spec §1.1 for F# scripts (.fsx, module Octopus), reading its
// variables from the channel; F# Interactive loads it (--load) before it runs the user's script.
// Tested by tests/bootstrappers/fsharp_test.cpp
//
// Design notes (the script below is the whole bootstrap; it holds no value):
// - The payload is read with one read from the descriptor (then closed, and CUTTLE_VARIABLES_FD removed from
//   the environment child processes get), decoded as UTF-8 and split into an Ordinal (case-sensitive, as in
//   Calamari's F#) Dictionary<string, string>; no other work per variable. Invalid UTF-8 becomes U+FFFD.
// - The module is [<AutoOpen>], so `setVariable` works unqualified (Calamari prefixed scripts with
//   `open Octopus`) and `Octopus.setVariable` too. Internals are private to the module, so a script may use
//   any name. The log helpers take a plain string, not a printf format (calamari-spec §8: with Calamari's
//   `printfn message` only literals compiled and `%` was a format character).
// - The user's script is F# Interactive's own script, not a #load-ed file: its errors carry its path and
//   line, `#load "x.fsx"` is relative to its directory, and fsi.CommandLineArgs is [script; args...]. The
//   bootstrap adds its own directory to the #load search path (`#I`), so `#load "Name.fsx"` finds script
//   modules; a module shadows a same-named file beside the script (in Calamari it overwrote it).
// - fsi.dll is started directly (`dotnet exec <sdk>/FSharp/fsi.dll`) when the SDK beside the `dotnet` on PATH
//   can be found: `dotnet fsi` runs it as a child of the dotnet CLI, which would keep the inherited channel
//   descriptor open for the whole run (readable through /proc/<pid>/fd), prints its first-run banner on a
//   fresh machine and starts a little slower. Otherwise `dotnet fsi` is used, with `--` before the
//   arguments: the CLI drops it and then leaves `@file` and `--help` alone. fsi passes everything after the
//   script to it verbatim. A global.json that pins an SDK is not consulted.
// - failStep exits with 255 through `exit`, which a script's try/finally cannot intercept (as Calamari's
//   Environment.Exit(-1)).

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cuttle/bootstrappers/bootstrap.hpp"
#include "languages.hpp"

namespace cuttle::bootstrappers::detail {
namespace {

constexpr std::string_view bootstrap_text =
    R"fsharp(// cuttle F# bootstrap: gives a hook script the Octopus helper API (module Octopus: tryFindVariable,
// findVariable, findVariableOrDefault, setVariable, setSensitiveVariable, createArtifact, updateProgress,
// failStep, writeVerbose, writeHighlight, writeWait, writeWarning, initializeProxy). Code only: the variables
// arrive through the descriptor named by CUTTLE_VARIABLES_FD. See docs/scripts.md.
// Usage: dotnet exec <sdk>/FSharp/fsi.dll --load:cuttle-bootstrap.fsx SCRIPT.fsx [ARGS...]
//    or: dotnet fsi --load:cuttle-bootstrap.fsx SCRIPT.fsx -- [ARGS...]

/// The Octopus helper API. [<AutoOpen>] opens it for the script, so `setVariable` and `Octopus.setVariable`
/// both work.
[<AutoOpen>]
module Octopus
// `#load "Name.fsx"` finds the script modules written beside this file.
#I __SOURCE_DIRECTORY__

let private cuttleVariables =
    System.Collections.Generic.Dictionary<string, string>(System.StringComparer.Ordinal)

let private cuttleFail (message: string) =
    System.Console.Out.Flush()
    System.Console.Error.Write("cuttle: " + message + "\n")
    System.Console.Error.Flush()
    exit 2

// Reads the channel: one read, then the descriptor is closed and CUTTLE_VARIABLES_FD removed (child processes
// get the environment .NET keeps, so they do not see it either).
do
    let fdText = System.Environment.GetEnvironmentVariable "CUTTLE_VARIABLES_FD"
    System.Environment.SetEnvironmentVariable("CUTTLE_VARIABLES_FD", null)
    if not (isNull fdText) then
        let mutable fd = -1
        let mutable digits = fdText.Length > 0
        for c in fdText do
            digits <- digits && c >= '0' && c <= '9'
        if not digits || not (System.Int32.TryParse(fdText, &fd)) then
            cuttleFail ("cannot read the variables channel (descriptor " + fdText + ")")
        let mutable data : byte[] = null
        try
            // Owning the handle closes the descriptor when it is disposed.
            use handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(nativeint fd, true)
            use stream = new System.IO.FileStream(handle, System.IO.FileAccess.Read, 1)
            use buffer = new System.IO.MemoryStream()
            stream.CopyTo(buffer)
            data <- buffer.ToArray()
        with _ ->
            cuttleFail ("cannot read the variables channel (descriptor " + fdText + ")")
        let magic = "CUTTLE1\000"B
        let mutable valid = data.Length >= magic.Length && (data.Length = magic.Length || data.[data.Length - 1] = 0uy)
        for i in 0 .. magic.Length - 1 do
            valid <- valid && data.[i] = magic.[i]
        let utf8 = System.Text.Encoding.UTF8
        let mutable at = magic.Length
        while valid && at < data.Length do
            let nameEnd = System.Array.IndexOf(data, 0uy, at)
            let valueEnd = if nameEnd + 1 < data.Length then System.Array.IndexOf(data, 0uy, nameEnd + 1) else -1
            if valueEnd < 0 then
                valid <- false
            else
                cuttleVariables.[utf8.GetString(data, at, nameEnd - at)] <-
                    utf8.GetString(data, nameEnd + 1, valueEnd - nameEnd - 1)
                at <- valueEnd + 1
        if not valid then
            cuttleFail "the variables channel does not hold a cuttle payload"

let private cuttleEncode (value: string) =
    System.Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(if isNull value then "" else value))

// Every helper writes its whole output with one Write and flushes it.
let private cuttleEmit (text: string) =
    System.Console.Out.Write(text)
    System.Console.Out.Flush()

let private cuttleLog (level: string) (message: string) =
    cuttleEmit ("##octopus[stdout-" + level + "]\n" + (if isNull message then "" else message)
                + "\n##octopus[stdout-default]\n")

/// The value of the variable `name` (case-sensitive), or None when there is none.
let tryFindVariable (name: string) : string option =
    let mutable value = null
    if not (isNull name) && cuttleVariables.TryGetValue(name, &value) then Some value else None

/// The value of the variable `name`; throws KeyNotFoundException when there is none.
let findVariable (name: string) : string =
    match tryFindVariable name with
    | Some value -> value
    | None -> raise (System.Collections.Generic.KeyNotFoundException(name + " variable has not been found."))

/// The value of the variable `name`, or `defaultValue` when there is none.
let findVariableOrDefault (defaultValue: string) (name: string) : string =
    match tryFindVariable name with
    | Some value -> value
    | None -> defaultValue

let private cuttleSet (name: string) (value: string) (sensitive: string) =
    let name = if isNull name then "" else name
    let value = if isNull value then "" else value
    cuttleEmit ("##octopus[setVariable name='" + cuttleEncode name + "' value='" + cuttleEncode value + "'"
                + sensitive + "]\n")
    cuttleVariables.[name] <- value

/// Sets an output variable; later lookups in this script see the new value.
let setVariable (name: string) (value: string) : unit = cuttleSet name value ""

/// Sets a sensitive output variable; later lookups in this script see the new value.
let setSensitiveVariable (name: string) (value: string) : unit = cuttleSet name value " sensitive='VHJ1ZQ=='"

/// Collects the file at `path` (made absolute) after the step; `fileName` defaults to its file name.
let createArtifact (path: string) (fileName: string option) : unit =
    let full = System.IO.Path.GetFullPath path
    let name =
        match fileName with
        | Some name -> name
        | None -> System.IO.Path.GetFileName path
    let length = if System.IO.File.Exists full then System.IO.FileInfo(full).Length else 0L
    cuttleLog "verbose" ("Artifact " + name + " will be collected from " + full + " after this step completes")
    cuttleEmit ("##octopus[createArtifact path='" + cuttleEncode full + "' name='" + cuttleEncode name
                + "' length='" + cuttleEncode (length.ToString(System.Globalization.CultureInfo.InvariantCulture))
                + "']\n")

/// Reports progress (a percentage) with a message (null: an empty one).
let updateProgress (percentage: int) (message: string) : unit =
    cuttleEmit ("##octopus[progress percentage='"
                + cuttleEncode (percentage.ToString(System.Globalization.CultureInfo.InvariantCulture))
                + "' message='" + cuttleEncode message + "']\n")

/// Fails the step with `message` as its result message (null or empty: none); exits with code 255.
let failStep (message: string) : unit =
    if not (System.String.IsNullOrEmpty message) then
        cuttleEmit ("##octopus[resultMessage message='" + cuttleEncode message + "']\n")
    exit 255

/// Writes `message` at the verbose log level.
let writeVerbose (message: string) : unit = cuttleLog "verbose" message
/// Writes `message` at the highlight log level.
let writeHighlight (message: string) : unit = cuttleLog "highlight" message
/// Writes `message` at the wait log level.
let writeWait (message: string) : unit = cuttleLog "wait" message
/// Writes `message` at the warning log level.
let writeWarning (message: string) : unit = cuttleLog "warning" message

/// Calamari's proxy set-up from the Tentacle's TentacleProxy* environment variables, for HttpClient. The
/// bootstrap calls it when any of them is set; otherwise .NET's default stays (HTTP_PROXY, HTTPS_PROXY,
/// NO_PROXY).
let initializeProxy () : unit =
    let host = System.Environment.GetEnvironmentVariable "TentacleProxyHost"
    let user = System.Environment.GetEnvironmentVariable "TentacleProxyUsername"
    let mutable port = 0
    let mutable useDefault = false
    System.Int32.TryParse(System.Environment.GetEnvironmentVariable "TentacleProxyPort", &port) |> ignore
    System.Boolean.TryParse(System.Environment.GetEnvironmentVariable "TentacleUseDefaultProxy", &useDefault)
    |> ignore
    if not (System.String.IsNullOrWhiteSpace host) then
        let proxy = System.Net.WebProxy(System.UriBuilder("http", host, port).Uri)
        proxy.Credentials <-
            if System.String.IsNullOrWhiteSpace user then System.Net.NetworkCredential()
            else System.Net.NetworkCredential(user, System.Environment.GetEnvironmentVariable "TentacleProxyPassword")
        System.Net.Http.HttpClient.DefaultProxy <- proxy
    elif not useDefault then
        System.Net.Http.HttpClient.DefaultProxy <- System.Net.WebProxy()

do
    if not (isNull (System.Environment.GetEnvironmentVariable "TentacleProxyHost"))
       || not (isNull (System.Environment.GetEnvironmentVariable "TentacleUseDefaultProxy")) then
        initializeProxy ()
)fsharp";

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

// Compares two dot-separated SemVer pre-release parts: numeric identifiers numerically and below others.
int compare_prerelease(std::string_view a, std::string_view b) {
  while (!a.empty() && !b.empty()) {
    const auto da = a.find('.');
    const auto db = b.find('.');
    const auto x = a.substr(0, da);
    const auto y = b.substr(0, db);
    const bool nx = all_digits(x);
    const bool ny = all_digits(y);
    if (nx && ny && x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
    if (nx != ny) return nx ? -1 : 1;
    if (x != y) return x < y ? -1 : 1;
    a = da == std::string_view::npos ? std::string_view() : a.substr(da + 1);
    b = db == std::string_view::npos ? std::string_view() : b.substr(db + 1);
  }
  return a.empty() == b.empty() ? 0 : (a.empty() ? -1 : 1);
}

// Compares two SDK directory names ("10.0.401", "10.0.100-rc.1.25451.107") as versions: a release is newer
// than its pre-releases. False when `a` is not a version.
bool newer_sdk(std::string_view a, std::string_view b) {
  const auto split = [](std::string_view name, std::vector<std::string_view>& core, std::string_view& pre) {
    const auto dash = name.find('-');
    pre = dash == std::string_view::npos ? std::string_view() : name.substr(dash + 1);
    name = name.substr(0, dash);
    while (true) {
      const auto dot = name.find('.');
      core.push_back(name.substr(0, dot));
      if (!all_digits(core.back()) || core.back().size() > 9) return false;
      if (dot == std::string_view::npos) return true;
      name.remove_prefix(dot + 1);
    }
  };
  std::vector<std::string_view> ca;
  std::vector<std::string_view> cb;
  std::string_view pa;
  std::string_view pb;
  if (!split(a, ca, pa)) return false;
  if (!split(b, cb, pb)) return true;
  for (std::size_t i = 0; i < ca.size() || i < cb.size(); ++i) {
    const long x = i < ca.size() ? std::stol(std::string(ca[i])) : 0;
    const long y = i < cb.size() ? std::stol(std::string(cb[i])) : 0;
    if (x != y) return x > y;
  }
  if (pa.empty() != pb.empty()) return pa.empty();
  return compare_prerelease(pa, pb) > 0;
}

// The FSharp/fsi.dll of the newest SDK of the first `dotnet` on PATH (the one the runner starts), or "".
std::string find_fsi_dll() {
  const char* path_env = std::getenv("PATH");
  std::string_view rest = path_env != nullptr ? path_env : "";
  while (true) {
    const auto colon = rest.find(':');
    const auto dir = rest.substr(0, colon);
    const std::filesystem::path candidate =
        std::filesystem::path(dir.empty() ? std::string(".") : std::string(dir)) / "dotnet";
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) {
      const auto root = std::filesystem::canonical(candidate, ec).parent_path();
      if (ec) return {};
      std::string best_name;
      std::filesystem::path best;
      for (const auto& sdk : std::filesystem::directory_iterator(root / "sdk", ec)) {
        const auto name = sdk.path().filename().string();
        const auto fsi = sdk.path() / "FSharp" / "fsi.dll";
        std::error_code exists_ec;
        if (std::filesystem::is_regular_file(fsi, exists_ec) &&
            (best.empty() || newer_sdk(name, best_name))) {
          best_name = name;
          best = fsi;
        }
      }
      return best.string();
    }
    if (colon == std::string_view::npos) return {};
    rest.remove_prefix(colon + 1);
  }
}

}  // namespace

std::string fsharp_preamble() { return std::string(bootstrap_text); }

launch_plan fsharp_plan(const std::string& script, const std::vector<std::string>& args,
                        const engine::variables& vars) {
  launch_plan plan;
  plan.files.push_back({std::string(fsharp_bootstrap_name), std::string(bootstrap_text)});
  for (auto& m : script_modules(vars, language::fsharp))
    plan.files.push_back({m.file_stem + ".fsx", std::move(m.content)});
  // --exec: never fall into the interactive session, not even when fsi refuses the script.
  const std::string load = "--load:{dir}/" + std::string(fsharp_bootstrap_name);
  if (const auto fsi = find_fsi_dll(); !fsi.empty()) {
    plan.argv = {"dotnet", "exec", fsi, "--exec", load, script};
  } else {
    plan.argv = {"dotnet", "fsi", "--exec", load, script, "--"};
  }
  plan.argv.insert(plan.argv.end(), args.begin(), args.end());
  return plan;
}

}  // namespace cuttle::bootstrappers::detail
