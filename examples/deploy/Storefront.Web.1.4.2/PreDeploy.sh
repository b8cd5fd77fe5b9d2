#!/usr/bin/env bash
# Runs first, in the extracted package. Checks the disk and tells later steps when the release started.
echo "Preparing $(get_octopusvariable Octopus.Action.Package.PackageId) for $(get_octopusvariable Octopus.Environment.Name)"
set_octopusvariable ReleaseStarted "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
