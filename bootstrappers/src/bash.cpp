// The Bash bootstrap: the helper API of calamari-spec §1.1 in pure Bash, reading its variables from the
// channel, then sourcing the user's script with its arguments.
// Tested by tests/bootstrappers/bash_test.cpp
//
// Design notes (the script below is the whole bootstrap; it holds no value):
// - Without script modules nothing is written to disk: the bootstrap and the loader reach Bash as
//   inherited memfds (/dev/fd/4 and /dev/fd/5), which the bootstrap closes before the script runs. Script
//   modules need a directory on PATH, so with modules all three are files in the private directory.
// - The payload is read by cuttle's loadable builtin (bash-loader/channel_loader.c, whose path is the
//   bootstrap's first argument) into an associative array, one hash lookup per get, when this Bash can load
//   it. Otherwise one `mapfile -d ''` reads it into `__cuttle_kv` (the magic, then name, value, ... sorted by
//   bytes) and a lookup binary-searches the names with `[[ < ]]` under a function-local LC_ALL=C. mapfile
//   reads a byte at a time and Bash's indexed arrays are linked lists, so that path is the slow one with many
//   variables (docs/scripts.md, "Start-up cost").
// - `octopus_parameters` (an associative array) is one more copy of every variable, so it is built only
//   when the script or a Bash module mentions `octopus_parameters`; plan_launch decides and flips one line.
// - Service-message values are base64-encoded in Bash itself: no openssl or base64 process per call. Only
//   a value over 16 KiB goes through one `base64` process, where the process costs less than the loop.
// - Every helper is safe under `set -euo pipefail`, quotes its arguments, accepts empty values and returns
//   0; internal names start with `__cuttle_`. Equality tests use `[ = ]`, which `nocasematch` leaves alone.

#include <fstream>
#include <iterator>
#include <string>

#include "cuttle/bootstrappers/bootstrap.hpp"
#include "languages.hpp"

namespace cuttle::bootstrappers::detail {
namespace {

// Payload size from which the channel loader is used (see bash_plan).
constexpr std::size_t loader_threshold = std::size_t{16} << 10;

constexpr std::string_view parameters_off = "__cuttle_wants_parameters=0\n";
constexpr std::string_view parameters_on = "__cuttle_wants_parameters=1\n";
constexpr std::string_view modules_off = "__cuttle_has_modules=0\n";
constexpr std::string_view modules_on = "__cuttle_has_modules=1\n";

constexpr std::string_view bootstrap_text =
    R"bash(# cuttle bash bootstrap: gives a hook script the Octopus helper API (get_octopusvariable,
# set_octopusvariable, new_octopusartifact, update_progress, fail_step, write_*...). Code only: the variables
# arrive through the descriptor named by CUTTLE_VARIABLES_FD. See docs/scripts.md.
# Usage: bash --noprofile --norc cuttle-bootstrap.sh LOADER SCRIPT [ARGS...]   (LOADER may be empty)

if [ -z "${BASH_VERSINFO-}" ] || (( BASH_VERSINFO[0] < 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] < 4) )); then
  printf 'cuttle: bash 4.4 or later is required (this is %s)\n' "${BASH_VERSION-unknown}" >&2
  exit 2
fi

__cuttle_wants_parameters=0
__cuttle_has_modules=0
__cuttle_b64_alphabet='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
__cuttle_kv=(CUTTLE1)
__cuttle_count=0
__cuttle_set_names=()
__cuttle_set_values=()
__cuttle_r=''
__cuttle_channel_reader=none
__cuttle_loader=${1-}

# Reads the channel, closes the descriptor and removes CUTTLE_VARIABLES_FD. With cuttle's loader (the
# loadable builtin named by the first argument), into the associative array __cuttle_map ("=NAME" -> value)
# and, when the script uses it, octopus_parameters; without it, with mapfile into __cuttle_kv (the magic,
# then name, value, ... sorted by bytes), which lookups binary-search.
__cuttle_read_channel() {
  local fd=${CUTTLE_VARIABLES_FD-}
  unset CUTTLE_VARIABLES_FD
  if [ -z "$fd" ]; then
    return 0
  fi
  if [[ ! $fd =~ ^[0-9]+$ ]]; then
    printf 'cuttle: cannot read the variables channel (descriptor %s)\n' "$fd" >&2
    exit 2
  fi
  # The loader is deleted again once it has run, so the script never sees it.
  local loader=$__cuttle_loader status=0
  if [ -n "$loader" ] && [ -f "$loader" ] && enable -f "$loader" __cuttle_load_channel 2>/dev/null; then
    __cuttle_channel_reader=loader
    declare -gA __cuttle_map=()
    if [ "$__cuttle_wants_parameters" = 1 ]; then
      __cuttle_load_channel "$fd" __cuttle_map octopus_parameters 2>/dev/null || status=$?
    else
      __cuttle_load_channel "$fd" __cuttle_map 2>/dev/null || status=$?
    fi
    enable -d __cuttle_load_channel
    exec {fd}<&-
    if (( status == 3 )); then
      printf 'cuttle: the variables channel does not hold a cuttle payload\n' >&2
      exit 2
    elif (( status != 0 )); then
      printf 'cuttle: cannot read the variables channel (descriptor %s)\n' "$fd" >&2
      exit 2
    fi
    return 0
  fi
  __cuttle_channel_reader=mapfile
  if ! mapfile -d '' -t -u "$fd" __cuttle_kv 2>/dev/null; then
    printf 'cuttle: cannot read the variables channel (descriptor %s)\n' "$fd" >&2
    exit 2
  fi
  exec {fd}<&-
  if [ "${__cuttle_kv[0]-}" != CUTTLE1 ] || (( ${#__cuttle_kv[@]} % 2 == 0 )); then
    printf 'cuttle: the variables channel does not hold a cuttle payload\n' >&2
    exit 2
  fi
  if [ "$__cuttle_wants_parameters" = 1 ]; then
    # Bash cannot have an empty key; such a variable stays readable through get_octopusvariable.
    local -i i
    for (( i = 1; i < ${#__cuttle_kv[@]}; i += 2 )); do
      if [ -n "${__cuttle_kv[i]}" ]; then
        octopus_parameters[${__cuttle_kv[i]}]=${__cuttle_kv[i + 1]}
      fi
    done
  fi
  __cuttle_count=$(( (${#__cuttle_kv[@]} - 1) / 2 ))
}

# Sets __cuttle_r to the value of $1: what this script set last, else the payload's, else ''.
__cuttle_lookup() {
  local key=$1 name
  local -i i lo=0 hi=__cuttle_count mid
  for (( i = ${#__cuttle_set_names[@]} - 1; i >= 0; i-- )); do
    if [ "${__cuttle_set_names[i]}" = "$key" ]; then
      __cuttle_r=${__cuttle_set_values[i]}
      return 0
    fi
  done
  if [ "$__cuttle_channel_reader" = loader ]; then
    __cuttle_r=${__cuttle_map["=$key"]-}
    return 0
  fi
  local LC_ALL=C
  while (( lo < hi )); do
    mid=$(( (lo + hi) / 2 ))
    name=${__cuttle_kv[2 * mid + 1]}
    if [[ $name < $key ]]; then
      lo=mid+1
    elif [[ $key < $name ]]; then
      hi=mid
    else
      __cuttle_r=${__cuttle_kv[2 * mid + 2]}
      return 0
    fi
  done
  __cuttle_r=''
}

# Sets __cuttle_r to the base64 of the bytes of $1 (standard alphabet, padded, one line).
__cuttle_b64() {
  if (( ${#1} > 16384 )) && type -P base64 >/dev/null; then
    __cuttle_r=$(builtin printf '%s' "$1" | base64 -w0)
    return 0
  fi
  local LC_ALL=C
  local rest=$1 chunk out
  local -i i n v
  __cuttle_r=''
  while [ -n "$rest" ]; do
    # Substrings cost the length of the string they are taken from, so work on short chunks.
    chunk=${rest:0:192}
    rest=${rest:192}
    n=${#chunk}
    out=''
    for (( i = 0; i + 2 < n; i += 3 )); do
      builtin printf -v v '(%d<<16)|(%d<<8)|%d' "'${chunk:i:1}" "'${chunk:i+1:1}" "'${chunk:i+2:1}"
      out+=${__cuttle_b64_alphabet:v>>18:1}${__cuttle_b64_alphabet:v>>12&63:1}${__cuttle_b64_alphabet:v>>6&63:1}${__cuttle_b64_alphabet:v&63:1}
    done
    if (( n - i == 2 )); then
      builtin printf -v v '(%d<<16)|(%d<<8)' "'${chunk:i:1}" "'${chunk:i+1:1}"
      out+=${__cuttle_b64_alphabet:v>>18:1}${__cuttle_b64_alphabet:v>>12&63:1}${__cuttle_b64_alphabet:v>>6&63:1}=
    elif (( n - i == 1 )); then
      builtin printf -v v '%d<<16' "'${chunk:i:1}"
      out+=${__cuttle_b64_alphabet:v>>18:1}${__cuttle_b64_alphabet:v>>12&63:1}==
    fi
    __cuttle_r+=$out
  done
}

# Sets __cuttle_r to the bytes whose base64 is $1; characters outside the alphabet are skipped, and NUL
# bytes (which Bash strings cannot hold) are dropped.
__cuttle_unb64() {
  local LC_ALL=C
  local rest=${1//[!A-Za-z0-9+\/]/} chunk c t fmt=''
  local -i i n acc=0 bits=0 byte
  while [ -n "$rest" ]; do
    chunk=${rest:0:192}
    rest=${rest:192}
    n=${#chunk}
    for (( i = 0; i < n; i++ )); do
      c=${chunk:i:1}
      t=${__cuttle_b64_alphabet%%"$c"*}
      acc=$(( ((acc << 6) | ${#t}) & 0xFFFFFF ))
      bits+=6
      if (( bits >= 8 )); then
        bits+=-8
        byte=$(( (acc >> bits) & 255 ))
        if (( byte != 0 )); then
          builtin printf -v t '\\x%02x' "$byte"
          fmt+=$t
        fi
      fi
    done
  done
  builtin printf -v __cuttle_r "$fmt"
}

# Writes one service message: __cuttle_message NAME ATTR VALUE [ATTR VALUE]...
__cuttle_message() {
  local m="##octopus[$1"
  shift
  while (( $# >= 2 )); do
    __cuttle_b64 "$2"
    m+=" $1='$__cuttle_r'"
    shift 2
  done
  builtin printf '%s]\n' "$m"
}

# Writes the text of every argument (joined by spaces) at a log level, then returns to the default level.
__cuttle_log() {
  local IFS=' ' level=$1
  shift
  builtin printf '##octopus[stdout-%s]\n%s\n##octopus[stdout-default]\n' "$level" "$*"
}

# get_octopusvariable NAME: prints the value of NAME and a newline (just the newline when it is unknown).
# The match is case-sensitive.
get_octopusvariable() {
  __cuttle_lookup "${1-}"
  builtin printf '%s\n' "$__cuttle_r"
}

# set_octopusvariable NAME VALUE [-sensitive]: sets an output variable (an empty value is sent too). Later
# get_octopusvariable calls, and octopus_parameters when the script uses it, see the new value.
set_octopusvariable() {
  local name=${1-} value=${2-}
  if [ "${3-}" = -sensitive ]; then
    __cuttle_message setVariable name "$name" value "$value" sensitive True
  else
    __cuttle_message setVariable name "$name" value "$value"
  fi
  __cuttle_set_names+=("$name")
  __cuttle_set_values+=("$value")
  if [ "$__cuttle_wants_parameters" = 1 ] && [ -n "$name" ]; then
    octopus_parameters[$name]=$value
  fi
  return 0
}

# new_octopusartifact PATH [NAME]: collects the file at PATH (made absolute) after the step; NAME defaults
# to its file name. A file that does not exist yet is announced with length 0.
new_octopusartifact() {
  local path=${1-} name=${2-} full length=0
  if [ -z "$path" ]; then
    builtin printf 'new_octopusartifact: a file path is required\n' >&2
    return 1
  fi
  case $path in
    /*) full=$path ;;
    *) full=$PWD/${path#./} ;;
  esac
  if [ -z "$name" ]; then
    name=${full##*/}
  fi
  builtin printf 'Collecting %s as an artifact...\n' "$path"
  if [ -f "$full" ]; then
    # Bash cannot read a file's size itself; this is the one helper that starts a process.
    length=$(wc -c < "$full")
    length=${length//[!0-9]/}
    __cuttle_log verbose "Artifact $name will be collected from $full after this step completes"
  else
    __cuttle_log verbose "There is no file at '$full' right now. Writing the service message just in case..."
  fi
  __cuttle_message createArtifact path "$full" name "$name" length "${length:-0}"
}

# update_progress PERCENT [MESSAGE]
update_progress() {
  __cuttle_message progress percentage "${1-}" message "${2-}"
}

# fail_step [MESSAGE]: fails the step with MESSAGE as its result message; exits with 255.
fail_step() {
  if [ -n "${1-}" ]; then
    __cuttle_message resultMessage message "$1"
  fi
  exit 255
}

write_verbose() { __cuttle_log verbose "$@"; }
write_highlight() { __cuttle_log highlight "$@"; }
write_wait() { __cuttle_log wait "$@"; }
write_warning() { __cuttle_log warning "$@"; }

# set_environmentstate KEY VALUE [-sensitive] [TYPE]: TYPE defaults to State.
set_environmentstate() {
  local key=${1-} value=${2-} sensitive=0 type=State arg
  for arg in "${@:3}"; do
    if [ "$arg" = -sensitive ]; then
      sensitive=1
    else
      type=$arg
    fi
  done
  if [ "$sensitive" = 1 ]; then
    __cuttle_message set-environmentstate key "$key" value "$value" sensitive True type "$type"
  else
    __cuttle_message set-environmentstate key "$key" value "$value" type "$type"
  fi
}

# set_environmenturl KEY URL
set_environmenturl() {
  set_environmentstate "${1-}" "${2-}" Url
}

# encode_servicemessagevalue TEXT: prints the base64 of TEXT (no newline).
encode_servicemessagevalue() {
  __cuttle_b64 "${1-}"
  builtin printf '%s' "$__cuttle_r"
}

# decode_servicemessagevalue BASE64: prints the decoded text (no newline).
decode_servicemessagevalue() {
  __cuttle_unb64 "${1-}"
  builtin printf '%s' "$__cuttle_r"
}

if [ "$__cuttle_wants_parameters" = 1 ]; then
  declare -gA octopus_parameters=()
fi
__cuttle_read_channel
unset -f __cuttle_read_channel
# This file and the loader, when they came as inherited descriptors: Bash reads this file through a
# descriptor of its own, so the inherited ones are closed before the script runs.
for __cuttle_r in "${BASH_SOURCE[0]}" "$__cuttle_loader"; do
  if [[ $__cuttle_r =~ ^/dev/fd/([0-9]+)$ ]]; then
    __cuttle_r=${BASH_REMATCH[1]}
    exec {__cuttle_r}<&-
  fi
done
__cuttle_r=''

if [ "$__cuttle_has_modules" = 1 ]; then
  # `source Name.sh` finds a script module through PATH (Bash's sourcepath), wherever the script runs.
  PATH=${PATH:+$PATH:}${BASH_SOURCE[0]%/*}
fi

if [ $# -lt 2 ]; then
  printf 'cuttle: no script to run\n' >&2
  exit 2
fi
__cuttle_script=$2
shift 2
if (( BASH_VERSINFO[0] >= 5 )); then
  BASH_ARGV0=$__cuttle_script
fi
source "$__cuttle_script" "$@"
)bash";

std::string read_file(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void replace_once(std::string& text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
}

}  // namespace

std::string bash_preamble() { return std::string(bootstrap_text); }

launch_plan bash_plan(const std::string& script, const std::vector<std::string>& args,
                      const engine::variables& vars) {
  launch_plan plan;
  auto modules = script_modules(vars, language::bash);
  // The array is built when the script or a module mentions it (Calamari's gate, minus the feature toggle).
  // An unreadable script gets it too: correctness first, and Bash reports the script itself.
  bool readable = false;
  const auto text = read_file(script, readable);
  bool wants = !readable || text.find("octopus_parameters") != std::string::npos;
  for (auto& m : modules) {
    wants = wants || m.content.find("octopus_parameters") != std::string::npos;
    // Bash cannot run CRLF scripts; modules are generated text, so convert them (the user's script is
    // never rewritten).
    std::string lf;
    lf.reserve(m.content.size());
    for (std::size_t i = 0; i < m.content.size(); ++i) {
      if (m.content[i] == '\r' && i + 1 < m.content.size() && m.content[i + 1] == '\n') continue;
      lf += m.content[i];
    }
    plan.files.push_back({m.file_stem + ".sh", std::move(lf)});
  }
  std::string boot(bootstrap_text);
  if (wants) replace_once(boot, parameters_off, parameters_on);
  if (!modules.empty()) replace_once(boot, modules_off, modules_on);
  // Without modules, nothing needs a directory: the bootstrap and the loader are inherited descriptors.
  const bool inherited = modules.empty();
  auto path_of = [&](std::string_view name) {
    return inherited ? inherited_placeholder(name) : "{dir}/" + std::string(name);
  };
  plan.files.insert(plan.files.begin(), {std::string(bash_bootstrap_name), std::move(boot), inherited});
  // A small payload is read faster by mapfile than the loader can be loaded (dlopen, relocations).
  std::size_t payload = 0;
  for (const auto& v : vars.entries()) payload += v.name.size() + (v.value ? v.value->size() : 0) + 2;
  std::string loader;
  if (!bash_channel_loader.empty() && payload >= loader_threshold) {
    plan.files.push_back({std::string(bash_loader_name), std::string(bash_channel_loader), inherited});
    loader = path_of(bash_loader_name);
  }
  plan.argv = {"bash", "--noprofile", "--norc", path_of(bash_bootstrap_name), loader, script};
  plan.argv.insert(plan.argv.end(), args.begin(), args.end());
  return plan;
}

}  // namespace cuttle::bootstrappers::detail
