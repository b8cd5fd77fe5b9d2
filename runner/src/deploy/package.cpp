// Deployment packages: the id and version in a package's file name, and safe extraction into a directory.
// Tested by tests/deploy/package_test.cpp
//
// Extraction never writes outside the target directory, whatever the archive holds:
//
// * Every entry name is split into components first. An absolute name or a `..` component is refused, so
//   each entry names a place below the target.
// * Nothing is opened by path. Each intermediate directory is opened with openat(O_DIRECTORY | O_NOFOLLOW)
//   from a descriptor of the target, files are created with O_CREAT | O_EXCL | O_NOFOLLOW, and a name that
//   already exists (a duplicate entry: the last one wins) is unlinked first, so a write never follows a
//   link or lands in an inode another entry shares.
// * Symbolic links are created last, after every file and directory. An entry whose path goes through an
//   earlier symlink entry is refused. A link must be relative, and must resolve inside the target: it is
//   resolved component by component, expanding the links the archive itself creates (so `a -> .` with
//   `b -> a/..` is caught), once when it is read and again against the complete tree before any link is
//   made.
// * A hard link must point to a regular file extracted earlier; devices, FIFOs and sockets are refused.
//
// The extractor keeps a model of what it wrote (`tree_`): the target starts empty and only the extractor
// writes to it, so the model tells which names are directories, files or (pending) links.

#include "cuttle/runner/deploy/package.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

namespace cuttle::runner::deploy {
namespace {

// --- file names ------------------------------------------------------------------------------------------

char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (to_lower(a[k]) != to_lower(b[k])) return false;
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_identifier_char(char c) {
  return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
}

// Longest first, so ".tar.gz" is never taken for a shorter one.
constexpr std::array<std::string_view, 6> package_extensions = {".tar.bz2", ".tar.gz", ".nupkg",
                                                                ".zip",     ".tar",    ".tgz"};

/// SemVer 2 pre-release or build identifiers: dot-separated, non-empty, [0-9A-Za-z-]. Numeric pre-release
/// identifiers have no leading zeros (`numeric_leading_zeros` false); build metadata may.
bool valid_identifiers(std::string_view s, bool numeric_leading_zeros) {
  while (true) {
    const auto dot = s.find('.');
    const auto id = s.substr(0, dot);
    if (id.empty() || !std::all_of(id.begin(), id.end(), is_identifier_char)) return false;
    if (!numeric_leading_zeros && id.size() > 1 && id[0] == '0' &&
        std::all_of(id.begin(), id.end(), is_digit))
      return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

}  // namespace

bool is_package_version(std::string_view v) {
  const auto end = v.find_first_of("-+");
  std::string_view release = v.substr(0, end);
  int parts = 0;
  while (true) {
    const auto dot = release.find('.');
    const auto part = release.substr(0, dot);
    // Digits only, fitting an int as in NuGet/Octopus; leading zeros are accepted ("2024.01.05").
    if (part.empty() || !std::all_of(part.begin(), part.end(), is_digit)) return false;
    const auto first = part.find_first_not_of('0');
    if (first != std::string_view::npos) {
      const auto digits = part.substr(first);
      if (digits.size() > 10 || (digits.size() == 10 && digits > "2147483647")) return false;
    }
    ++parts;
    if (dot == std::string_view::npos) break;
    release.remove_prefix(dot + 1);
  }
  if (parts < 2 || parts > 4) return false;
  if (end == std::string_view::npos) return true;
  std::string_view rest = v.substr(end);
  if (rest[0] == '-') {
    const auto plus = rest.find('+');
    if (!valid_identifiers(rest.substr(1, plus == std::string_view::npos ? plus : plus - 1), false))
      return false;
    if (plus == std::string_view::npos) return true;
    rest.remove_prefix(plus);
  }
  return valid_identifiers(rest.substr(1), true);
}

std::optional<package_name> parse_package_file_name(std::string_view file_name) {
  while (!file_name.empty() && file_name.back() == '/') file_name.remove_suffix(1);
  if (const auto slash = file_name.rfind('/'); slash != std::string_view::npos)
    file_name.remove_prefix(slash + 1);

  std::string extension;
  for (const auto ext : package_extensions) {
    if (file_name.size() > ext.size() && iends_with(file_name, ext)) {
      extension = ext;
      file_name.remove_suffix(ext.size());
      break;
    }
  }
  // The id is everything before the first dot whose remainder is a version; it cannot be empty.
  for (auto dot = file_name.find('.', 1); dot != std::string_view::npos; dot = file_name.find('.', dot + 1)) {
    const auto version = file_name.substr(dot + 1);
    if (!version.empty() && is_digit(version[0]) && is_package_version(version))
      return package_name{std::string(file_name.substr(0, dot)), std::string(version), extension};
  }
  return std::nullopt;
}

namespace {

// --- extraction helpers ----------------------------------------------------------------------------------

/// `s` for a message: control characters escaped (names come from the archive and reach a terminal),
/// and at most 300 bytes.
std::string printable(std::string_view s) {
  constexpr std::size_t max_bytes = 300;
  std::string out;
  for (std::size_t k = 0; k < s.size(); ++k) {
    if (out.size() >= max_bytes) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[k]);
    if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string errno_text(int err) { return std::strerror(err); }

class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  ~unique_fd() { reset(); }
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// Switches this thread to a UTF-8 character type for its lifetime, so libarchive hands out UTF-8 entry
/// names whatever the process locale is (in the "C" locale it cannot convert a UTF-8 zip name at all).
class utf8_ctype_scope {
 public:
  utf8_ctype_scope() {
    for (const char* name : {"C.UTF-8", "C.utf8", "en_US.UTF-8"}) {
      locale_ = ::newlocale(LC_CTYPE_MASK, name, static_cast<locale_t>(nullptr));
      if (locale_ != static_cast<locale_t>(nullptr)) break;
    }
    if (locale_ != static_cast<locale_t>(nullptr)) previous_ = ::uselocale(locale_);
  }
  ~utf8_ctype_scope() {
    if (locale_ == static_cast<locale_t>(nullptr)) return;
    ::uselocale(previous_);
    ::freelocale(locale_);
  }
  utf8_ctype_scope(const utf8_ctype_scope&) = delete;
  utf8_ctype_scope& operator=(const utf8_ctype_scope&) = delete;

 private:
  locale_t locale_ = static_cast<locale_t>(nullptr);
  locale_t previous_ = static_cast<locale_t>(nullptr);
};

std::string join(const std::vector<std::string>& parts, std::size_t n) {
  std::string out;
  for (std::size_t k = 0; k < n; ++k) {
    if (k > 0) out += '/';
    out += parts[k];
  }
  return out;
}

std::string join(const std::vector<std::string>& parts) { return join(parts, parts.size()); }

std::vector<std::string> split_slashes(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    const auto slash = s.find('/');
    out.emplace_back(s.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    s.remove_prefix(slash + 1);
  }
}

/// The components of an entry name (empty ones and "." dropped); the reason when the name is unsafe.
struct entry_path {
  std::vector<std::string> parts;
  std::string problem;
};

entry_path split_entry_name(std::string_view name) {
  entry_path result;
  if (name.size() >= PATH_MAX) {
    result.problem = fmt::format("its name is longer than {} bytes", PATH_MAX - 1);
  } else if (name.find('\0') != std::string_view::npos) {
    result.problem = "its name contains a NUL byte";
  } else if (!name.empty() && name[0] == '/') {
    result.problem = "it is an absolute path";
  } else {
    for (auto& part : split_slashes(name)) {
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        result.problem = "its path contains a '..' component";
        result.parts.clear();
        break;
      }
      result.parts.push_back(std::move(part));
    }
  }
  return result;
}

/// Decodes the %XX escapes of an OPC part name (NuGet stores "my file.txt" as "my%20file.txt"); a '%'
/// that does not start an escape stays as it is.
std::string percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '%' && k + 2 < s.size() && hex(s[k + 1]) >= 0 && hex(s[k + 2]) >= 0) {
      out += static_cast<char>(hex(s[k + 1]) * 16 + hex(s[k + 2]));
      k += 2;
    } else {
      out += s[k];
    }
  }
  return out;
}

/// NuGet's packaging files, which Octopus does not extract from a .nupkg (the top-level .nuspec is kept).
bool is_nuget_packaging_file(std::string_view path) {
  auto is_or_under = [&](std::string_view dir) {
    return iequals(path, dir) ||
           (path.size() > dir.size() && istarts_with(path, dir) && path[dir.size()] == '/');
  };
  return is_or_under("_rels") || is_or_under("package/services/metadata") ||
         istarts_with(path, "[Content_Types].xml") || iends_with(path, ".nupkg.sha512");
}

/// The permission bits to give an entry: the archive's rwx bits without setuid/setgid/sticky; 0644 or
/// 0755 when it has none.
mode_t permissions(mode_t archive_mode, bool directory) {
  const mode_t bits = archive_mode & 0777;
  if (bits != 0) return bits;
  return directory ? 0755 : 0644;
}

const char* type_name(mode_t type) {
  switch (type) {
    case S_IFIFO:
      return "a FIFO";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFSOCK:
      return "a socket";
    default:
      return "of an unsupported type";
  }
}

bool write_all_at(int fd, const char* data, std::size_t size, off_t offset) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) {
      errno = EIO;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
    offset += n;
  }
  return true;
}

/// Writes an entry's data to `fd`; false with a reason (never the data itself) on failure.
using data_writer = std::function<bool(int fd, std::string& why)>;

// --- the extractor -------------------------------------------------------------------------------------

class extractor {
 public:
  extractor(std::string package, int root) : package_(std::move(package)), root_(root) {}

  const std::string& error() const { return error_; }

  std::size_t files() const {
    return static_cast<std::size_t>(std::count_if(
        tree_.begin(), tree_.end(), [](const auto& entry) { return entry.second.kind == node_kind::file; }));
  }

  /// Refuses an entry for a reason of its own (unsafe, unsupported); always false.
  bool refuse(std::string_view name, std::string_view reason) {
    error_ = fmt::format("{}: refusing entry '{}': {}", package_, printable(name), reason);
    return false;
  }

  /// Reports a failure while writing an entry; always false.
  bool fail(std::string_view name, std::string_view why) {
    error_ = fmt::format("{}: entry '{}': {}", package_, printable(name), why);
    return false;
  }

  bool add_directory(const std::vector<std::string>& parts, std::string_view name, mode_t mode,
                     std::optional<timespec> mtime) {
    if (parts.empty()) return true;  // "./": the target itself
    if (!check_parents(parts, name)) return false;
    const auto key = join(parts);
    if (!make_room(key, parts, name, true)) return false;
    std::string why;
    if (!open_dir(parts, parts.size(), true, why)) return fail(name, why);
    auto& n = tree_[key];
    n.kind = node_kind::directory;
    n.mode = permissions(mode, true);
    n.mtime = mtime;
    return true;
  }

  bool add_file(const std::vector<std::string>& parts, std::string_view name, mode_t mode,
                std::optional<timespec> mtime, const data_writer& write) {
    if (parts.empty()) return refuse(name, "it names the target directory itself");
    if (!check_parents(parts, name)) return false;
    const auto key = join(parts);
    if (!make_room(key, parts, name, false)) return false;
    std::string why;
    const int dir = parent_dir(parts, why);
    if (dir < 0) return fail(name, why);
    unique_fd out(
        ::openat(dir, parts.back().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) return fail(name, "cannot create the file: " + errno_text(errno));
    tree_[key] = node{node_kind::file, 0, std::nullopt, {}};
    if (!write(out.get(), why)) return fail(name, why);
    if (::fchmod(out.get(), permissions(mode, false)) != 0)
      return fail(name, "cannot set permissions: " + errno_text(errno));
    if (mtime) {
      const std::array<timespec, 2> times = {*mtime, *mtime};
      if (::futimens(out.get(), times.data()) != 0)
        return fail(name, "cannot set the modification time: " + errno_text(errno));
    }
    if (::close(out.release()) != 0) return fail(name, "cannot write the file: " + errno_text(errno));
    return true;
  }

  bool add_symlink(const std::vector<std::string>& parts, std::string_view name, std::string_view target,
                   std::optional<timespec> mtime) {
    if (parts.empty()) return refuse(name, "it names the target directory itself");
    if (!check_link(parts, name, target)) return false;
    if (!check_parents(parts, name)) return false;
    const auto key = join(parts);
    if (!make_room(key, parts, name, false)) return false;
    std::string why;
    if (parent_dir(parts, why) < 0) return fail(name, why);
    tree_[key] = node{node_kind::symlink, 0, mtime, std::string(target)};
    return true;
  }

  bool add_hardlink(const std::vector<std::string>& parts, std::string_view name, std::string_view link_name,
                    const entry_path& link) {
    if (parts.empty()) return refuse(name, "it names the target directory itself");
    if (!link.problem.empty())
      return refuse(name,
                    fmt::format("it is a hard link to '{}', and {}", printable(link_name), link.problem));
    const auto link_key = join(link.parts);
    const auto source = tree_.find(link_key);
    if (source == tree_.end() || source->second.kind != node_kind::file)
      return refuse(name, fmt::format("it is a hard link to '{}', which is not a file extracted before it",
                                      printable(link_name)));
    const auto key = join(parts);
    if (key == link_key) return refuse(name, "it is a hard link to itself");
    if (!check_parents(parts, name)) return false;
    if (!make_room(key, parts, name, false)) return false;
    std::string why;
    const auto source_dir = open_dir(link.parts, link.parts.size() - 1, false, why);
    if (!source_dir) return fail(name, why);
    const int dir = parent_dir(parts, why);
    if (dir < 0) return fail(name, why);
    // Flags 0: the source is not dereferenced (it is a regular file we wrote anyway).
    if (::linkat(source_dir.get(), link.parts.back().c_str(), dir, parts.back().c_str(), 0) != 0)
      return fail(name, "cannot create the hard link: " + errno_text(errno));
    tree_[key] = node{node_kind::file, 0, std::nullopt, {}};
    return true;
  }

  /// Creates the symbolic links (each checked again against the finished tree), then gives the directories
  /// their permissions and times, deepest first (a read-only directory must not stop its own contents).
  bool finish() {
    for (const auto& [key, n] : tree_) {
      if (n.kind != node_kind::symlink) continue;
      if (!check_link(split_slashes(key), key, n.link)) return false;
    }
    std::string why;
    for (const auto& [key, n] : tree_) {
      if (n.kind != node_kind::symlink) continue;
      const auto parts = split_slashes(key);
      const int dir = parent_dir(parts, why);
      if (dir < 0) return fail(key, why);
      if (::symlinkat(n.link.c_str(), dir, parts.back().c_str()) != 0)
        return fail(key, "cannot create the symbolic link: " + errno_text(errno));
      if (n.mtime) {
        const std::array<timespec, 2> times = {*n.mtime, *n.mtime};
        // Best effort: not every file system keeps a link's own times.
        (void)::utimensat(dir, parts.back().c_str(), times.data(), AT_SYMLINK_NOFOLLOW);
      }
    }
    parent_.reset();
    parent_valid_ = false;
    for (auto it = tree_.rbegin(); it != tree_.rend(); ++it) {
      const auto& [key, n] = *it;
      if (n.kind != node_kind::directory) continue;
      const auto parts = split_slashes(key);
      const auto dir = open_dir(parts, parts.size(), false, why);
      if (!dir) return fail(key, why);
      if (::fchmod(dir.get(), n.mode) != 0) return fail(key, "cannot set permissions: " + errno_text(errno));
      if (n.mtime) {
        const std::array<timespec, 2> times = {*n.mtime, *n.mtime};
        if (::futimens(dir.get(), times.data()) != 0)
          return fail(key, "cannot set the modification time: " + errno_text(errno));
      }
    }
    return true;
  }

 private:
  enum class node_kind { directory, file, symlink };
  struct node {
    node_kind kind = node_kind::directory;
    mode_t mode = 0755;             ///< directories: applied in finish()
    std::optional<timespec> mtime;  ///< directories and links: applied in finish()
    std::string link;               ///< symlinks: the target text
  };

  /// Refuses an entry below a symbolic link of the archive: it would be written wherever the link points.
  bool check_parents(const std::vector<std::string>& parts, std::string_view name) {
    std::string key;
    for (std::size_t n = 0; n + 1 < parts.size(); ++n) {
      if (n > 0) key += '/';
      key += parts[n];
      const auto it = tree_.find(key);
      if (it != tree_.end() && it->second.kind == node_kind::symlink)
        return refuse(
            name, fmt::format("it would be written through the symbolic link '{}'", printable(it->first)));
    }
    return true;
  }

  /// Refuses a symbolic link that is absolute or resolves outside the target with the links known now.
  bool check_link(const std::vector<std::string>& parts, std::string_view name, std::string_view target) {
    if (target.empty()) return refuse(name, "it is a symbolic link with an empty target");
    if (target.size() >= PATH_MAX)
      return refuse(name, "it is a symbolic link with a target that is too long");
    if (target.find('\0') != std::string_view::npos)
      return refuse(name, "it is a symbolic link whose target contains a NUL byte");
    if (target[0] == '/')
      return refuse(name, fmt::format("it is a symbolic link to the absolute path '{}'", printable(target)));
    switch (resolve(parts, target)) {
      case resolution::inside:
        return true;
      case resolution::outside:
        return refuse(name, fmt::format("it is a symbolic link to '{}', which resolves outside the target "
                                        "directory",
                                        printable(target)));
      case resolution::loop:
        return refuse(name, fmt::format("it is a symbolic link to '{}', which loops", printable(target)));
    }
    return false;
  }

  enum class resolution { inside, outside, loop };

  /// Resolves the link `target` of the entry `parts` as the kernel would, component by component, expanding
  /// the archive's own links. Names not (yet) in the tree are taken as directories.
  resolution resolve(const std::vector<std::string>& parts, std::string_view target) const {
    constexpr int max_links = 40;  // Linux's MAXSYMLINKS
    // The path reached so far, as a key of `tree_`, and where each of its components starts.
    std::string at;
    std::vector<std::size_t> starts;
    auto push = [&](const std::string& part) {
      starts.push_back(at.size());
      if (!at.empty()) at += '/';
      at += part;
    };
    auto pop = [&] {
      at.resize(starts.back());
      starts.pop_back();
    };
    for (std::size_t k = 0; k + 1 < parts.size(); ++k) push(parts[k]);
    std::deque<std::string> todo;
    for (auto& part : split_slashes(target)) todo.push_back(std::move(part));
    int links = 0;
    while (!todo.empty()) {
      const auto part = std::move(todo.front());
      todo.pop_front();
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        if (starts.empty()) return resolution::outside;
        pop();
        continue;
      }
      push(part);
      const auto it = tree_.find(at);
      if (it == tree_.end() || it->second.kind != node_kind::symlink) continue;
      if (++links > max_links) return resolution::loop;
      pop();
      const auto& link = it->second.link;
      if (link.empty() || link[0] == '/') return resolution::outside;
      auto expansion = split_slashes(link);
      todo.insert(todo.begin(), expansion.begin(), expansion.end());
    }
    return resolution::inside;
  }

  bool has_children(const std::string& key) const {
    const auto prefix = key + '/';
    const auto it = tree_.lower_bound(prefix);
    return it != tree_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
  }

  /// Clears `key` for a new entry (a duplicate: the last one wins). A pending link is dropped, a file
  /// unlinked, an empty directory removed; a directory with contents stays only for a directory entry.
  bool make_room(const std::string& key, const std::vector<std::string>& parts, std::string_view name,
                 bool directory) {
    const auto it = tree_.find(key);
    if (it == tree_.end()) return true;
    if (it->second.kind == node_kind::symlink) {
      tree_.erase(it);
      return true;
    }
    if (it->second.kind == node_kind::directory) {
      if (directory) return true;
      if (has_children(key)) return refuse(name, "it would replace a directory that is not empty");
    }
    std::string why;
    const int dir = parent_dir(parts, why);
    if (dir < 0) return fail(name, why);
    const bool removing_directory = it->second.kind == node_kind::directory;
    if (::unlinkat(dir, parts.back().c_str(), removing_directory ? AT_REMOVEDIR : 0) != 0)
      return fail(name, "cannot replace the earlier entry: " + errno_text(errno));
    if (removing_directory) parent_valid_ = false;  // in case it was the cached one
    tree_.erase(it);
    return true;
  }

  /// Opens the directory made of the first `n` components below the root, one component at a time and
  /// never through a symbolic link; creates the missing ones when `create`.
  unique_fd open_dir(const std::vector<std::string>& parts, std::size_t n, bool create, std::string& why) {
    unique_fd dir(::fcntl(root_, F_DUPFD_CLOEXEC, 0));
    if (!dir) {
      why = "cannot open the target directory: " + errno_text(errno);
      return {};
    }
    constexpr int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    for (std::size_t k = 0; k < n; ++k) {
      const char* part = parts[k].c_str();
      int fd = ::openat(dir.get(), part, flags);
      if (fd < 0 && errno == ENOENT && create) {
        if (::mkdirat(dir.get(), part, 0700) != 0 && errno != EEXIST) {
          why = fmt::format("cannot create the directory '{}': {}", printable(join(parts, k + 1)),
                            errno_text(errno));
          return {};
        }
        tree_.try_emplace(join(parts, k + 1));  // a directory the archive does not list: 0755
        fd = ::openat(dir.get(), part, flags);
        if (fd >= 0) (void)::fchmod(fd, 0700);  // whatever the umask, so its contents can be written
      }
      if (fd < 0) {
        why = fmt::format("cannot open the directory '{}': {}", printable(join(parts, k + 1)),
                          errno_text(errno));
        return {};
      }
      dir.reset(fd);
    }
    return dir;
  }

  /// The directory holding the entry `parts` (created when missing); kept open for the next entry, which
  /// is usually in the same directory. -1 with `why` on failure.
  int parent_dir(const std::vector<std::string>& parts, std::string& why) {
    const auto key = join(parts, parts.size() - 1);
    if (parent_valid_ && key == parent_key_) return parent_.get();
    parent_valid_ = false;
    parent_ = open_dir(parts, parts.size() - 1, true, why);
    if (!parent_) return -1;
    parent_key_ = key;
    parent_valid_ = true;
    return parent_.get();
  }

  std::string package_;
  int root_;
  std::string error_;
  std::map<std::string, node> tree_;  ///< everything extracted, by path below the root
  unique_fd parent_;
  std::string parent_key_;
  bool parent_valid_ = false;
};

// --- archives --------------------------------------------------------------------------------------------

std::string archive_message(archive* a) {
  const char* message = ::archive_error_string(a);
  return message != nullptr ? printable(message) : std::string("unknown error");
}

std::optional<timespec> entry_mtime(archive_entry* e) {
  if (::archive_entry_mtime_is_set(e) == 0) return std::nullopt;
  timespec t{};
  t.tv_sec = ::archive_entry_mtime(e);
  t.tv_nsec = ::archive_entry_mtime_nsec(e);
  return t;
}

/// A name from the archive, as UTF-8 (or its raw bytes when they are not), with a zip's backslashes taken
/// as separators.
std::optional<std::string> entry_text(const char* mbs, const char* utf8, bool zip) {
  const char* text = mbs != nullptr ? mbs : utf8;
  if (text == nullptr) return std::nullopt;
  std::string out(text);
  if (zip) std::replace(out.begin(), out.end(), '\\', '/');
  return out;
}

/// libarchive reads a zip entry's MS-DOS attributes as 0664/0775 (0444/0555 when read-only). Those are no
/// Unix permissions, so the entry gets the defaults; a Unix 0664/0775 in a zip is indistinguishable and
/// gets them too (0644/0755: never group-writable by accident).
mode_t zip_mode(mode_t mode, bool directory) {
  return (mode & 0777) == (directory ? 0775U : 0664U) ? mode & ~mode_t{0777} : mode;
}

/// Extracts the archive open on `package_fd` through `x`; false with `error` set on failure.
bool extract_archive(extractor& x, const std::string& package, int package_fd, bool nupkg,
                     std::string& error) {
  const utf8_ctype_scope utf8;
  const std::unique_ptr<archive, decltype(&::archive_read_free)> owner(::archive_read_new(),
                                                                       &::archive_read_free);
  archive* a = owner.get();
  if (a == nullptr) {
    error = fmt::format("{}: cannot read the package: out of memory", package);
    return false;
  }
  if (::archive_read_support_format_zip(a) != ARCHIVE_OK ||
      ::archive_read_support_format_tar(a) != ARCHIVE_OK ||
      ::archive_read_support_filter_gzip(a) < ARCHIVE_WARN ||
      ::archive_read_support_filter_bzip2(a) < ARCHIVE_WARN) {
    error = fmt::format("{}: cannot read the package: {}", package, archive_message(a));
    return false;
  }
  // A gzip or bzip2 stream that fails before its first entry is a damaged package, not a foreign file
  // (libarchive reads ahead, so a truncated one fails already when it is opened).
  std::array<unsigned char, 3> magic{};
  const bool compressed =
      ::pread(package_fd, magic.data(), magic.size(), 0) == 3 &&
      ((magic[0] == 0x1F && magic[1] == 0x8B) || (magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h'));
  auto unreadable = [&](const std::string& last) {
    if (::archive_format(a) == 0 && !compressed) {
      error = fmt::format("{}: not a zip, nupkg, tar, tar.gz, tgz or tar.bz2 package: {}", package,
                          archive_message(a));
    } else if (last.empty()) {
      error = fmt::format("{}: corrupt or truncated archive: {}", package, archive_message(a));
    } else {
      error = fmt::format("{}: corrupt or truncated archive after entry '{}': {}", package, printable(last),
                          archive_message(a));
    }
    return false;
  };
  if (::archive_read_open_fd(a, package_fd, 64 * 1024) != ARCHIVE_OK) return unreadable({});

  std::string last;  // the previous entry's name, for messages
  while (true) {
    archive_entry* e = nullptr;
    const int r = ::archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return unreadable(last);
    const bool zip = (::archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP;
    auto name = entry_text(::archive_entry_pathname(e), ::archive_entry_pathname_utf8(e), zip);
    if (!name) {
      error = fmt::format("{}: an entry after '{}' has a name that cannot be read", package, printable(last));
      return false;
    }
    if (nupkg) *name = percent_decode(*name);
    last = *name;
    const auto path = split_entry_name(*name);
    if (!path.problem.empty()) {
      x.refuse(*name, path.problem);
      error = x.error();
      return false;
    }
    if (nupkg && is_nuget_packaging_file(join(path.parts))) continue;

    const auto mtime = entry_mtime(e);
    mode_t type = ::archive_entry_filetype(e);
    if (zip && type == AE_IFREG && !name->empty() && name->back() == '/') type = AE_IFDIR;
    mode_t mode = ::archive_entry_perm(e);
    if (zip) mode = zip_mode(mode, type == AE_IFDIR);

    bool ok = false;
    const char* hardlink = ::archive_entry_hardlink(e);
    const char* hardlink_utf8 = hardlink == nullptr ? ::archive_entry_hardlink_utf8(e) : nullptr;
    if (hardlink != nullptr || hardlink_utf8 != nullptr) {
      const auto link = entry_text(hardlink, hardlink_utf8, zip).value_or(std::string());
      ok = x.add_hardlink(path.parts, *name, link, split_entry_name(link));
    } else if (type == AE_IFDIR) {
      ok = x.add_directory(path.parts, *name, mode, mtime);
    } else if (type == AE_IFREG) {
      const data_writer write = [&](int fd, std::string& why) {
        while (true) {
          const void* buffer = nullptr;
          std::size_t size = 0;
          la_int64_t offset = 0;
          const int status = ::archive_read_data_block(a, &buffer, &size, &offset);
          if (status == ARCHIVE_EOF) break;
          if (status != ARCHIVE_OK) {
            why = "corrupt or truncated archive: " + archive_message(a);
            return false;
          }
          if (offset < 0 ||
              !write_all_at(fd, static_cast<const char*>(buffer), size, static_cast<off_t>(offset))) {
            why = "cannot write the file: " + errno_text(offset < 0 ? EINVAL : errno);
            return false;
          }
        }
        // A sparse file may end in a hole, which no data block covers.
        if (::archive_entry_sparse_count(e) > 0 && ::archive_entry_size_is_set(e) != 0 &&
            ::ftruncate(fd, static_cast<off_t>(::archive_entry_size(e))) != 0) {
          why = "cannot write the file: " + errno_text(errno);
          return false;
        }
        return true;
      };
      ok = x.add_file(path.parts, *name, mode, mtime, write);
    } else if (type == AE_IFLNK) {
      const char* target = ::archive_entry_symlink(e);
      const auto text =
          entry_text(target, target == nullptr ? ::archive_entry_symlink_utf8(e) : nullptr, zip);
      ok = text ? x.add_symlink(path.parts, *name, *text, mtime)
                : x.refuse(*name, "it is a symbolic link whose target cannot be read");
    } else {
      ok = x.refuse(
          *name, fmt::format("it is {}; only files, directories and links are extracted", type_name(type)));
    }
    if (!ok) {
      error = x.error();
      return false;
    }
  }
  if (!x.finish()) {
    error = x.error();
    return false;
  }
  return true;
}

// --- directories ---------------------------------------------------------------------------------------

std::optional<timespec> stat_mtime(const struct stat& st) { return st.st_mtim; }

/// Copies the directory `dir` (the package's `parts`) through `x`; false with `error` set on failure.
bool copy_tree(extractor& x, const std::string& package, int dir, std::vector<std::string>& parts,
               const struct stat& target, int depth, std::string& error) {
  constexpr int max_depth = 256;
  auto system_error = [&](std::string_view what) {
    error = fmt::format("{}: cannot {} '{}': {}", package, what, printable(parts.empty() ? "." : join(parts)),
                        errno_text(errno));
    return false;
  };
  std::vector<std::string> names;
  {
    unique_fd copy(::fcntl(dir, F_DUPFD_CLOEXEC, 0));
    DIR* listing = copy ? ::fdopendir(copy.get()) : nullptr;
    if (listing == nullptr) return system_error("read the directory");
    (void)copy.release();
    errno = 0;
    while (const dirent* entry = ::readdir(listing)) {
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
      errno = 0;
    }
    const int err = errno;
    ::closedir(listing);
    if (err != 0) {
      errno = err;
      return system_error("read the directory");
    }
  }
  std::sort(names.begin(), names.end());

  for (const auto& name : names) {
    parts.push_back(name);
    const auto relative = join(parts);
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return system_error("read");
    bool ok = false;
    if (S_ISDIR(st.st_mode)) {
      if (st.st_dev == target.st_dev && st.st_ino == target.st_ino) {
        error = fmt::format("{}: the target directory is inside the package, at '{}'", package,
                            printable(relative));
        return false;
      }
      if (depth >= max_depth) {
        error = fmt::format("{}: '{}' is nested more than {} directories deep", package, printable(relative),
                            max_depth);
        return false;
      }
      const unique_fd child(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child) return system_error("open the directory");
      if (!x.add_directory(parts, relative, st.st_mode, stat_mtime(st))) {
        error = x.error();
        return false;
      }
      if (!copy_tree(x, package, child.get(), parts, target, depth + 1, error)) return false;
      ok = true;
    } else if (S_ISREG(st.st_mode)) {
      // O_NONBLOCK: something swapped in for the file (a FIFO) must not block the copy.
      const unique_fd in(
          ::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
      struct stat opened {};
      if (!in || ::fstat(in.get(), &opened) != 0) return system_error("open");
      if (!S_ISREG(opened.st_mode)) {
        x.refuse(relative, "it changed while being copied");
        error = x.error();
        return false;
      }
      const data_writer write = [&](int fd, std::string& why) {
        std::vector<char> buffer(std::size_t{1} << 16);
        off_t offset = 0;
        while (true) {
          const ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
          if (n == 0) return true;
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) {
            why = "cannot read the file: " + errno_text(errno);
            return false;
          }
          if (!write_all_at(fd, buffer.data(), static_cast<std::size_t>(n), offset)) {
            why = "cannot write the file: " + errno_text(errno);
            return false;
          }
          offset += n;
        }
      };
      ok = x.add_file(parts, relative, st.st_mode, stat_mtime(st), write);
    } else if (S_ISLNK(st.st_mode)) {
      std::string link(PATH_MAX, '\0');
      const ssize_t n = ::readlinkat(dir, name.c_str(), link.data(), link.size());
      if (n < 0) return system_error("read the symbolic link");
      link.resize(static_cast<std::size_t>(n));
      ok = x.add_symlink(parts, relative, link, stat_mtime(st));
    } else {
      ok = x.refuse(relative, fmt::format("it is {}; only files, directories and links are copied",
                                          type_name(st.st_mode & S_IFMT)));
    }
    if (!ok) {
      error = x.error();
      return false;
    }
    parts.pop_back();
  }
  return true;
}

bool is_empty_directory(int fd) {
  unique_fd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  DIR* listing = copy ? ::fdopendir(copy.get()) : nullptr;
  if (listing == nullptr) return false;
  (void)copy.release();
  bool empty = true;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(listing);
  return empty;
}

}  // namespace

extract_result extract_package(const std::string& package, const std::string& target) {
  extract_result result;
  // O_NONBLOCK: a FIFO given as the package must not hang the open.
  const unique_fd source(::open(package.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  struct stat source_st {};
  if (!source || ::fstat(source.get(), &source_st) != 0) {
    result.error = fmt::format("{}: cannot open the package: {}", package, errno_text(errno));
    return result;
  }
  if (!S_ISREG(source_st.st_mode) && !S_ISDIR(source_st.st_mode)) {
    result.error = fmt::format("{}: the package is neither a file nor a directory", package);
    return result;
  }
  const unique_fd root(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct stat root_st {};
  if (!root || ::fstat(root.get(), &root_st) != 0) {
    result.error = fmt::format("{}: cannot extract into '{}': {}", package, target, errno_text(errno));
    return result;
  }
  if (!is_empty_directory(root.get())) {
    result.error = fmt::format("{}: cannot extract into '{}': the directory is not empty", package, target);
    return result;
  }

  extractor x(package, root.get());
  if (S_ISDIR(source_st.st_mode)) {
    std::vector<std::string> parts;
    result.ok = copy_tree(x, package, source.get(), parts, root_st, 0, result.error) && x.finish();
    if (!result.ok && result.error.empty()) result.error = x.error();
  } else {
    result.ok = extract_archive(x, package, source.get(), iends_with(package, ".nupkg"), result.error);
  }
  result.files = x.files();
  return result;
}

}  // namespace cuttle::runner::deploy
