// Command-line parsing and help texts for `cuttle`.
// Tested by tests/runner/cli_test.cpp

#include "cli_options.hpp"

#include <cmath>
#include <cstdlib>
#include <string_view>

namespace cuttle::cli {

const char* main_help() {
  return R"(cuttle - Octopus-compatible variable templating

Usage:
  cuttle render [OPTIONS] [TEMPLATE_FILE|-]   render a template file (or stdin) to stdout or --output
  cuttle eval [OPTIONS] TEMPLATE_TEXT         render one template string given on the command line
  cuttle run [OPTIONS] SCRIPT [-- ARGS...]    run a hook script (Bash, Python, C#, F#, PowerShell)
  cuttle deploy [OPTIONS] PACKAGE             deploy a package through the Octopus conventions
                                              (hooks, substitution, transforms, structured config)
  cuttle mask [--sensitive-variables FILE]... [--mask TEXT]...
                                              copy stdin to stdout with every secret masked
  cuttle bootstrap --language L               print the helper preamble a script of language L gets
  cuttle --help | cuttle <command> --help     show help
  cuttle --version                            show the version

Variable options (render, eval, run and deploy; applied in the order given, later ones override earlier ones):
  --variables FILE            a JSON object name -> value (string as is, null = null value,
                              any other JSON value stored as its compact JSON text)
  --sensitive-variables FILE  the same format; values are sensitive and never printed in diagnostics
  --set NAME=VALUE            set one variable

Render options:
  --strict                    any unresolved variable, unknown or failing filter (e.g. invalid base64)
                              or parse error is an error: nothing is written and the exit status is 2
  --output FILE, -o FILE      write to FILE atomically instead of stdout (never a partial file)
  --continue-on-error         keep unparseable '#{' as text instead of outputting the whole
                              template unchanged (Octostache's haltOnError=false)

Run options (see cuttle run --help):
  --output-variables FILE     write the output variables the script set (a variables file)
  --sensitive-output-variables FILE
                              write the sensitive ones (mode 0600); they never go to --output-variables
  --language L                bash, python, csharp, fsharp or powershell (default: from the extension)
  --timeout SECONDS           stop the script after SECONDS (exit status 124)
  --log-format F              auto, plain, terminal or json (default auto: terminal on a tty)
  --artifacts DIR             collect the files the script names with createArtifact into DIR
  --fail-on-stderr            fail a run that wrote to stderr
  --mask TEXT                 mask TEXT too (any number of times)

Diagnostics go to stderr as FILE:LINE:COL: warning[E0xx]: message (see docs/diagnostics.md).

Exit status:
  0  rendered (warnings may have been printed)
  2  --strict found a problem; bad input (unreadable file, invalid variables JSON, bad option);
     or a fatal template error (recursive variable definition, exceeded limit)
  cuttle run exits with the script's exit status (see cuttle run --help for its own codes)
  cuttle deploy exits 0 when deployed, 1 when the deployment failed, 2 when it could not start
)";
}

const char* deploy_help() {
  return R"(Usage: cuttle deploy [--variables FILE]... [--sensitive-variables FILE]... [--set NAME=VALUE]...
                     [--install-root DIR] [--journal FILE] [--output-variables FILE]
                     [--sensitive-output-variables FILE] [--timeout SECONDS] [--log-format F] [--mask TEXT]...
                     PACKAGE

Deploys PACKAGE (a directory, .zip, .nupkg, .tar, .tar.gz/.tgz or .tar.bz2) the way Octopus Deploy's
deploy-package step does, switched by the same variables (see docs/deploy.md):
  extract to <root>/[<Tenant>/][<Environment>/]<PackageId>/<Version> (_1, _2 ... when taken; entries that
  would land outside are refused), PreDeploy (configured, then packaged), substitute variables in files,
  XML configuration transforms, XML configuration variables, structured configuration variables (JSON,
  YAML, XML, .properties), custom installation directory, Deploy, PostDeploy; on failure DeployFailed.
  Hook scripts (PreDeploy.sh, Deploy.py, PostDeploy.ps1 ...) run like cuttle run runs them.

  --install-root DIR          where packages are extracted (default: the variable
                              Octopus.Tentacle.Agent.ApplicationDirectoryPath, else $HOME/Applications)
  --journal FILE              the deployment journal (default: <install root>/DeploymentJournal.json)
  --output-variables FILE     write the output variables (hooks' and the install directory's)
  --sensitive-output-variables FILE
                              write the sensitive ones (mode 0600)
  --timeout SECONDS           stop a hook script that runs longer (the deployment then fails)
  --log-format F              auto, plain, terminal or json
  --mask TEXT                 mask TEXT too (any number of times)

The id and version come from the file name (Acme.Web.1.0.0.zip) or from Octopus.Action.Package.PackageId
and Octopus.Action.Package.PackageVersion. Each convention prints one line: what it changed and how long
it took.
Exit status: 0 deployed; 1 the deployment failed (DeployFailed ran); 2 bad options, variables or package
name: nothing was deployed.
)";
}

const char* render_help() {
  return R"(Usage: cuttle render [--variables FILE]... [--sensitive-variables FILE]... [--set NAME=VALUE]...
                     [--strict] [--continue-on-error] [--output FILE] [TEMPLATE_FILE|-]

Renders TEMPLATE_FILE (stdin when omitted or '-') with the Octopus variable syntax (#{Name},
#{Name | Filter}, #{if}, #{unless}, #{each}, #{calc}; see docs/syntax.md). All 46 Octostache filters are
built in (docs/filters.md); dates use the en-US culture and the local time zone (TZ).

  --variables FILE            load a variables file: a JSON object name -> value. Strings are used as they
                              are, null is a null value, other JSON values are stored as compact JSON text.
  --sensitive-variables FILE  the same format; values are masked (********) in everything cuttle prints
  --set NAME=VALUE            set one variable (after the files given before it)
  --strict                    unresolved variables, unknown or failing filters and parse errors are errors:
                              nothing is written to stdout or --output, exit status 2
  --output FILE, -o FILE      write the result to FILE atomically (temporary file + rename)
  --continue-on-error         keep unparseable '#{' as literal text and go on (default: Octostache's halting
                              mode, which outputs the whole template unchanged when any '#{' fails to parse)

By default the output is byte-identical to Octostache's and every problem is a warning on stderr
(FILE:LINE:COL: warning[E0xx]: ...) with exit status 0.
Exit status: 0 rendered; 2 strict failure, bad input or fatal template error.
)";
}

const char* eval_help() {
  return R"(Usage: cuttle eval [--variables FILE]... [--sensitive-variables FILE]... [--set NAME=VALUE]...
                   [--strict] [--continue-on-error] TEMPLATE_TEXT

Renders TEMPLATE_TEXT (one command-line argument) to stdout. Options as for `cuttle render`.
Example: cuttle eval --set Name=World 'Hello #{Name | ToUpper}'
)";
}

const char* run_help() {
  return R"(Usage: cuttle run [--variables FILE]... [--sensitive-variables FILE]... [--set NAME=VALUE]...
                  [--output-variables FILE] [--sensitive-output-variables FILE] [--language L]
                  [--timeout SECONDS] [--log-format F] [--artifacts DIR] [--fail-on-stderr]
                  [--mask TEXT]... SCRIPT [-- ARGS...]

Runs SCRIPT with its interpreter (found on PATH and started directly, without a shell), giving it the
Octopus helper API (get_octopusvariable, set_octopusvariable, fail_step, ...; see docs/scripts.md) and the
variables. Values never touch the disk, a command line or an environment block: they reach the script
through a sealed memory file that only it can read, once. ARGS are passed to the script as separate
arguments. stdin is the script's. Its stdout and stderr are read for service messages (##octopus[...],
docs/service-messages.md), every secret in them is masked (docs/masking.md), and they are printed with
their log levels.

  --variables FILE            load a variables file (JSON object name -> value), as for cuttle render
  --sensitive-variables FILE  the same format; the values are sensitive and masked in all output
  --set NAME=VALUE            set one variable (sources apply in the order given; later ones win)
  --output-variables FILE     when the script ends, write the output variables it set (setVariable
                              service messages) to FILE atomically, as a variables file: each as Name
                              and, when Octopus.Action.Name is set, as Octopus.Action[<action>].Output.Name.
                              FILE can be loaded again with --variables
  --sensitive-output-variables FILE
                              the same for the sensitive output variables, written with mode 0600; they
                              are never written to --output-variables (a warning names any that are lost)
  --language L                bash (sh), python (py), csharp (cs, csx), fsharp (fs, fsx) or powershell
                              (ps1, pwsh); by default from the extension: .sh .py .csx .fsx .ps1
  --timeout SECONDS           stop the script after SECONDS (decimals allowed): SIGTERM to its process
                              group, SIGKILL 5 s later; the exit status is then 124
  --log-format F              plain: lines at levels other than info (stdout) and error (stderr) start
                              with "verbose: ", "warning: " ...; terminal: colours and a progress bar;
                              json: one JSON object per line {time, stream, level, text} on stdout;
                              auto (the default): terminal when stdout is a terminal, else plain
  --artifacts DIR             after the script ends, copy the files it named with createArtifact into DIR,
                              with DIR/manifest.json; a missing file is a warning
  --fail-on-stderr            a script that exits 0 but wrote to stderr fails with status 1 (also when the
                              variable Octopus.Action.FailScriptOnErrorOutput is True)
  --mask TEXT                 mask TEXT in all output, like a sensitive value
SIGINT, SIGTERM and SIGHUP sent to cuttle are passed on to the script's process group, which gets 5 s to
end before SIGKILL; cuttle then exits with 128+N for signal N.

Exit status: the script's own (128+N when signal N ended it), or
  1    --fail-on-stderr: the script succeeded but wrote to stderr
  2    bad input: options, variables, an unreadable script, an unsupported language
  124  --timeout expired
  126  the interpreter was found but cannot be executed
  127  the interpreter is not on PATH (the message says how to install it)
  255  the script called the fail-step helper
)";
}

const char* mask_help() {
  return R"(Usage: cuttle mask [--sensitive-variables FILE]... [--mask TEXT]...

Copies stdin to stdout with every secret replaced by ******** : the values of the variables files (all
of them are treated as sensitive) and each TEXT. The masker is the one cuttle run uses (docs/masking.md):
secrets split across reads or lines are found, common encodings of a secret (base64, URL, JSON) are
masked too. From a pipe or a terminal, text that cannot be part of a secret is written at once; a
regular file on stdin is read in chunks and masked on a second thread, holding back at most the length
of the longest secret's form between chunks (a file has no reader waiting for its next line).

  --sensitive-variables FILE  a variables file (JSON object name -> value) whose values are secrets
  --mask TEXT                 a secret given directly

Exit status: 0 done; 2 an unreadable variables file, or a read or write error.
)";
}

const char* bootstrap_help() {
  return R"(Usage: cuttle bootstrap --language L

Prints the preamble that cuttle run gives scripts of language L, for inspection. It is code only: the
variables are never part of it.

  --language L                bash (sh), python (py), csharp (cs, csx), fsharp (fs, fsx), powershell (ps1)

Exit status: 0 printed; 2 unknown or unsupported language.
)";
}

namespace {

/// SECONDS for --timeout: a finite number greater than zero.
std::optional<double> parse_seconds(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v) || v <= 0 || v > 1e9) return std::nullopt;
  return v;
}

}  // namespace

std::optional<cli_options> parse_command_line(int argc, char** argv, std::string& error) {
  cli_options o;
  if (argc < 2) {
    o.cmd = command::help;
    return o;
  }
  const std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    o.cmd = command::help;
    return o;
  }
  if (cmd == "--version") {
    o.cmd = command::version;
    return o;
  }
  if (cmd == "render") {
    o.cmd = command::render;
  } else if (cmd == "eval") {
    o.cmd = command::eval;
  } else if (cmd == "run") {
    o.cmd = command::run;
  } else if (cmd == "deploy") {
    o.cmd = command::deploy;
  } else if (cmd == "bootstrap") {
    o.cmd = command::bootstrap;
  } else if (cmd == "mask") {
    o.cmd = command::mask;
  } else {
    error = "unknown command '" + std::string(cmd) +
            "' (expected render, eval, run, deploy, mask or bootstrap; see cuttle --help)";
    return std::nullopt;
  }
  bool options_done = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        error = std::string(a) + " needs a value";
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    const bool templating = o.cmd == command::render || o.cmd == command::eval;
    const bool running = o.cmd == command::run;
    const bool deploying = o.cmd == command::deploy;
    const bool hooks = running || deploying;
    if (!options_done && a == "--") {
      options_done = true;
    } else if (!options_done && (a == "--help" || a == "-h")) {
      o.help = true;
    } else if (!options_done && (running || o.cmd == command::bootstrap) && a == "--language") {
      if (!value(v)) return std::nullopt;
      o.language = v;
    } else if (!options_done && hooks && a == "--output-variables") {
      if (!value(v)) return std::nullopt;
      o.output_variables = v;
    } else if (!options_done && hooks && a == "--sensitive-output-variables") {
      if (!value(v)) return std::nullopt;
      o.sensitive_output_variables = v;
    } else if (!options_done && hooks && a == "--timeout") {
      if (!value(v)) return std::nullopt;
      o.timeout_seconds = parse_seconds(v);
      if (!o.timeout_seconds) {
        error = "--timeout '" + v + "': expected a number of seconds greater than zero";
        return std::nullopt;
      }
    } else if (!options_done && hooks && a == "--log-format") {
      if (!value(v)) return std::nullopt;
      if (v != "auto" && v != "plain" && v != "terminal" && v != "json") {
        error = "--log-format '" + v + "': expected auto, plain, terminal or json";
        return std::nullopt;
      }
      o.log_format = v;
    } else if (!options_done && running && a == "--artifacts") {
      if (!value(v)) return std::nullopt;
      o.artifacts_dir = v;
    } else if (!options_done && running && a == "--fail-on-stderr") {
      o.fail_on_stderr = true;
    } else if (!options_done && deploying && a == "--install-root") {
      if (!value(v)) return std::nullopt;
      o.install_root = v;
    } else if (!options_done && deploying && a == "--journal") {
      if (!value(v)) return std::nullopt;
      o.journal = v;
    } else if (!options_done && (hooks || o.cmd == command::mask) && a == "--mask") {
      if (!value(v)) return std::nullopt;
      o.masks.push_back(v);
    } else if (o.cmd == command::mask && !options_done && a == "--sensitive-variables") {
      if (!value(v)) return std::nullopt;
      o.sources.push_back({runner::variable_source::kind::sensitive_file, v});
    } else if (o.cmd == command::mask) {
      error =
          "unexpected argument '" + std::string(a) + "' (cuttle mask filters stdin; see cuttle mask --help)";
      return std::nullopt;
    } else if (o.cmd == command::bootstrap) {
      error = "unexpected argument '" + std::string(a) + "' (see cuttle bootstrap --help)";
      return std::nullopt;
    } else if (running && o.have_input && options_done) {
      o.script_args.emplace_back(a);
    } else if (!options_done && a == "--variables") {
      if (!value(v)) return std::nullopt;
      o.sources.push_back({runner::variable_source::kind::file, v});
    } else if (!options_done && a == "--sensitive-variables") {
      if (!value(v)) return std::nullopt;
      o.sources.push_back({runner::variable_source::kind::sensitive_file, v});
    } else if (!options_done && a == "--set") {
      if (!value(v)) return std::nullopt;
      o.sources.push_back({runner::variable_source::kind::assignment, v});
    } else if (!options_done && templating && a == "--strict") {
      o.strict = true;
    } else if (!options_done && templating && a == "--continue-on-error") {
      o.continue_on_error = true;
    } else if (!options_done && templating && (a == "--output" || a == "-o")) {
      if (!value(v)) return std::nullopt;
      o.output = v;
    } else if (!options_done && a.size() > 1 && a[0] == '-' && !(a == "-" && o.cmd == command::render)) {
      error = "unknown option '" + std::string(a) + "' (see cuttle " + std::string(cmd) + " --help)";
      return std::nullopt;
    } else if (deploying) {
      if (o.have_input) {
        error = "more than one package given ('" + o.input + "' and '" + std::string(a) + "')";
        return std::nullopt;
      }
      o.input = a;
      o.have_input = true;
    } else if (running) {
      if (o.have_input) {
        error =
            "unexpected argument '" + std::string(a) + "' after the script (put script arguments after --)";
        return std::nullopt;
      }
      o.input = a;
      o.have_input = true;
    } else {
      if (o.have_input) {
        error = "more than one " + std::string(o.cmd == command::eval ? "template text" : "template file") +
                " given ('" + o.input + "' and '" + std::string(a) + "')";
        return std::nullopt;
      }
      o.input = a;
      o.have_input = true;
    }
  }
  if (o.cmd == command::eval && !o.have_input && !o.help) {
    error = "eval needs the template text as an argument (see cuttle eval --help)";
    return std::nullopt;
  }
  if (o.cmd == command::run && !o.have_input && !o.help) {
    error = "run needs the script to run (see cuttle run --help)";
    return std::nullopt;
  }
  if (o.cmd == command::deploy && !o.have_input && !o.help) {
    error = "deploy needs the package to deploy (see cuttle deploy --help)";
    return std::nullopt;
  }
  if (o.cmd == command::bootstrap && !o.language && !o.help) {
    error = "bootstrap needs --language L (see cuttle bootstrap --help)";
    return std::nullopt;
  }
  return o;
}

}  // namespace cuttle::cli
