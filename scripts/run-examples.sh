#!/usr/bin/env bash
# The main job: installs dependencies, builds the `cuttle` binary (Release), renders every
# examples/*.template with examples/variables.json, printing the output, and deploys the example package
# examples/deploy/Storefront.Web.1.4.2 into a temporary directory (removed afterwards).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${CUTTLE_RELEASE_BUILD_DIR:-$root/build-release}
examples=${CUTTLE_EXAMPLES_DIR:-$root/examples}

bash "$root/scripts/setup.sh"

cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCUTTLE_BUILD_TESTS=OFF -DCUTTLE_BUILD_FUZZERS=OFF -DCUTTLE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build_dir" --target cuttle
cuttle=$build_dir/runner/cuttle

shopt -s nullglob
templates=("$examples"/*.template)
if [[ ${#templates[@]} -eq 0 ]]; then
  echo "run-examples: no *.template files in $examples" >&2
  exit 1
fi

args=(--variables "$examples/variables.json")
if [[ -f $examples/sensitive-variables.json ]]; then
  args+=(--sensitive-variables "$examples/sensitive-variables.json")
fi

failed=0
for template in "${templates[@]}"; do
  echo
  echo "==> ${template#"$root"/} (cuttle render ${args[*]/#"$root"\//} ${template#"$root"/})"
  status=0
  "$cuttle" render "${args[@]}" "$template" || status=$?
  if [[ $status -ne 0 ]]; then
    echo "<== exit status $status" >&2
    failed=1
  fi
done
# The deployment example: hooks, substitution, transforms, configuration and structured variables.
package=$examples/deploy/Storefront.Web.1.4.2
if [[ -d $package ]]; then
  install_root=$(mktemp -d "${TMPDIR:-/tmp}/cuttle-example-deploy.XXXXXX")
  trap 'rm -rf "$install_root"' EXIT
  echo
  echo "==> cuttle deploy ${package#"$root"/} (into $install_root)"
  status=0
  "$cuttle" deploy --install-root "$install_root/apps" \
    --variables "$examples/deploy/variables.json" \
    --sensitive-variables "$examples/deploy/sensitive-variables.json" \
    --set "Octopus.Action.Package.CustomInstallationDirectory=$install_root/live/storefront" \
    "$package" || status=$?
  if [[ $status -ne 0 ]]; then
    echo "<== exit status $status" >&2
    failed=1
  else
    for file in appsettings.json config/logging.yaml config/app.properties web.config README.txt; do
      echo "--- $file after deployment"
      cat "$install_root/live/storefront/$file"
    done
  fi
fi
exit "$failed"
