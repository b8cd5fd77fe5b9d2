// File work for `cuttle deploy`: Octopus-style globs, text encodings (BOMs, UTF-16, Windows-1252), copying
// and purging install directories, and the deployment journal.
//
// Example:
//   auto files = cuttle::runner::deploy::find_files("/srv/app", "config/**/*.json");
//   auto text = cuttle::runner::deploy::decode_text(bytes);     // UTF-8 for the engine
//   auto back = cuttle::runner::deploy::encode_text(text.utf8, text.encoding);
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cuttle::runner::deploy {

// --- globs ------------------------------------------------------------------------------------------------

/// Expands `{a,b}` alternatives (nested allowed): "*.{json,yml}" -> "*.json", "*.yml".
std::vector<std::string> expand_braces(std::string_view pattern);

/// True when `path` (relative, '/'-separated) matches `pattern`: `*` and `?` and `[...]` within one path
/// segment, `**` as a whole segment for any number of segments (zero included). Case-sensitive; no brace
/// expansion (see expand_braces); dot files are matched like any other.
bool glob_match(std::string_view pattern, std::string_view path);

/// The files and directories under `base` that `pattern` matches (braces expanded; an absolute pattern is
/// matched from "/"), as absolute paths, sorted, without duplicates. Symbolic links to directories are not
/// followed by `**`.
struct glob_matches {
  std::vector<std::string> files;
  std::vector<std::string> directories;
};
glob_matches find_files(const std::string& base, std::string_view pattern);

/// Splits a list variable on newlines (and on `,` too when `commas`), trimming entries and dropping blanks.
std::vector<std::string> split_list(std::string_view text, bool commas);

// --- text encodings ----------------------------------------------------------------------------------------

enum class text_encoding { utf8, utf8_bom, utf16le, utf16be, windows1252 };

/// The name of an encoding as docs and logs show it ("UTF-8", "UTF-8 with BOM", "UTF-16LE" ...).
std::string_view encoding_name(text_encoding e);

/// An encoding named as .NET names them (`Octopus.Action.SubstituteInFiles.OutputEncoding`): "utf-8",
/// "utf-8-bom", "utf-16", "utf-16le", "utf-16be", "unicode", "windows-1252", "ascii", "us-ascii" (ASCII is
/// written as UTF-8, which it is a subset of). Case-insensitive; nullopt when unknown.
std::optional<text_encoding> encoding_from_name(std::string_view name);

struct decoded_text {
  std::string utf8;  ///< the text without its BOM
  text_encoding encoding = text_encoding::utf8;
};

/// Detects the encoding (a UTF-8 or UTF-16 BOM; else UTF-8 when the bytes are valid UTF-8; else
/// Windows-1252) and decodes to UTF-8. UTF-16 with an odd byte count or unpaired surrogates decodes with
/// U+FFFD in their place.
decoded_text decode_text(std::string_view bytes);

/// Encodes UTF-8 text back (with the BOM the encoding has). nullopt when `utf8` has a character that
/// Windows-1252 cannot hold (the caller then writes UTF-8: the encoding is upgraded).
std::optional<std::string> encode_text(std::string_view utf8, text_encoding e);

/// True when `bytes` is valid UTF-8.
bool is_valid_utf8(std::string_view bytes);

// --- install directories
// ------------------------------------------------------------------------------------

/// Copies the tree `from` into `to` (created when missing): directories, regular files (modes kept; each
/// file written to a temporary name and renamed, so no file is ever half-written) and symbolic links (as
/// links). Files already in `to` are replaced. Returns the number of files copied, or an error naming the
/// file.
struct copy_result {
  bool ok = false;
  std::string error;
  std::size_t files = 0;
};
copy_result copy_tree(const std::string& from, const std::string& to);

/// Removes everything in `dir` except what matches one of `exclusions` (globs relative to `dir`; a matching
/// directory is kept with all it holds, and the directories above a kept entry stay). Never follows links
/// out of `dir`. Returns an error naming the entry that could not be removed.
std::optional<std::string> purge_directory(const std::string& dir,
                                           const std::vector<std::string>& exclusions);

// --- the deployment journal
// -----------------------------------------------------------------------------------

/// One deployment, as recorded in the journal (a JSON array in one file, written atomically under a lock).
struct journal_entry {
  std::string id;  ///< unique per deployment
  std::string retention_policy_set;
  std::string package_id;
  std::string package_version;
  std::string extracted_to;  ///< the staging directory
  std::string installed_to;  ///< the custom installation directory, or the staging directory
  std::string installed_on;  ///< UTC, ISO 8601
  bool successful = false;
};

/// The newest successful entry for (policy set, package id, version), or nullopt. A missing journal file is
/// empty; an unreadable or invalid one gives an error.
struct journal_lookup {
  std::optional<journal_entry> entry;
  std::string error;
};
journal_lookup find_successful_deployment(const std::string& journal, std::string_view policy_set,
                                          std::string_view package_id, std::string_view version);

/// Appends `entry` to the journal (created when missing), atomically, holding an exclusive lock on
/// `<journal>.lock` so that concurrent deployments do not lose each other's entries.
std::optional<std::string> add_journal_entry(const std::string& journal, const journal_entry& entry);

}  // namespace cuttle::runner::deploy
