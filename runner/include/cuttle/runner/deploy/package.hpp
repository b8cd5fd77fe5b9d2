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
std::optional<package_name> parse_package_file_name(std::string_view file_name);

/// The outcome of an extraction.
struct extract_result {
  bool ok = false;
  /// What went wrong, naming the package and the entry: a corrupt or truncated archive, an entry that would
  /// land outside the target (`..`, an absolute path, a link pointing outside), a write error.
  std::string error;
  std::size_t files = 0;  ///< regular files written
};

/// Extracts `package` (an archive by its extension, or a directory, which is copied) into `target`, which
/// must exist and be empty. Nothing is ever written outside `target`: entries are checked before anything
/// is created, and links are never followed while writing. On failure `target` may hold a partial tree
/// (the caller removes it); nothing else is touched.
extract_result extract_package(const std::string& package, const std::string& target);

}  // namespace cuttle::runner::deploy
