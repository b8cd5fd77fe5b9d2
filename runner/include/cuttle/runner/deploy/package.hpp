// Deployment packages: naming (id and version from the file name, as Octopus parses it) and safe extraction
// of .zip, .nupkg, .tar, .tar.gz/.tgz, .tar.bz2 (libarchive) or a directory into a target directory.
//
// Example:
//   auto name = cuttle::runner::deploy::parse_package_file_name("Acme.Web.1.0.0.zip");
//   // name->id == "Acme.Web", name->version == "1.0.0"
//   auto r = cuttle::runner::deploy::extract_package("Acme.Web.1.0.0.zip", "/srv/app/Acme.Web/1.0.0");
//   if (!r.ok) std::cerr << r.error;
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cuttle::runner::deploy {

/// A package's identity from its file name.
struct package_name {
  std::string id;         ///< "Acme.Web"
  std::string version;    ///< "1.0.0", "1.0.0-beta.1+build.5", "2024.1.3.4"
  std::string extension;  ///< ".zip", ".nupkg", ".tar", ".tar.gz", ".tgz", ".tar.bz2", or "" for a directory
};

/// Splits "<id>.<version><extension>" (or a directory name "<id>.<version>"): the version is the first
/// dot-separated part that starts a valid SemVer 2 / four-part version reaching to the end. nullopt when the
/// name has no such version (then id and version must come from variables).
///
/// The extension is recognised case-insensitively and returned in lower case; anything else (including no
/// extension) is part of the name, as for a directory. A path is accepted: only its last component counts.
/// The id is never empty, so "1.0.0.zip" is id "1", version "0.0".
std::optional<package_name> parse_package_file_name(std::string_view file_name);

/// A package version as Octopus accepts it: 2 to 4 dot-separated numbers (each fitting an int; leading
/// zeros allowed, as NuGet does), then an optional SemVer 2 pre-release ("-beta.1", no leading zeros in
/// numeric identifiers) and optional build metadata ("+sha.5").
bool is_package_version(std::string_view version);

/// The outcome of an extraction.
struct extract_result {
  bool ok = false;
  /// What went wrong, naming the package and the entry: a corrupt or truncated archive, an entry that would
  /// land outside the target (`..`, an absolute path, a link pointing outside), a write error.
  std::string error;
  std::size_t files = 0;  ///< regular files written (hard links included; a replaced duplicate once)
};

/// Extracts `package` (an archive, or a directory, which is copied) into `target`, which must exist and be
/// empty (checked). Nothing is ever written outside `target`: entries are checked before anything
/// is created, and links are never followed while writing. On failure `target` may hold a partial tree
/// (the caller removes it); nothing else is touched.
///
/// * Formats are recognised by content: zip (.zip, .nupkg), tar, gzip- or bzip2-compressed tar. From a
///   .nupkg, NuGet's packaging files are left out (`[Content_Types].xml`, `_rels/`,
///   `package/services/metadata/`, `*.nupkg.sha512`; the `.nuspec` is kept) and %XX escapes in entry names
///   are decoded, as Octopus does. Backslashes in zip entry names are separators.
/// * Refused (ok == false, the error names the package and the entry): absolute names, `..` components,
///   entries below a symbolic link of the archive, symbolic links that are absolute or resolve outside
///   `target` (following the archive's own links) or loop, hard links to anything but a file extracted
///   earlier, devices, FIFOs and sockets, names of 4096 bytes or more. A directory package is copied under
///   the same rules.
/// * Duplicate names: the last entry wins (a non-empty directory cannot be replaced).
/// * Permissions: the entry's rwx bits without setuid/setgid/sticky; 0644/0755 when it has none (a zip
///   without Unix attributes). Modification times are kept when known.
/// * Error messages hold names (control characters escaped), never file contents.
extract_result extract_package(const std::string& package, const std::string& target);

}  // namespace cuttle::runner::deploy
