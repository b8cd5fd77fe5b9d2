// The PowerShell bootstrap: the helper API of calamari-spec §1.1 for PowerShell 7 (pwsh), reading its
// variables from the channel, then dot-sourcing the user's script with its arguments.
// Tested by tests/bootstrappers/powershell_test.cpp
// (pwsh could not be installed where this was written, so the tests that run it skipped there; the launch
// plan and the text of the bootstrap are tested everywhere.)
//
// Design notes (the script below is the whole bootstrap; it holds no value, and it is ASCII so that any
// PowerShell reads it the same without a byte-order mark):
// - pwsh runs it with -File, so the script and its arguments are real arguments, never parsed as code: pwsh
//   passes `-Name value` and `-Name:value` as named parameters and everything else as strings, as for any
//   `pwsh -File script.ps1 ARGS`. The bootstrap has no param() block, so they all stay in $args (named ones
//   carry the marker splatting honours) and reach the script through `. $script @args`. -ExecutionPolicy is
//   left out: pwsh ignores it on Linux. -NoProfile keeps a profile from changing or slowing the run.
// - The payload is read with one read from the descriptor (then closed, and CUTTLE_VARIABLES_FD removed from
//   the environment child processes get), decoded once and split once into $OctopusParameters, a
//   Dictionary[string,string] with OrdinalIgnoreCase, as Calamari's.
// - The automatic locals of calamari-spec §2.4 ($OctopusActionName for Octopus.Action.Name) are the one piece
//   of work per variable, in any bootstrap: two regex passes over all the names joined, then one compiled
//   loop of dictionary steps; existing variables are never replaced. They live in the script's scope;
//   $OctopusParameters, the helpers and $ErrorActionPreference = 'Stop' are global, as in Calamari, so
//   script modules (.psm1, imported before the script) see them too.
// - Helpers write service messages with [Console]::Out (one Write, then Flush): Write-Host would strip ANSI
//   sequences from log text when stdout is redirected, and `6>` could swallow the messages.
// - Exit code (calamari-spec §1.2): a terminating error prints category, message, position and stack on
//   stderr and exits 1; `exit N` and Fail-Step (255) end the script with N; otherwise the last native
//   command's exit code, else 0. $LASTEXITCODE is removed before the script runs, so only the script's own
//   native commands count.
// - Internal names start with `__cuttle_`.

#include <string>
#include <string_view>
#include <vector>

#include "cuttle/bootstrappers/bootstrap.hpp"
#include "languages.hpp"

namespace cuttle::bootstrappers::detail {
namespace {

constexpr std::string_view bootstrap_text =
    R"powershell(# cuttle PowerShell bootstrap: gives a hook script the Octopus helper API ($OctopusParameters and a local
# variable per variable, Set-OctopusVariable, New-OctopusArtifact, Update-Progress, Fail-Step, Write-Verbose,
# Write-Highlight, Write-Wait, Write-Warning, Write-Debug, Set-EnvironmentState, Set-EnvironmentUrl,
# Convert-ServiceMessageValue, Execute-WithRetry). Code only: the variables arrive through the descriptor
# named by CUTTLE_VARIABLES_FD. See docs/scripts.md.
# Usage: pwsh -NoLogo -NoProfile -NonInteractive -File cuttle-bootstrap.ps1 SCRIPT.ps1 [ARGS...]
# There is no param() block on purpose: every argument stays in $args, a named one (-Name) with the marker
# that makes splatting pass it on as a parameter name, so the script binds its arguments as if pwsh had run
# it directly.

# As in Calamari, for every scope (script modules included).
$global:ErrorActionPreference = 'Stop'
$global:PSNativeCommandArgumentPassing = 'Legacy'

# --- internals (global, so helpers called from script modules find them) ---------------------------------

function global:__cuttle_fatal([string] $message) {
    [Console]::Out.Flush()
    [Console]::Error.Write("cuttle: $message`n")
    [Console]::Error.Flush()
    exit 2
}

# Every helper writes its whole output with one Write to stdout and flushes it. Not Write-Host: that would
# strip ANSI sequences from the text when stdout is redirected, and 6> could swallow service messages.
function global:__cuttle_emit([string] $text) {
    $out = [Console]::Out
    $out.Write($text)
    $out.Flush()
}

function global:__cuttle_error_report($record) {
    [Console]::Error.WriteLine("$($record.CategoryInfo.Category): $($record.Exception.Message)")
    [Console]::Error.WriteLine($record.InvocationInfo.PositionMessage)
    [Console]::Error.WriteLine($record.ScriptStackTrace)
    if ($null -ne $record.ErrorDetails) {
        [Console]::Error.WriteLine($record.ErrorDetails.Message)
    }
    [Console]::Error.Flush()
}

# --- the helper API (calamari-spec 1.1) -------------------------------------------------------------------

# The base64 of the UTF-8 bytes of $value, as service messages carry it.
function global:Convert-ServiceMessageValue([string] $value) {
    return [Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($value))
}

# name='base64 of value', one attribute of a service message.
function global:Convert-ToServiceMessageParameter([string] $name, [string] $value) {
    return "$name='$(Convert-ServiceMessageValue $value)'"
}

# Sets an output variable (an empty value is sent too); $OctopusParameters sees the new value.
function global:Set-OctopusVariable([string] $name, [string] $value, [switch] $sensitive) {
    $encodedName = Convert-ServiceMessageValue $name
    $encodedValue = Convert-ServiceMessageValue $value
    if ($sensitive) {
        __cuttle_emit "##octopus[setVariable name='$encodedName' value='$encodedValue' sensitive='VHJ1ZQ==']`n"
    } else {
        __cuttle_emit "##octopus[setVariable name='$encodedName' value='$encodedValue']`n"
    }
    $global:OctopusParameters[$name] = $value
}

# Collects a file after the step: New-OctopusArtifact PATH [-name NAME], or piped paths and files
# (Get-ChildItem *.log | New-OctopusArtifact). A file that does not exist yet is announced with length 0.
function global:New-OctopusArtifact {
    [CmdletBinding()]
    param(
        [Parameter(Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)]
        [Alias('FullName', 'Path')]
        [string] $fullpath,
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = $true)]
        [string] $name
    )
    process {
        $full = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($fullpath)
        $full = [System.IO.Path]::GetFullPath($full)
        $shown = $name
        if (-not $shown) {
            $shown = [System.IO.Path]::GetFileName($fullpath)
        }
        $length = 0
        if ([System.IO.File]::Exists($full)) {
            $length = [System.IO.FileInfo]::new($full).Length
        } else {
            Write-Verbose "There is no file at '$full' right now. Writing the service message just in case the file is available when the artifacts are collected at a later point in time."
        }
        Write-Verbose "Artifact $shown will be collected from $full after this step completes"
        $path64 = Convert-ServiceMessageValue $full
        $name64 = Convert-ServiceMessageValue $shown
        $length64 = Convert-ServiceMessageValue ([string] $length)
        __cuttle_emit "##octopus[createArtifact path='$path64' name='$name64' length='$length64']`n"
    }
}

# Update-Progress PERCENT [MESSAGE]; the message may come from the pipeline.
function global:Update-Progress {
    [CmdletBinding()]
    param(
        [Parameter(Position = 0)] [int] $percentage,
        [Parameter(Position = 1, ValueFromPipeline = $true)] [string] $message
    )
    process {
        $percentage64 = Convert-ServiceMessageValue ([string] $percentage)
        $message64 = Convert-ServiceMessageValue $message
        __cuttle_emit "##octopus[progress percentage='$percentage64' message='$message64']`n"
    }
}

# Fails the step with an optional result message; exits with code 255.
function global:Fail-Step([string] $message) {
    if ($message) {
        __cuttle_emit "##octopus[resultMessage message='$(Convert-ServiceMessageValue $message)']`n"
    }
    exit 255
}

# Set-EnvironmentState -Key K -Value V [-Sensitive] [-Type State]
function global:Set-EnvironmentState([string] $Key, [string] $Value, [switch] $Sensitive, [string] $Type = 'State') {
    $key64 = Convert-ServiceMessageValue $Key
    $value64 = Convert-ServiceMessageValue $Value
    $type64 = Convert-ServiceMessageValue $Type
    if ($Sensitive) {
        __cuttle_emit "##octopus[set-environmentstate key='$key64' value='$value64' sensitive='VHJ1ZQ==' type='$type64']`n"
    } else {
        __cuttle_emit "##octopus[set-environmentstate key='$key64' value='$value64' type='$type64']`n"
    }
}

# Set-EnvironmentUrl -Key K -Url U: environment state of type Url.
function global:Set-EnvironmentUrl([string] $Key, [string] $Url) {
    Set-EnvironmentState -Key $Key -Value $Url -Type 'Url'
}

# The log levels: the text between ##octopus[stdout-LEVEL] and ##octopus[stdout-default], one bracket per
# call (piped messages share it). They replace the built-in Write-Verbose (always printed), Write-Debug
# (printed as verbose) and Write-Warning (silenced by $WarningPreference or -WarningAction).
function global:Write-Verbose {
    [CmdletBinding()]
    param([Parameter(Position = 0, ValueFromPipeline = $true)] [Alias('Msg')] [string] $Message)
    begin { __cuttle_emit "##octopus[stdout-verbose]`n" }
    process { __cuttle_emit "$Message`n" }
    end { __cuttle_emit "##octopus[stdout-default]`n" }
}

function global:Write-Debug {
    [CmdletBinding()]
    param([Parameter(Position = 0, ValueFromPipeline = $true)] [Alias('Msg')] [string] $Message)
    begin { __cuttle_emit "##octopus[stdout-verbose]`n" }
    process { __cuttle_emit "$Message`n" }
    end { __cuttle_emit "##octopus[stdout-default]`n" }
}

function global:Write-Highlight {
    [CmdletBinding()]
    param([Parameter(Position = 0, ValueFromPipeline = $true)] [Alias('Msg')] [string] $Message)
    begin { __cuttle_emit "##octopus[stdout-highlight]`n" }
    process { __cuttle_emit "$Message`n" }
    end { __cuttle_emit "##octopus[stdout-default]`n" }
}

function global:Write-Wait {
    [CmdletBinding()]
    param([Parameter(Position = 0, ValueFromPipeline = $true)] [Alias('Msg')] [string] $Message)
    begin { __cuttle_emit "##octopus[stdout-wait]`n" }
    process { __cuttle_emit "$Message`n" }
    end { __cuttle_emit "##octopus[stdout-default]`n" }
}

function global:Write-Warning {
    [CmdletBinding()]
    param([Parameter(Position = 0, ValueFromPipeline = $true)] [Alias('Msg')] [string] $Message)
    begin {
        $shown = $WarningPreference -ne 'SilentlyContinue' -and $WarningPreference -ne 'Ignore'
        if ($shown) { __cuttle_emit "##octopus[stdout-warning]`n" }
    }
    process { if ($shown) { __cuttle_emit "$Message`n" } }
    end { if ($shown) { __cuttle_emit "##octopus[stdout-default]`n" } }
}

# Execute-WithRetry { COMMAND } [MAXFAILURES=3] [SLEEPSECONDS=1]: runs the block until it succeeds, at most
# MAXFAILURES times; the last failure is thrown.
function global:Execute-WithRetry([ScriptBlock] $command, [int] $maxFailures = 3, [int] $sleepBetweenFailures = 1) {
    $attempt = 0
    while ($true) {
        $attempt++
        try {
            return & $command
        } catch {
            if ($attempt -ge $maxFailures) {
                throw
            }
            Write-Host "Attempt $attempt of $maxFailures failed: $($_.Exception.Message)"
            Write-Host "Waiting for $sleepBetweenFailures seconds before retrying..."
            Start-Sleep -Seconds $sleepBetweenFailures
            Write-Host 'Retrying...'
        }
    }
}

# Imports one script module (a .psm1 file); a module that cannot be imported fails the script with exit 1.
# Script scope, not global: Calamari's error report names it "at Import-ScriptModule, ".
function Import-ScriptModule([string] $moduleName, [string] $moduleFilePath) {
    try {
        Import-Module -DisableNameChecking -Global -Name $moduleFilePath
    } catch {
        [Console]::Out.Flush()
        [Console]::Error.WriteLine("Failed to import Script Module '$moduleName' from '$moduleFilePath'")
        __cuttle_error_report $_
        exit 1
    }
}

# --- start-up ----------------------------------------------------------------------------------------------

if ($args.Count -lt 1) {
    __cuttle_fatal 'no script to run'
}
$__cuttle_script = [string] $args[0]
if (-not $__cuttle_script.EndsWith('.ps1', [System.StringComparison]::OrdinalIgnoreCase)) {
    __cuttle_fatal "PowerShell runs .ps1 scripts only: '$__cuttle_script'"
}
if (-not [System.IO.File]::Exists($__cuttle_script)) {
    __cuttle_fatal "can't open file '$__cuttle_script': No such file"
}
# The script's arguments: the same objects, so named ones keep their marker.
$__cuttle_args = [object[]]::new($args.Count - 1)
[Array]::Copy($args, 1, $__cuttle_args, 0, $args.Count - 1)

# The variables: one read of the channel, one decode, one split into a case-insensitive dictionary (as
# Calamari's). The descriptor is closed and CUTTLE_VARIABLES_FD removed from the environment child processes
# get before anything else runs. A null variable is the empty string.
$global:OctopusParameters = [System.Collections.Generic.Dictionary[string, string]]::new([System.StringComparer]::OrdinalIgnoreCase)
& {
    $fdText = [Environment]::GetEnvironmentVariable('CUTTLE_VARIABLES_FD')
    # Through $env:, not [Environment]::SetEnvironmentVariable(name, $null), which leaves 'NAME=' in the
    # environment of child processes under PowerShell 7.6 on Linux; and not Remove-Item, whose module
    # takes about 0.3 s to load.
    $env:CUTTLE_VARIABLES_FD = $null
    if ($null -eq $fdText) {
        return
    }
    $fd = 0
    if ($fdText -notmatch '\A[0-9]+\z' -or -not [int]::TryParse($fdText, [ref] $fd)) {
        __cuttle_fatal "cannot read the variables channel (descriptor $fdText)"
    }
    $data = $null
    try {
        # Owning the handle closes the descriptor when it is disposed.
        $handle = [Microsoft.Win32.SafeHandles.SafeFileHandle]::new([IntPtr] $fd, $true)
        $stream = $null
        try {
            $stream = [System.IO.FileStream]::new($handle, [System.IO.FileAccess]::Read, 1)
            $buffer = [System.IO.MemoryStream]::new()
            $stream.CopyTo($buffer)
            $data = $buffer.ToArray()
        } finally {
            if ($null -ne $stream) {
                $stream.Dispose()
            }
            $handle.Dispose()
        }
    } catch {
        __cuttle_fatal "cannot read the variables channel (descriptor $fdText)"
    }
    # "CUTTLE1\0", then name \0 value \0 per variable.
    $magic = [byte[]] (67, 85, 84, 84, 76, 69, 49, 0)
    $valid = $data.Length -ge 8 -and ($data.Length -eq 8 -or $data[$data.Length - 1] -eq 0)
    for ($i = 0; $valid -and $i -lt 8; $i++) {
        $valid = $data[$i] -eq $magic[$i]
    }
    $parts = $null
    if ($valid) {
        $parts = [System.Text.Encoding]::UTF8.GetString($data, 8, $data.Length - 8).Split([char] 0)
        $valid = $parts.Length % 2 -eq 1
    }
    if (-not $valid) {
        __cuttle_fatal 'the variables channel does not hold a cuttle payload'
    }
    $parameters = $global:OctopusParameters
    for ($i = 0; $i + 1 -lt $parts.Length; $i += 2) {
        $parameters[$parts[$i]] = $parts[$i + 1]
    }
}

# The automatic locals of calamari-spec 2.4, in the script's scope: Octopus.Action.Name is also
# $OctopusActionName. The "smart" name keeps letters, digits and '_', the legacy one letters and digits
# (both when they differ); names with '[' and names that come out empty are skipped, and so is any name an
# existing variable has ($Host, $PID, $args...), so nothing is ever clobbered. When two variables give the
# same local, a variable whose name is already that local wins, else the later one in byte order.
# The one per-variable cost of any bootstrap: two regular-expression passes over all the names joined, and
# one dictionary step per variable, in compiled loops; no command runs per variable.
& {
    $names = [string[]] $global:OctopusParameters.Keys
    $values = [string[]] $global:OctopusParameters.Values
    $joined = $names -join "`0"
    $smart = [regex]::Replace($joined, '[^\p{L}\p{Nd}_\x00]', '').Split([char] 0)
    $legacy = [regex]::Replace($joined, '[^\p{L}\p{Nd}\x00]', '').Split([char] 0)
    $taken = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
    # Existing variables are looked up per candidate below, not listed with Get-Variable, whose module
    # takes about 0.2 s to load.
    $existing = $ExecutionContext.SessionState.PSVariable
    # Automatic variables that may not exist yet but must never be shadowed.
    foreach ($reserved in 'LASTEXITCODE', '_', 'PSItem', 'this', 'input', 'args', 'Matches', 'foreach',
        'switch', 'PSCmdlet', 'PSBoundParameters', 'MyInvocation', 'PSScriptRoot', 'PSCommandPath',
        'StackTrace', 'Error', 'Event', 'EventArgs', 'EventSubscriber', 'Sender', 'PSDebugContext',
        'PSSenderInfo', 'OctopusParameters') {
        [void] $taken.Add($reserved)
    }
    $locals = [System.Collections.Generic.Dictionary[string, string]]::new([System.StringComparer]::OrdinalIgnoreCase)
    $exact = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
    for ($i = 0; $i -lt $names.Length; $i++) {
        $name = $names[$i]
        if ($name.Contains('[')) {
            continue
        }
        $key = $legacy[$i]
        if ($key.Length -gt 0 -and -not $taken.Contains($key) -and -not $exact.Contains($key)) {
            if ($null -ne $existing.Get('global:' + $key) -or $null -ne $existing.Get('script:' + $key)) {
                [void] $taken.Add($key)
            } else {
                $locals[$key] = $values[$i]
            }
        }
        $key = $smart[$i]
        if ($key.Length -gt 0 -and -not $taken.Contains($key) -and
            ($null -ne $existing.Get('global:' + $key) -or $null -ne $existing.Get('script:' + $key))) {
            [void] $taken.Add($key)
        }
        if ($key.Length -gt 0 -and -not $taken.Contains($key)) {
            if ($key -ceq $name) {
                [void] $exact.Add($key)
                $locals[$key] = $values[$i]
            } elseif (-not $exact.Contains($key)) {
                $locals[$key] = $values[$i]
            }
        }
    }
    $variables = $ExecutionContext.SessionState.PSVariable
    foreach ($local in $locals.GetEnumerator()) {
        $variables.Set('script:' + $local.Key, $local.Value)
    }
}

# Script modules: the .psm1 files beside this bootstrap, imported in byte order of their file names.
& {
    $modules = [System.IO.Directory]::GetFiles($PSScriptRoot, '*.psm1')
    if ($modules.Length -eq 0) {
        return
    }
    [Array]::Sort($modules, [System.StringComparer]::Ordinal)
    # The module's own name (Octopus.Script.Module[My Module] is written as MyModule.psm1), for messages.
    $moduleNames = [System.Collections.Generic.Dictionary[string, string]]::new([System.StringComparer]::Ordinal)
    foreach ($key in ([string[]] $global:OctopusParameters.Keys -like 'Octopus.Script.Module`[*')) {
        if ($key.EndsWith(']')) {
            $moduleName = $key.Substring(22, $key.Length - 23)
            $stem = $moduleName -creplace '[^A-Za-z0-9_]', ''
            if (-not $moduleNames.ContainsKey($stem)) {
                $moduleNames[$stem] = $moduleName
            }
        }
    }
    foreach ($path in $modules) {
        $stem = [System.IO.Path]::GetFileNameWithoutExtension($path)
        $moduleName = $stem
        if ($moduleNames.ContainsKey($stem)) {
            $moduleName = $moduleNames[$stem]
        }
        Import-ScriptModule $moduleName $path
    }
}

# The script, dot-sourced with its arguments: it shares this scope (so it sees the locals), its param()
# block binds the arguments, $PSScriptRoot and $MyInvocation describe it. A terminating error (Write-Error
# included, as $ErrorActionPreference is Stop) is reported on stderr with exit code 1; `exit N` in the
# script, or Fail-Step, ends it with N; otherwise the exit code is that of the last native command it ran,
# or 0 (calamari-spec 1.2). $LASTEXITCODE starts unset, so nothing before the script can leak into it.
# (Not Remove-Variable: its module takes about 0.4 s to load.)
$ExecutionContext.SessionState.PSVariable.Remove('global:LASTEXITCODE')
try {
    . $__cuttle_script @__cuttle_args
} catch {
    [Console]::Out.Flush()
    __cuttle_error_report $_
    exit 1
}
if ($null -ne $global:LASTEXITCODE) {
    exit $global:LASTEXITCODE
}
exit 0
)powershell";

}  // namespace

std::string powershell_preamble() { return std::string(bootstrap_text); }

launch_plan powershell_plan(const std::string& script, const std::vector<std::string>& args,
                            const engine::variables& vars) {
  launch_plan plan;
  plan.files.push_back({std::string(powershell_bootstrap_name), std::string(bootstrap_text)});
  // A module without a language is PowerShell (script_modules decides); the bootstrap imports every .psm1.
  for (auto& m : script_modules(vars, language::powershell))
    plan.files.push_back({m.file_stem + ".psm1", std::move(m.content)});
  const std::string bootstrap = "{dir}/" + std::string(powershell_bootstrap_name);
  plan.argv = {"pwsh", "-NoLogo", "-NoProfile", "-NonInteractive", "-File", bootstrap, script};
  plan.argv.insert(plan.argv.end(), args.begin(), args.end());
  return plan;
}

}  // namespace cuttle::bootstrappers::detail
