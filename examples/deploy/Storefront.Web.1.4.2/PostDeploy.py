# Runs last. Output variables set by earlier hooks are visible here.
print("Release started at " + get_octopusvariable("ReleaseStarted"))
print("Installed to " + get_octopusvariable("Octopus.Action.Package.InstallationDirectoryPath"))
