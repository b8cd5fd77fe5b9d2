// `cuttle deploy`: extraction, then the conventions of calamari-spec §5.1 in their order, each switched by
// the Octopus variables that switch it there, with DeployFailed and the journal on the way out.
// Tested by tests/deploy/deploy_test.cpp
//
// Design. One `deployment` object holds the variables (hooks' output variables are added as they appear, so
// later conventions and hooks see them), the current directory (the staging directory, then the custom
// installation directory), the secrets to mask and the log. A failing convention throws `deploy_failure`;
// run() catches it, runs the rollback conventions and writes the journal. Hook scripts run through
// execute_script (the same preamble, variables channel, service messages and masking as `cuttle run`), with
// the current directory as their working directory. Configured (inline) scripts are written to a private
// 0700 directory, never into the application directory, and removed after they ran.

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include "cuttle/bootstrappers/bootstrap.hpp"
#include "cuttle/engine/template.hpp"
#include "cuttle/runner/deploy/deploy.hpp"
#include "cuttle/runner/deploy/deploy_files.hpp"
#include "cuttle/runner/deploy/package.hpp"
#include "cuttle/runner/deploy/structured_config.hpp"
#include "cuttle/runner/deploy/xml_config.hpp"
#include "cuttle/runner/files.hpp"
#include "cuttle/runner/script_run.hpp"
#include "cuttle/runner/service_messages.hpp"
#include "structured_text.hpp"

namespace cuttle::runner::deploy {
namespace {

namespace fs = std::filesystem;
namespace bs = cuttle::bootstrappers;
using steady = std::chrono::steady_clock;

/// A convention failed: the deployment stops and the rollback conventions run.
struct deploy_failure {
  std::string message;
};

bool iequals(std::string_view a, std::string_view b) {
  return detail::lower_ascii(a) == detail::lower_ascii(b);
}

/// A path component made safe: no separators, not "." or "..".
std::string path_component(std::string s) {
  for (auto& c : s) {
    if (c == '/' || c == '\\' || c == '\0') c = '_';
  }
  if (s == "." || s == "..") s = "_";
  return s;
}

/// `path` relative to `base`, lexically (no system calls: it runs once per substituted file).
std::string relative_to(const std::string& path, const std::string& base) {
  const auto rel = fs::path(path).lexically_relative(base);
  return rel.empty() || *rel.begin() == ".." ? path : rel.string();
}

std::string utc_now_iso() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string random_id() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}", rd(), rd());
}

/// Hook stages whose packaged scripts are found by name.
constexpr std::string_view pre_deploy = "PreDeploy";
constexpr std::string_view deploy_stage = "Deploy";
constexpr std::string_view post_deploy = "PostDeploy";
constexpr std::string_view deploy_failed = "DeployFailed";

/// Configured-script syntaxes in Calamari's enum order, with their variable suffix.
struct configured_syntax {
  std::string_view display;
  std::string_view extension;
  bs::language lang;
};
constexpr configured_syntax configured_syntaxes[] = {
    {"PowerShell", "ps1", bs::language::powershell},
    {"CSharp", "csx", bs::language::csharp},
    {"Bash", "sh", bs::language::bash},
    {"Python", "py", bs::language::python},
    {"FSharp", "fsx", bs::language::fsharp},
};

class deployment {
 public:
  deployment(const deploy_options& o, engine::variables vars, log_format format)
      : o_(o), vars_(std::move(vars)), format_(format), log_(format, STDOUT_FILENO, STDERR_FILENO) {
    for (const auto& v : vars_.entries()) {
      if (v.sensitive && v.value && !v.value->empty()) secrets_.push_back(*v.value);
    }
    secrets_.insert(secrets_.end(), o.masks.begin(), o.masks.end());
  }

  int run();

 private:
  // --- variables
  // --------------------------------------------------------------------------------------------
  std::string get(std::string_view name) const { return vars_.get(name).value_or(""); }
  /// Calamari's GetFlag: "true"/"false" in any case; anything else (or nothing) is the default.
  bool flag(std::string_view name, bool fallback) const {
    auto v = get(name);
    const auto t = detail::lower_ascii(v);
    auto trimmed = std::string_view(t);
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front())))
      trimmed.remove_prefix(1);
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
      trimmed.remove_suffix(1);
    if (trimmed == "true") return true;
    if (trimmed == "false") return false;
    return fallback;
  }
  bool feature_enabled(std::string_view feature) const {
    for (const auto& f : split_list(get("Octopus.Action.EnabledFeatures"), true)) {
      if (iequals(f, feature)) return true;
    }
    return false;
  }
  /// Sets a variable for the rest of the deployment and records it as an output variable.
  void set_output(const std::string& name, std::optional<std::string> value, bool sensitive = false) {
    if (sensitive && value && !value->empty()) secrets_.push_back(*value);
    vars_.set(name, value, sensitive);
    outputs_.set(name, std::move(value), sensitive);
  }

  // --- log
  // --------------------------------------------------------------------------------------------------
  void note(log_level l, std::string_view text) { log_.note(l, mask_secrets(text, secrets_)); }
  void info(std::string_view text) { note(log_level::info, text); }
  void verbose(std::string_view text) { note(log_level::verbose, text); }
  void warning(std::string_view text) { note(log_level::warning, text); }
  [[noreturn]] void fail(std::string message) { throw deploy_failure{std::move(message)}; }

  /// Runs one convention, then prints its line: name, what it did, how long it took.
  template <class F>
  void convention(std::string_view name, F&& body) {
    const auto start = steady::now();
    const std::string summary = body();
    const auto ms = std::chrono::duration<double, std::milli>(steady::now() - start).count();
    if (!summary.empty()) info(fmt::format("[{}] {} ({:.0f} ms)", name, summary, ms));
  }
  bool skip_remaining() const { return flag("Octopus.Action.SkipRemainingConventions", false); }

  // --- steps
  // ------------------------------------------------------------------------------------------------
  std::string already_installed();
  std::string extract();
  std::string feature_scripts(std::string_view stage);
  std::string configured_scripts(std::string_view stage);
  std::string packaged_scripts(std::string_view stage, bool delete_after);
  std::string substitute_in_files();
  std::string configuration_transforms();
  std::string configuration_variables();
  std::string structured_variables();
  std::string custom_installation_directory();
  void rollback();
  void cleanup_after_success();
  void write_journal(bool successful);
  bool write_output_files();

  /// Runs a hook script with the current directory as its working directory; merges its output variables.
  void run_hook(const std::string& path, bs::language lang, const std::string& display);
  std::vector<structured_variable> structured_vars() const;
  std::vector<std::string> search_bases() const;

  const deploy_options& o_;
  engine::variables vars_;
  engine::variables outputs_;
  log_format format_;
  log_writer log_;
  std::vector<std::string> secrets_;
  std::string package_id_;
  std::string package_version_;
  std::string root_;
  std::string journal_;
  std::string staging_;
  std::string current_;
  bool skip_journal_ = false;
};

// --- hooks
// ----------------------------------------------------------------------------------------------------

void deployment::run_hook(const std::string& path, bs::language lang, const std::string& display) {
  if (!bs::is_supported(lang))
    fail(fmt::format("{} scripts are not supported by this build ({})", bs::language_name(lang), display));
  info(fmt::format("Running {}", display));
  script_execution e;
  e.script = path;
  e.script_language = lang;
  e.working_directory = current_;
  e.timeout_seconds = o_.timeout_seconds;
  e.format = format_;
  e.masks = secrets_;
  auto r = execute_script(e, vars_);
  for (const auto& v : r.outputs.entries()) set_output(v.name, v.value, v.sensitive);
  if (!r.started)
    fail(fmt::format("Script '{}' could not be started (exit code {}). Deployment terminated.", display,
                     r.code));
  if (r.failed_on_stderr)
    fail(fmt::format("Script '{}' returned zero exit code but had error output. Deployment terminated.",
                     display));
  if (r.code != 0)
    fail(fmt::format("Script '{}' returned non-zero exit code: {}. Deployment terminated.", display, r.code));
}

/// The files `<base>.<ext>` at the top level of `dir`: every one of them, and the scripts among them in the
/// Linux preference order (sh, py, csx, fsx, ps1).
struct stage_files {
  struct script {
    std::string name;
    bs::language lang;
  };
  std::vector<script> scripts;
  std::vector<std::string> all;
};

stage_files find_stage_files(const std::string& dir, std::string_view base, bool ignore_case) {
  stage_files found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const auto name = it->path().filename().string();
    const auto dot = name.rfind('.');
    if (dot == std::string::npos) continue;
    const auto stem = std::string_view(name).substr(0, dot);
    if (ignore_case ? !iequals(stem, base) : stem != base) continue;
    found.all.push_back(name);
    if (auto lang = bs::language_from_path(name)) found.scripts.push_back({name, *lang});
  }
  std::sort(found.scripts.begin(), found.scripts.end(), [](const auto& a, const auto& b) {
    return a.lang != b.lang ? a.lang < b.lang : a.name < b.name;
  });
  return found;
}

std::string deployment::packaged_scripts(std::string_view stage, bool delete_after) {
  if (current_.empty() || !flag("Octopus.Action.Package.RunScripts", true)) return {};
  const auto found = find_stage_files(current_, stage, true);
  const auto& scripts = found.scripts;
  if (scripts.empty()) return {};
  if (scripts.size() > 1) {
    std::string list;
    for (const auto& s : scripts) list += (list.empty() ? "" : ", ") + s.name;
    verbose(fmt::format("Found {} {} scripts. Selected {} based on OS preferential ordering: {}",
                        scripts.size(), stage, scripts.front().name, list));
  }
  const auto& chosen = scripts.front();
  run_hook(current_ + "/" + chosen.name, chosen.lang, chosen.name);
  std::string summary = "ran " + chosen.name;
  if (delete_after && flag("OctopusDeleteScriptsOnCleanup", true)) {
    for (const auto& name : found.all) ::unlink((current_ + "/" + name).c_str());
    summary +=
        fmt::format(", deleted {} {}.* file{}", found.all.size(), stage, found.all.size() == 1 ? "" : "s");
  }
  return summary;
}

std::string deployment::configured_scripts(std::string_view stage) {
  if (!feature_enabled("Octopus.Features.CustomScripts")) return {};
  std::string summary;
  for (const auto& syntax : configured_syntaxes) {
    const auto name = fmt::format("Octopus.Action.CustomScripts.{}.{}", stage, syntax.extension);
    const auto raw = vars_.get_raw(name);
    if (!raw || raw->find_first_not_of(" \t\r\n") == std::string::npos) continue;
    if (!bs::is_supported(syntax.lang))
      fail(fmt::format("{} scripts are not supported on this platform ({})", syntax.display, stage));
    // The body is a template (Octopus substitutes variables in inline scripts); it may hold secrets, so it
    // goes to a private directory, not the application directory.
    const auto body = vars_.get(name).value_or("");
    private_dir dir;
    if (auto err = dir.create("cuttle-deploy"))
      fail(fmt::format("cannot create a private directory for the {} script: {}", name, *err));
    const auto file = dir.path() + "/" + name;
    if (auto err = write_new_private_file(file, body)) fail(*err);
    run_hook(file, syntax.lang, name);
    summary += (summary.empty() ? "ran " : ", ") + name;
  }
  return summary;
}

std::string deployment::feature_scripts(std::string_view stage) {
  if (current_.empty()) return {};
  std::string summary;
  for (const auto& feature : split_list(get("Octopus.Action.EnabledFeatures"), true)) {
    // <Feature>_<Stage>.<ext> in the current directory: the preferred one runs (Calamari runs every
    // extension, so a feature with .sh and .ps1 ran twice on Linux).
    const auto found = find_stage_files(current_, feature + "_" + std::string(stage), false);
    if (found.scripts.empty()) continue;
    const auto& chosen = found.scripts.front();
    run_hook(current_ + "/" + chosen.name, chosen.lang, chosen.name);
    for (const auto& script : found.scripts) ::unlink((current_ + "/" + script.name).c_str());
    summary += (summary.empty() ? "ran " : ", ") + chosen.name;
  }
  return summary;
}

// --- the conventions --------------------------------------------------------------------------------------

std::string deployment::already_installed() {
  if (!flag("Octopus.Action.Package.SkipIfAlreadyInstalled", false)) return {};
  const auto found =
      find_successful_deployment(journal_, get("OctopusRetentionPolicySet"), package_id_, package_version_);
  if (!found.error.empty()) fail(found.error);
  if (!found.entry) return "no earlier successful deployment of this version in the journal";
  info("The package has already been installed on this machine, so installation will be skipped.");
  set_output("Octopus.Action.Package.InstallationDirectoryPath", found.entry->installed_to);
  set_output("Package.InstallationDirectoryPath", found.entry->installed_to);
  vars_.set("Octopus.Action.SkipRemainingConventions", "True");
  skip_journal_ = true;
  return "already installed at " + found.entry->installed_to + " on " + found.entry->installed_on;
}

std::string deployment::extract() {
  fs::path dir(root_);
  const auto tenant = get("Octopus.Deployment.Tenant.Name");
  const auto environment = get("Octopus.Environment.Name");
  if (!tenant.empty()) dir /= path_component(tenant);
  if (!environment.empty()) dir /= path_component(environment);
  dir /= path_component(package_id_);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(fmt::format("cannot create the directory '{}': {}", dir.string(), ec.message()));
  // mkdir is the reservation: a concurrent deployment of the same version gets the next suffix.
  std::string target;
  for (int n = 0; n < 10000; ++n) {
    const auto candidate = (dir / (n == 0 ? path_component(package_version_)
                                          : path_component(package_version_) + "_" + std::to_string(n)))
                               .string();
    if (::mkdir(candidate.c_str(), 0755) == 0) {
      target = candidate;
      break;
    }
    if (errno != EEXIST)
      fail(fmt::format("cannot create the directory '{}': {}", candidate, std::strerror(errno)));
  }
  if (target.empty()) fail("no free directory name for the package under " + dir.string());
  info("Extracting package to: " + target);
  const auto r = extract_package(o_.package, target);
  if (!r.ok) {
    fs::remove_all(target, ec);
    fail(r.error);
  }
  info(fmt::format("Extracted {} files", r.files));
  staging_ = target;
  current_ = target;
  vars_.set("OctopusOriginalPackageDirectoryPath", target);
  set_output("Octopus.Action.Package.InstallationDirectoryPath", target);
  set_output("Package.InstallationDirectoryPath", target);
  set_output("Package.ExtractedFileCount", std::to_string(r.files));
  return fmt::format("{} files to {}", r.files, target);
}

std::vector<std::string> deployment::search_bases() const {
  std::vector<std::string> bases{current_};
  for (const auto& p : split_list(get("Octopus.Action.AdditionalPaths"), true)) bases.push_back(p);
  return bases;
}

std::string deployment::substitute_in_files() {
  if (!feature_enabled("Octopus.Features.SubstituteInFiles")) return {};
  const bool warn_no_match = flag("Octopus.Action.SubstituteInFiles.EnableNoMatchWarning", true);
  const bool fail_on_error = flag("OctopusShouldFailDeploymentOnSubstitutionFails", false);
  std::optional<text_encoding> output_encoding;
  if (const auto name = get("Octopus.Action.SubstituteInFiles.OutputEncoding"); !name.empty()) {
    output_encoding = encoding_from_name(name);
    if (!output_encoding) warning("Unknown output encoding '" + name + "'; files keep their own encoding");
  }
  std::size_t changed = 0;
  std::size_t seen = 0;
  for (const auto& pattern : split_list(get("Octopus.Action.SubstituteInFiles.TargetFiles"), false)) {
    std::vector<std::string> files;
    for (const auto& base : search_bases()) {
      auto m = find_files(base, pattern);
      files.insert(files.end(), m.files.begin(), m.files.end());
    }
    if (files.empty()) {
      if (warn_no_match)
        warning("No files were found that match the substitution target pattern '" + pattern + "'");
      continue;
    }
    for (const auto& file : files) {
      ++seen;
      std::string bytes;
      if (auto err = read_file(file, bytes)) fail(*err);
      auto decoded = decode_text(bytes);
      if (!engine::needs_evaluation(decoded.utf8) && !output_encoding) continue;
      engine::parse_options po;
      po.source_name = relative_to(file, current_);
      po.halt_on_error = false;
      auto rendered = engine::evaluate(decoded.utf8, vars_, po);
      if (!rendered.octostache_error.empty() || rendered.failed) {
        std::string why;
        for (const auto& d : rendered.diagnostics) why += (why.empty() ? "" : "; ") + d.to_string();
        if (fail_on_error || rendered.failed)
          fail("Parsing file '" + file + "' with Octostache returned the following error: " + why);
        verbose("Parsing file '" + file + "' with Octostache returned the following error: " + why);
      }
      const auto encoding = output_encoding.value_or(decoded.encoding);
      auto out = encode_text(rendered.output.value_or(""), encoding);
      if (!out) {
        verbose("'" + file + "' now holds characters " + std::string(encoding_name(encoding)) +
                " cannot hold; written as UTF-8");
        out = encode_text(rendered.output.value_or(""), text_encoding::utf8);
      }
      if (*out == bytes) continue;
      verbose("Performing variable substitution on '" + file + "'");
      if (auto err = write_file_atomically(file, *out, false)) fail(*err);
      ++changed;
    }
  }
  return fmt::format("{} of {} files changed", changed, seen);
}

/// Reads a file as UTF-8 text (decoding its encoding), failing the deployment when it cannot be read.
decoded_text read_text(const std::string& path) {
  std::string bytes;
  if (auto err = read_file(path, bytes)) throw deploy_failure{*err};
  return decode_text(bytes);
}

void write_text(const std::string& path, std::string_view utf8, text_encoding encoding) {
  auto out = encode_text(utf8, encoding);
  if (!out) out = std::string(utf8);
  if (auto err = write_file_atomically(path, *out, false)) throw deploy_failure{*err};
}

/// True when `name` looks like a transform of another .config file in the same directory
/// ("Web.Release.config" beside "Web.config").
bool is_transform_file(const fs::path& p) {
  const auto name = p.filename().string();
  if (!iequals(p.extension().string(), ".config")) return false;
  const auto stem = p.stem().string();  // Web.Release
  const auto dot = stem.rfind('.');
  if (dot == std::string::npos || dot == 0) return false;
  std::error_code ec;
  const auto base = stem.substr(0, dot) + ".config";
  for (fs::directory_iterator it(p.parent_path(), ec), end; !ec && it != end; it.increment(ec)) {
    if (iequals(it->path().filename().string(), base)) return true;
  }
  return false;
}

/// The file in `dir` named `name`, compared case-insensitively; empty when there is none.
std::string find_in_dir(const fs::path& dir, std::string_view name) {
  std::error_code ec;
  std::string exact;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto n = it->path().filename().string();
    if (n == name) return it->path().string();
    if (exact.empty() && iequals(n, name) && it->is_regular_file(ec)) exact = it->path().string();
  }
  return exact;
}

std::string deployment::configuration_transforms() {
  if (!feature_enabled("Octopus.Features.ConfigurationTransforms")) return {};
  const bool ignore_errors = flag("Octopus.Action.Package.IgnoreConfigTransformationErrors", false);
  const bool warnings_are_errors =
      flag("Octopus.Action.Package.TreatConfigTransformationWarningsAsErrors", false);
  std::vector<std::pair<std::string, std::string>> pairs;  // transform, target
  if (flag("Octopus.Action.Package.AutomaticallyRunConfigurationTransformationFiles", true)) {
    for (const auto& config : find_files(current_, "**/*.config").files) {
      const fs::path p(config);
      if (is_transform_file(p)) continue;
      const auto stem = p.stem().string();
      for (const auto& middle :
           {std::string("Release"), get("Octopus.Environment.Name"), get("Octopus.Deployment.Tenant.Name")}) {
        if (middle.empty()) continue;
        const auto t = find_in_dir(p.parent_path(), stem + "." + middle + ".config");
        if (!t.empty() && std::find(pairs.begin(), pairs.end(), std::make_pair(t, config)) == pairs.end())
          pairs.emplace_back(t, config);
      }
    }
  }
  for (const auto& entry :
       split_list(get("Octopus.Action.Package.AdditionalXmlConfigurationTransforms"), true)) {
    const auto arrow = entry.find("=>");
    std::string transform = arrow == std::string::npos ? entry : entry.substr(0, arrow);
    std::string target = arrow == std::string::npos ? "" : entry.substr(arrow + 2);
    auto trim = [](std::string& s) {
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t") + 1);
    };
    trim(transform);
    trim(target);
    const auto matches = find_files(current_, transform).files;
    if (matches.empty()) {
      const auto text = "The transform pattern '" + transform + "' matched no file, so it was not performed";
      if (warnings_are_errors) fail(text);
      warning(text);
      continue;
    }
    for (const auto& t : matches) {
      const fs::path tp(t);
      std::string target_path;
      if (target.empty()) {
        // Web.Foo.config -> Web.config beside it.
        const auto stem = tp.stem().string();
        const auto dot = stem.rfind('.');
        if (dot == std::string::npos) {
          warning("Cannot tell the target of the transform '" + t + "'; write it as 'transform => target'");
          continue;
        }
        target_path = (tp.parent_path() / (stem.substr(0, dot) + tp.extension().string())).string();
      } else if (target.find('*') != std::string::npos) {
        // The part of the transform's name that its '*' matched replaces the target's '*'.
        const auto tname = fs::path(transform).filename().string();
        const auto star = tname.find('*');
        const auto fname = tp.filename().string();
        std::string captured;
        if (star != std::string::npos && fname.size() >= tname.size() - 1)
          captured = fname.substr(star, fname.size() - (tname.size() - 1));
        auto tgt = target;
        tgt.replace(tgt.find('*'), 1, captured);
        target_path =
            fs::path(tgt).is_absolute() ? tgt : (tp.parent_path() / fs::path(tgt).filename()).string();
        if (fs::path(tgt).has_parent_path() && !fs::path(tgt).is_absolute())
          target_path = (fs::path(current_) / tgt).string();
      } else {
        target_path = fs::path(target).is_absolute() ? target : (fs::path(current_) / target).string();
        if (!fs::path(target).has_parent_path()) target_path = (tp.parent_path() / target).string();
      }
      if (!fs::exists(target_path)) {
        const auto text = "The transform '" + t + "' has no target file '" + target_path + "'";
        if (warnings_are_errors) fail(text);
        warning(text);
        continue;
      }
      if (std::find(pairs.begin(), pairs.end(), std::make_pair(t, target_path)) == pairs.end())
        pairs.emplace_back(t, target_path);
    }
  }
  std::string applied;
  std::size_t count = 0;
  for (const auto& [transform, target] : pairs) {
    const auto target_text = read_text(target);
    const auto transform_text = read_text(transform);
    info("Transforming '" + target + "' using '" + transform + "'");
    auto r = apply_xdt(target_text.utf8, transform_text.utf8);
    for (const auto& w : r.warnings) {
      if (warnings_are_errors) fail(transform + ": " + w);
      warning(transform + ": " + w);
    }
    if (!r.ok) {
      const auto text = "Could not transform '" + target + "' with '" + transform + "': " + r.error;
      if (!ignore_errors) fail(text);
      warning(text);
      continue;
    }
    write_text(target, r.text, target_text.encoding);
    applied += (applied.empty() ? "" : "|") + transform;
    ++count;
  }
  vars_.set("OctopusAppliedXmlConfigTransforms", applied);
  return fmt::format("{} transform{} applied", count, count == 1 ? "" : "s");
}

std::vector<structured_variable> deployment::structured_vars() const {
  std::vector<structured_variable> out;
  out.reserve(vars_.size());
  for (const auto& v : vars_.entries()) out.push_back({v.name, v.value ? vars_.get(v.name) : std::nullopt});
  return out;
}

std::string deployment::configuration_variables() {
  if (!feature_enabled("Octopus.Features.ConfigurationVariables") ||
      !flag("Octopus.Action.Package.AutomaticallyUpdateAppSettingsAndConnectionStrings", false))
    return {};
  const bool ignore_errors = flag("Octopus.Action.Package.IgnoreVariableReplacementErrors", false);
  const auto vars = structured_vars();
  std::size_t files = 0;
  std::size_t replaced = 0;
  for (const auto& base : search_bases()) {
    for (const auto& config : find_files(base, "**/*.config").files) {
      if (is_transform_file(config)) continue;
      const auto text = read_text(config);
      auto r = replace_config_settings(text.utf8, vars);
      if (!r.parsed) {
        const auto message = "'" + config + "' is not valid XML: " + r.error;
        if (!ignore_errors) fail(message);
        warning(message);
        continue;
      }
      for (const auto& w : r.warnings) warning(config + ": " + w);
      if (r.replaced == 0) continue;
      write_text(config, r.text, text.encoding);
      ++files;
      replaced += r.replaced;
    }
  }
  return fmt::format("{} setting{} in {} file{}", replaced, replaced == 1 ? "" : "s", files,
                     files == 1 ? "" : "s");
}

std::string deployment::structured_variables() {
  if (!feature_enabled("Octopus.Features.JsonConfigurationVariables")) return {};
  const bool json_only = flag("Octopus.Action.StructuredConfigurationFallbackFlag", false);
  const auto vars = structured_vars();
  using replacer = replace_outcome (*)(std::string_view, std::span<const structured_variable>);
  struct format {
    std::string_view name;
    replacer fn;
  };
  constexpr format json{"JSON", replace_json}, yaml{"YAML", replace_yaml}, xml{"XML", replace_xml},
      properties{"Java Properties", replace_properties};
  std::size_t files = 0;
  std::size_t replaced = 0;
  for (const auto& pattern :
       split_list(get("Octopus.Action.Package.JsonConfigurationVariablesTargets"), false)) {
    std::vector<std::string> matches;
    for (const auto& base : search_bases()) {
      auto m = find_files(base, pattern);
      for (const auto& d : m.directories)
        warning("Skipping structured variable replacement on '" + d + "' because it is a directory.");
      matches.insert(matches.end(), m.files.begin(), m.files.end());
    }
    if (matches.empty()) {
      warning("No files were found that match the replace target pattern '" + pattern + "'");
      continue;
    }
    for (const auto& file : matches) {
      const auto ext = detail::lower_ascii(fs::path(file).extension().string());
      std::vector<format> order;
      if (json_only || ext == ".json") {
        order = {json};
      } else if (ext == ".yml" || ext == ".yaml") {
        order = {json, yaml};
      } else if (ext == ".xml") {
        order = {json, xml};
      } else if (ext == ".properties") {
        order = {json, properties};
      } else {
        order = {json, xml, yaml, properties};
      }
      const auto text = read_text(file);
      std::optional<replace_outcome> done;
      std::string last_error;
      std::string_view used;
      for (const auto& f : order) {
        auto r = f.fn(text.utf8, vars);
        if (r.parsed) {
          done = std::move(r);
          used = f.name;
          break;
        }
        verbose(fmt::format("'{}' is not {}: {}", file, f.name, r.error));
        last_error = fmt::format("The file could not be parsed as {}: {}", f.name, r.error);
      }
      if (!done) fail("Structured variable replacement failed on file " + file + ". " + last_error);
      for (const auto& w : done->warnings) warning(file + ": " + w);
      if (done->replaced == 0) {
        info(
            "No structures have been found that match variable names, so no structured variable replacements "
            "were applied to " +
            file);
        continue;
      }
      verbose(fmt::format("Replaced {} value{} in '{}' ({})", done->replaced, done->replaced == 1 ? "" : "s",
                          file, used));
      write_text(file, done->text, text.encoding);
      ++files;
      replaced += done->replaced;
    }
  }
  return fmt::format("{} value{} in {} file{}", replaced, replaced == 1 ? "" : "s", files,
                     files == 1 ? "" : "s");
}

std::string deployment::custom_installation_directory() {
  const auto raw = vars_.get_raw("Octopus.Action.Package.CustomInstallationDirectory");
  if (!raw || raw->find_first_not_of(" \t\r\n") == std::string::npos) return {};
  const auto custom = get("Octopus.Action.Package.CustomInstallationDirectory");
  if (custom.find("#{") != std::string::npos)
    fail(
        "An error occurred when evaluating the value for the custom install directory. The following tokens "
        "were not evaluated: '" +
        custom + "'");
  if (custom.empty() || custom[0] != '/')
    fail("The custom install directory '" + custom +
         "' is a relative path, please specify the path as an absolute path");
  const auto target = fs::path(custom).lexically_normal();
  const auto staging = fs::path(staging_).lexically_normal();
  auto inside = [](const fs::path& a, const fs::path& b) {  // a inside or equal to b
    auto [mb, ma] = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
    return mb == b.end();
  };
  if (inside(target, staging) || inside(staging, target))
    fail("The custom install directory '" + custom +
         "' overlaps the directory the package was extracted to ('" + staging_ +
         "'); choose a directory outside it");
  std::error_code ec;
  fs::create_directories(target, ec);
  if (ec) fail("cannot create the custom install directory '" + custom + "': " + ec.message());
  std::string summary;
  if (flag("Octopus.Action.Package.CustomInstallationDirectoryShouldBePurgedBeforeDeployment", false)) {
    const auto exclusions =
        split_list(get("Octopus.Action.Package.CustomInstallationDirectoryPurgeExclusions"), false);
    info("Purging the directory '" + target.string() + "'");
    if (auto err = purge_directory(target.string(), exclusions)) fail(*err);
    summary = fmt::format("purged (keeping {} exclusion pattern{}), ", exclusions.size(),
                          exclusions.size() == 1 ? "" : "s");
  }
  info("Copying package contents to '" + target.string() + "'");
  const auto r = copy_tree(staging_, target.string());
  if (!r.ok) fail(r.error);
  current_ = target.string();
  set_output("Octopus.Action.Package.InstallationDirectoryPath", current_);
  set_output("Package.InstallationDirectoryPath", current_);
  set_output("Package.CopiedFileCount", std::to_string(r.files));
  return summary + fmt::format("copied {} files to {}", r.files, current_);
}

void deployment::rollback() {
  note(log_level::error, "Running rollback conventions...");
  try {
    convention("DeployFailed", [&] { return packaged_scripts(deploy_failed, false); });
    convention("Feature scripts DeployFailed", [&] { return feature_scripts(deploy_failed); });
  } catch (const deploy_failure& f) {
    note(log_level::error, f.message);
  }
}

void deployment::cleanup_after_success() {
  if (current_.empty() || !flag("OctopusDeleteScriptsOnCleanup", true)) return;
  std::error_code ec;
  for (fs::directory_iterator it(current_, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    const auto dot = name.rfind('.');
    if (dot != std::string::npos && iequals(std::string_view(name).substr(0, dot), deploy_failed))
      ::unlink(it->path().c_str());
  }
}

void deployment::write_journal(bool successful) {
  if (skip_journal_ || package_id_.empty()) return;
  journal_entry e;
  e.id = random_id();
  e.retention_policy_set = get("OctopusRetentionPolicySet");
  e.package_id = package_id_;
  e.package_version = package_version_;
  e.extracted_to = staging_;
  e.installed_to = current_.empty() ? staging_ : current_;
  e.installed_on = utc_now_iso();
  e.successful = successful;
  info("Adding journal entry to " + journal_);
  if (auto err = add_journal_entry(journal_, e)) warning("could not write the deployment journal: " + *err);
}

bool deployment::write_output_files() {
  return write_output_variables(o_.output_variables, o_.sensitive_output_variables, outputs_, vars_, log_);
}

int deployment::run() {
  // Identity and places.
  const auto file_name = fs::path(o_.package).lexically_normal().filename().string();
  const auto parsed = parse_package_file_name(
      file_name.empty() ? fs::path(o_.package).parent_path().filename().string() : file_name);
  package_id_ = get("Octopus.Action.Package.PackageId");
  package_version_ = get("Octopus.Action.Package.PackageVersion");
  if (package_id_.empty() && parsed) package_id_ = parsed->id;
  if (package_version_.empty() && parsed) package_version_ = parsed->version;
  if (package_id_.empty() || package_version_.empty()) {
    note(log_level::error, "cannot tell the package's id and version from its name '" + file_name +
                               "' (expected <id>.<version>.<ext>, e.g. Acme.Web.1.0.0.zip); set "
                               "Octopus.Action.Package.PackageId and Octopus.Action.Package.PackageVersion");
    return deploy_exit::usage;
  }
  // Octopus sets these for every package step; scripts and templates read them.
  if (!vars_.contains("Octopus.Action.Package.PackageId"))
    vars_.set("Octopus.Action.Package.PackageId", package_id_);
  if (!vars_.contains("Octopus.Action.Package.PackageVersion"))
    vars_.set("Octopus.Action.Package.PackageVersion", package_version_);
  struct stat st {};
  if (::stat(o_.package.c_str(), &st) != 0) {
    note(log_level::error, "cannot read the package '" + o_.package + "': " + std::strerror(errno));
    return deploy_exit::usage;
  }
  if (o_.install_root) {
    root_ = *o_.install_root;
  } else if (auto r = get("Octopus.Tentacle.Agent.ApplicationDirectoryPath"); !r.empty()) {
    root_ = r;
  } else {
    const char* home = std::getenv("HOME");
    root_ = std::string(home != nullptr && *home != '\0' ? home : "/tmp") + "/Applications";
  }
  std::error_code ec;
  root_ = fs::absolute(root_, ec).lexically_normal().string();
  fs::create_directories(root_, ec);
  if (ec) {
    note(log_level::error, "cannot create the install root '" + root_ + "': " + ec.message());
    return deploy_exit::usage;
  }
  journal_ = o_.journal ? *o_.journal : root_ + "/DeploymentJournal.json";
  info(fmt::format("Deploying {} {} from {}", package_id_, package_version_, o_.package));

  bool ok = true;
  try {
    convention("AlreadyInstalled", [&] { return already_installed(); });
    if (!skip_remaining()) {
      convention("Extract", [&] { return extract(); });
      using step = std::pair<std::string_view, std::function<std::string()>>;
      const std::vector<step> steps{
          {"Feature scripts BeforePreDeploy", [&] { return feature_scripts("BeforePreDeploy"); }},
          {"Configured PreDeploy", [&] { return configured_scripts(pre_deploy); }},
          {"PreDeploy", [&] { return packaged_scripts(pre_deploy, true); }},
          {"Feature scripts AfterPreDeploy", [&] { return feature_scripts("AfterPreDeploy"); }},
          {"Substitute variables in files", [&] { return substitute_in_files(); }},
          {"Configuration transforms", [&] { return configuration_transforms(); }},
          {"Configuration variables", [&] { return configuration_variables(); }},
          {"Structured configuration variables", [&] { return structured_variables(); }},
          {"Custom installation directory", [&] { return custom_installation_directory(); }},
          {"Feature scripts BeforeDeploy", [&] { return feature_scripts("BeforeDeploy"); }},
          {"Deploy", [&] { return packaged_scripts(deploy_stage, true); }},
          {"Configured Deploy", [&] { return configured_scripts(deploy_stage); }},
          {"Feature scripts AfterDeploy", [&] { return feature_scripts("AfterDeploy"); }},
          {"Feature scripts BeforePostDeploy", [&] { return feature_scripts("BeforePostDeploy"); }},
          {"PostDeploy", [&] { return packaged_scripts(post_deploy, true); }},
          {"Configured PostDeploy", [&] { return configured_scripts(post_deploy); }},
          {"Feature scripts AfterPostDeploy", [&] { return feature_scripts("AfterPostDeploy"); }},
      };
      for (const auto& [name, body] : steps) {
        convention(name, body);
        if (skip_remaining()) {
          info("Octopus.Action.SkipRemainingConventions is set: skipping the remaining conventions");
          break;
        }
      }
    }
  } catch (const deploy_failure& f) {
    ok = false;
    note(log_level::error, f.message);
    vars_.set("OctopusLastError", f.message);
    vars_.set("OctopusLastErrorMessage", f.message);
    rollback();
  }
  if (ok && !skip_remaining()) cleanup_after_success();
  write_journal(ok);
  const bool outputs_ok = write_output_files();
  log_.finish();
  if (!ok) return deploy_exit::failed;
  return outputs_ok ? 0 : deploy_exit::failed;
}

}  // namespace

int run_deploy(const deploy_options& o) {
  engine::variables vars;
  std::vector<std::string> errors;
  if (!load_variable_sources(o.sources, vars, errors)) {
    const auto secrets = vars.sensitive_values();
    for (const auto& e : errors) write_all(STDERR_FILENO, mask_secrets(e, secrets) + "\n");
    return deploy_exit::usage;
  }
  const auto format =
      o.format.value_or(::isatty(STDOUT_FILENO) == 1 ? log_format::terminal : log_format::plain);
  deployment d(o, std::move(vars), format);
  return d.run();
}

}  // namespace cuttle::runner::deploy
