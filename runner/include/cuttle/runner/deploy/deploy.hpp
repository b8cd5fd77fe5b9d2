// `cuttle deploy`: a package through the deployment conventions of calamari-spec §5, in that order, switched
// by the same Octopus variables (docs/deploy.md).
//
// Example:
//   cuttle::runner::deploy::deploy_options o;
//   o.sources = {{cuttle::runner::variable_source::kind::file, "vars.json"}};
//   o.package = "Acme.Web.1.0.0.zip";
//   o.install_root = "/srv/apps";
//   int code = cuttle::runner::deploy::run_deploy(o);   // 0, deploy_exit::failed or deploy_exit::usage
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cuttle/runner/log_output.hpp"
#include "cuttle/runner/variable_sources.hpp"

namespace cuttle::runner::deploy {

/// Exit codes of `cuttle deploy`.
namespace deploy_exit {
inline constexpr int failed = 1;  ///< a convention or hook failed (DeployFailed ran)
inline constexpr int usage = 2;   ///< bad options or variables, unreadable package: nothing was deployed
}  // namespace deploy_exit

struct deploy_options {
  std::vector<variable_source> sources;     ///< --variables, --sensitive-variables, --set, in order
  std::string package;                      ///< PACKAGE: an archive or a directory
  std::optional<std::string> install_root;  ///< --install-root DIR
  std::optional<std::string> journal;  ///< --journal FILE (default <install root>/DeploymentJournal.json)
  std::optional<std::string> output_variables;            ///< --output-variables FILE
  std::optional<std::string> sensitive_output_variables;  ///< --sensitive-output-variables FILE (0600)
  std::optional<double> timeout_seconds;                  ///< --timeout SECONDS, per hook script
  std::optional<log_format> format;                       ///< --log-format
  std::vector<std::string> masks;                         ///< --mask TEXT
};

/// Deploys the package; reports on stdout/stderr as it goes (one line per convention). Returns 0 on
/// success, deploy_exit::failed after a failed deployment, deploy_exit::usage when it could not start.
int run_deploy(const deploy_options& options);

}  // namespace cuttle::runner::deploy
