#!/usr/bin/env bash
# Runs after the configuration files were rendered and copied to the install directory (the current one).
echo "Deploying into $(pwd)"
echo "Database host: $(grep -o '"Host": "[^"]*"' appsettings.json)"
# The connection password is sensitive: whatever prints it, the log shows ********.
echo "Connecting with password $(get_octopusvariable Storefront.Db.Password)"
