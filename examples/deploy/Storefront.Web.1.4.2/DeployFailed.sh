#!/usr/bin/env bash
# Runs only when a step failed.
echo "Deployment failed: $(get_octopusvariable OctopusLastErrorMessage)"
