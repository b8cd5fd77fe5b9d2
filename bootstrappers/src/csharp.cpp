// The C# bootstrap: the helper API of calamari-spec §1.1 for C# scripts (.csx), reading its variables from
// the channel; cuttle-csharp-host (bootstrappers/csharp-host/) runs it as the first Roslyn script submission
// and the user's script as its continuation.
// Tested by tests/bootstrappers/csharp_test.cpp
//
// Design notes (the script below is the whole bootstrap; it holds no value):
// - The payload is read whole from the descriptor (then closed, and CUTTLE_VARIABLES_FD removed from the
//   environment child processes get) and each name and value is decoded from it as UTF-8 into an
//   OrdinalIgnoreCase Dictionary<string, string>, as Calamari's is; no other work per variable (20,000
//   variables, 13 MB: about 50 ms). Invalid UTF-8 becomes U+FFFD.
// - Two forms of the API: top-level members (dotnet-script's Bootstrap.csx: OctopusParameters, SetVariable,
//   ...) always, and the class `Octopus` (Octopus.Parameters, Octopus.SetVariable, ...; ScriptCS and
//   Calamari's ClassBootstrap.csx) when wanted. The class cannot always be there: a type named `Octopus` in
//   scope hides the namespace `Octopus` of Octopus.Client.dll, so `using Octopus.Client;` would stop
//   compiling. It is added when `Octopus.Action.Script.CSharp.UseOctopusClassBootstrapper` is True, left out
//   when it is False, and otherwise added exactly when the script or a C# script module mentions one of its
//   members (`Octopus.Parameters`, `Octopus.SetVariable`...), so old ScriptCS scripts run unchanged.
// - Top-level helpers are static, so classes declared in the script can call them too. A script may
//   declare members with the same names; its own declarations then win (later submissions shadow earlier
//   ones). Internal names start with `__Cuttle`.
// - Service messages are written with one Console.Out.Write each and flushed; FailStep exits with 255 through
//   Environment.Exit, which a script's catch or finally cannot swallow (as Calamari's Environment.Exit(-1)).

#include <array>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "cuttle/bootstrappers/bootstrap.hpp"
#include "languages.hpp"

namespace cuttle::bootstrappers::detail {
namespace {

constexpr std::string_view bootstrap_text =
    R"csharp(// cuttle C# bootstrap: gives a hook script the Octopus helper API (OctopusParameters, SetVariable,
// CreateArtifact, UpdateProgress, FailStep, WriteVerbose/Highlight/Wait/Warning, Env.ScriptArgs, and the class
// form Octopus.Parameters, Octopus.SetVariable... when it is on). Code only: the variables arrive through the
// descriptor named by CUTTLE_VARIABLES_FD. See docs/scripts.md.
// Usage: dotnet cuttle-csharp-host.dll cuttle-bootstrap.csx SCRIPT [ARGS...]
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

/// cuttle's internals behind both forms of the API.
public static class __CuttleBootstrap
{
    public static Dictionary<string, string> Parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    public static ScriptArgsEnv Env = new ScriptArgsEnv(new List<string>());

    static void Fatal(string message)
    {
        Console.Out.Flush();
        Console.Error.WriteLine("cuttle: " + message);
        Environment.Exit(2);
    }

    public static void Start(IList<string> args)
    {
        Env = new ScriptArgsEnv(args);
        InitializeProxyFromTentacle();
        var fdText = Environment.GetEnvironmentVariable("CUTTLE_VARIABLES_FD");
        if (fdText == null)
            return;
        // Gone before the script runs: the environment of every process the script starts comes from here.
        Environment.SetEnvironmentVariable("CUTTLE_VARIABLES_FD", null);
        var unreadable = "cannot read the variables channel (descriptor " + fdText + ")";
        if (!int.TryParse(fdText, NumberStyles.None, CultureInfo.InvariantCulture, out var fd))
            Fatal(unreadable);
        byte[] data = null;
        try
        {
            // The handle owns the descriptor: disposing it closes the channel.
            using (var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle((IntPtr)fd, true))
            using (var channel = new FileStream(handle, FileAccess.Read, 1))
            {
                if (channel.CanSeek)
                {
                    data = new byte[channel.Length - channel.Position];
                    channel.ReadExactly(data);
                }
                else
                {
                    var buffer = new MemoryStream();
                    channel.CopyTo(buffer);
                    data = buffer.ToArray();
                }
            }
        }
        catch (Exception)
        {
            Fatal(unreadable);
        }
        var magic = "CUTTLE1\0"u8;
        if (data.Length < magic.Length || !data.AsSpan(0, magic.Length).SequenceEqual(magic) ||
            (data.Length > magic.Length && data[data.Length - 1] != 0))
            Fatal("the variables channel does not hold a cuttle payload");
        // Each name and value is decoded straight from the bytes, without one big string to split.
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var rest = data.AsSpan(magic.Length);
        while (!rest.IsEmpty)
        {
            var nameEnd = rest.IndexOf((byte)0);
            var valueEnd = rest.Slice(nameEnd + 1).IndexOf((byte)0);
            if (valueEnd < 0)
                Fatal("the variables channel does not hold a cuttle payload");
            parameters[Encoding.UTF8.GetString(rest.Slice(0, nameEnd))] =
                Encoding.UTF8.GetString(rest.Slice(nameEnd + 1, valueEnd));
            rest = rest.Slice(nameEnd + 1 + valueEnd + 1);
        }
        Parameters = parameters;
    }

    static string Encode(string value) => Convert.ToBase64String(Encoding.UTF8.GetBytes(value ?? ""));

    static void Emit(string text)
    {
        var output = Console.Out;
        output.Write(text);
        output.Flush();
    }

    static void Send(string message, params string[] attributes)
    {
        var line = new StringBuilder("##octopus[").Append(message);
        for (var i = 0; i + 1 < attributes.Length; i += 2)
            line.Append(' ').Append(attributes[i]).Append("='").Append(Encode(attributes[i + 1])).Append('\'');
        Emit(line.Append("]\n").ToString());
    }

    public static void Log(string level, string message) =>
        Emit("##octopus[stdout-" + level + "]\n" + message + "\n##octopus[stdout-default]\n");

    public static void SetVariable(string name, string value, bool sensitive)
    {
        name = name ?? "";
        value = value ?? "";
        if (sensitive)
            Send("setVariable", "name", name, "value", value, "sensitive", "True");
        else
            Send("setVariable", "name", name, "value", value);
        Parameters[name] = value;
    }

    public static void CreateArtifact(string path, string fileName)
    {
        fileName = fileName ?? Path.GetFileName(path);
        var full = Path.GetFullPath(path);
        var length = File.Exists(full) ? new FileInfo(full).Length.ToString(CultureInfo.InvariantCulture) : "0";
        Log("verbose", "Artifact " + fileName + " will be collected from " + full + " after this step completes");
        Send("createArtifact", "path", full, "name", fileName, "length", length);
    }

    public static void UpdateProgress(int percentage, string message) =>
        Send("progress", "percentage", percentage.ToString(CultureInfo.InvariantCulture), "message", message);

    public static void FailStep(string message)
    {
        if (!string.IsNullOrEmpty(message))
            Send("resultMessage", "message", message);
        Console.Out.Flush();
        Console.Error.Flush();
        Environment.Exit(255);
    }

    // Calamari's proxy set-up from the Tentacle's TentacleProxy* variables, for HttpClient and WebRequest.
    // Without any of them .NET's own default stays (HTTP_PROXY, HTTPS_PROXY, NO_PROXY).
    static void InitializeProxyFromTentacle()
    {
        if (Environment.GetEnvironmentVariable("TentacleProxyHost") != null ||
            Environment.GetEnvironmentVariable("TentacleUseDefaultProxy") != null)
            InitializeDefaultProxy();
    }

    public static void InitializeDefaultProxy()
    {
        var host = Environment.GetEnvironmentVariable("TentacleProxyHost");
        var user = Environment.GetEnvironmentVariable("TentacleProxyUsername");
        var password = Environment.GetEnvironmentVariable("TentacleProxyPassword");
        int.TryParse(Environment.GetEnvironmentVariable("TentacleProxyPort"), out var port);
        bool.TryParse(Environment.GetEnvironmentVariable("TentacleUseDefaultProxy"), out var useDefault);
        System.Net.IWebProxy proxy;
        if (!string.IsNullOrWhiteSpace(host))
            proxy = new System.Net.WebProxy(new UriBuilder("http", host, port).Uri)
            {
                Credentials = string.IsNullOrWhiteSpace(user) ? new System.Net.NetworkCredential()
                                                              : new System.Net.NetworkCredential(user, password)
            };
        else if (useDefault)
            return;
        else
            proxy = new System.Net.WebProxy();
        System.Net.Http.HttpClient.DefaultProxy = proxy;
#pragma warning disable SYSLIB0014
        System.Net.WebRequest.DefaultWebProxy = proxy;
#pragma warning restore SYSLIB0014
    }
}

/// `Env.ScriptArgs`: the script's arguments, as Calamari's dotnet-script bootstrap and ScriptCS give them.
public class ScriptArgsEnv
{
    public ScriptArgsEnv(IList<string> args)
    {
        ScriptArgs = args;
    }

    public IList<string> ScriptArgs { get; set; }
}

__CuttleBootstrap.Start(Args);

// The API as top-level members (dotnet-script).
static Dictionary<string, string> OctopusParameters => __CuttleBootstrap.Parameters;
static ScriptArgsEnv Env => __CuttleBootstrap.Env;
static void SetVariable(string name, string value, bool sensitive = false) => __CuttleBootstrap.SetVariable(name, value, sensitive);
static void CreateArtifact(string path, string fileName = null) => __CuttleBootstrap.CreateArtifact(path, fileName);
static void UpdateProgress(int percentage, string message = "") => __CuttleBootstrap.UpdateProgress(percentage, message);
static void FailStep(string message = null) => __CuttleBootstrap.FailStep(message);
static void WriteVerbose(string message) => __CuttleBootstrap.Log("verbose", message);
static void WriteHighlight(string message) => __CuttleBootstrap.Log("highlight", message);
static void WriteWait(string message) => __CuttleBootstrap.Log("wait", message);
static void WriteWarning(string message) => __CuttleBootstrap.Log("warning", message);
static void InitializeDefaultProxy() => __CuttleBootstrap.InitializeDefaultProxy();
)csharp";

// Appended when the class form is on (see the design notes).
constexpr std::string_view class_form_text = R"csharp(
// The API as the class Octopus (ScriptCS, Calamari's ClassBootstrap.csx).
public static class Octopus
{
    public static Dictionary<string, string> Parameters => __CuttleBootstrap.Parameters;
    public static void SetVariable(string name, string value, bool sensitive = false) => __CuttleBootstrap.SetVariable(name, value, sensitive);
    public static void CreateArtifact(string path, string fileName = null) => __CuttleBootstrap.CreateArtifact(path, fileName);
    public static void UpdateProgress(int percentage, string message = "") => __CuttleBootstrap.UpdateProgress(percentage, message);
    public static void FailStep(string message = null) => __CuttleBootstrap.FailStep(message);
    public static void WriteVerbose(string message) => __CuttleBootstrap.Log("verbose", message);
    public static void WriteHighlight(string message) => __CuttleBootstrap.Log("highlight", message);
    public static void WriteWait(string message) => __CuttleBootstrap.Log("wait", message);
    public static void WriteWarning(string message) => __CuttleBootstrap.Log("warning", message);
    public static void InitializeDefaultProxy() => __CuttleBootstrap.InitializeDefaultProxy();
}
)csharp";

constexpr std::string_view class_toggle = "Octopus.Action.Script.CSharp.UseOctopusClassBootstrapper";

// The members of the class form; a script that names one of them as `Octopus.<member>` wants the class.
constexpr std::array<std::string_view, 10> class_members{
    "Parameters",   "SetVariable",    "CreateArtifact", "UpdateProgress", "FailStep",
    "WriteVerbose", "WriteHighlight", "WriteWait",      "WriteWarning",   "InitializeDefaultProxy"};

bool is_identifier_byte(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

bool is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

// True when `text` holds `Octopus . <member>` as whole identifiers (whitespace allowed around the dot).
bool mentions_class_form(std::string_view text) {
  static constexpr std::string_view word = "Octopus";
  for (auto at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
    if (at > 0 && is_identifier_byte(text[at - 1])) continue;
    auto i = at + word.size();
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size() || text[i] != '.') continue;
    ++i;
    while (i < text.size() && is_space(text[i])) ++i;
    for (const auto member : class_members) {
      if (text.substr(i, member.size()) != member) continue;
      const auto end = i + member.size();
      if (end == text.size() || !is_identifier_byte(text[end])) return true;
    }
  }
  return false;
}

// .NET's bool.TryParse: "True" or "False" in any case, surrounded by optional whitespace.
std::optional<bool> parse_bool(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  auto iequals = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      auto c = static_cast<unsigned char>(a[i]);
      if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
      if (c != static_cast<unsigned char>(b[i])) return false;
    }
    return true;
  };
  if (iequals(text, "true")) return true;
  if (iequals(text, "false")) return false;
  return std::nullopt;
}

std::string read_file(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  return ok ? std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())
            : std::string();
}

}  // namespace

std::string csharp_preamble() { return std::string(bootstrap_text) + std::string(class_form_text); }

launch_plan csharp_plan(const std::string& script, const std::vector<std::string>& args,
                        const engine::variables& vars) {
  launch_plan plan;
  auto modules = script_modules(vars, language::csharp);
  const auto toggle = vars.get(std::string(class_toggle));
  std::optional<bool> class_form = toggle ? parse_bool(*toggle) : std::nullopt;
  if (!class_form) {
    // An unreadable script gets the class too: the host reports the script itself.
    bool readable = false;
    const auto text = read_file(script, readable);
    bool wanted = !readable || mentions_class_form(text);
    for (const auto& m : modules) wanted = wanted || mentions_class_form(m.content);
    class_form = wanted;
  }
  std::string boot(bootstrap_text);
  if (*class_form) boot += class_form_text;
  plan.files.push_back({std::string(csharp_bootstrap_name), std::move(boot)});
  for (auto& m : modules) plan.files.push_back({m.file_stem + ".csx", std::move(m.content)});
  plan.argv = {"dotnet", "{libexec}/csharp-host/cuttle-csharp-host.dll",
               "{dir}/" + std::string(csharp_bootstrap_name), script};
  plan.argv.insert(plan.argv.end(), args.begin(), args.end());
  return plan;
}

}  // namespace cuttle::bootstrappers::detail
