// Globs, text encodings, install-directory copies and purges, and the deployment journal for `cuttle deploy`.
// Tested by tests/deploy/deploy_files_test.cpp

#include "cuttle/runner/deploy/deploy_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "cuttle/runner/files.hpp"
#include "structured_text.hpp"

namespace cuttle::runner::deploy {
namespace {

using detail::append_utf8;
using detail::lower_ascii;

namespace fs = std::filesystem;

std::string errno_text(int err) { return std::strerror(err); }

std::vector<std::string_view> split_segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool segment_match(std::string_view pattern, std::string_view name) {
  const std::string p(pattern);
  const std::string n(name);
  return ::fnmatch(p.c_str(), n.c_str(), 0) == 0;
}

bool match_segments(const std::vector<std::string_view>& pattern, std::size_t pi,
                    const std::vector<std::string_view>& path, std::size_t si) {
  while (pi < pattern.size()) {
    if (pattern[pi] == "**") {
      // Collapse runs of "**", then try every split point.
      while (pi + 1 < pattern.size() && pattern[pi + 1] == "**") ++pi;
      if (pi + 1 == pattern.size()) return true;
      for (std::size_t k = si; k <= path.size(); ++k) {
        if (match_segments(pattern, pi + 1, path, k)) return true;
      }
      return false;
    }
    if (si >= path.size() || !segment_match(pattern[pi], path[si])) return false;
    ++pi;
    ++si;
  }
  return si == path.size();
}

bool has_wildcard(std::string_view segment) { return segment.find_first_of("*?[") != std::string_view::npos; }

/// Walks `dir` (absolute) for the pattern segments from `pi` on, adding matches to `out`.
void walk(const std::string& dir, const std::vector<std::string_view>& pattern, std::size_t pi,
          glob_matches& out, std::set<std::string>& seen_files, std::set<std::string>& seen_dirs) {
  auto add = [&](const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
      if (seen_dirs.insert(path).second) out.directories.push_back(path);
    } else if (S_ISREG(st.st_mode)) {
      if (seen_files.insert(path).second) out.files.push_back(path);
    }
  };
  auto join = [&](std::string_view name) {
    return dir == "/" ? "/" + std::string(name) : dir + "/" + std::string(name);
  };
  if (pi == pattern.size()) {
    add(dir);
    return;
  }
  const auto segment = pattern[pi];
  if (segment == "**") {
    walk(dir, pattern, pi + 1, out, seen_files, seen_dirs);  // zero segments
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec))
        walk(it->path().string(), pattern, pi, out, seen_files, seen_dirs);
    }
    return;
  }
  if (!has_wildcard(segment)) {
    if (segment == ".") return walk(dir, pattern, pi + 1, out, seen_files, seen_dirs);
    const auto next = segment == ".." ? fs::path(dir).parent_path().string() : join(segment);
    struct stat st {};
    if (::stat(next.c_str(), &st) != 0) return;
    if (pi + 1 == pattern.size()) return add(next);
    if (S_ISDIR(st.st_mode)) walk(next, pattern, pi + 1, out, seen_files, seen_dirs);
    return;
  }
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (!segment_match(segment, name)) continue;
    if (pi + 1 == pattern.size()) {
      add(it->path().string());
    } else if (it->is_directory(ec)) {
      walk(it->path().string(), pattern, pi + 1, out, seen_files, seen_dirs);
    }
  }
}

// --- UTF-8 / UTF-16 / Windows-1252
// --------------------------------------------------------------------------

/// Windows-1252's 0x80-0x9F block (0 where the code page leaves a byte undefined: it maps to U+FFFD).
constexpr char16_t cp1252_high[32] = {0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                      0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
                                      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                      0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

/// Decodes one UTF-8 character at `i` (the input is valid UTF-8); advances `i`.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) {
    ++i;
    return b;
  }
  const int len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
  char32_t c = b & (0xFF >> (len + 1));
  for (int k = 1; k < len && i + static_cast<std::size_t>(k) < s.size(); ++k)
    c = (c << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3F);
  i += static_cast<std::size_t>(len);
  return c;
}

std::string decode_utf16(std::string_view bytes, bool little) {
  std::string out;
  out.reserve(bytes.size());
  auto unit = [&](std::size_t k) -> char16_t {
    const auto a = static_cast<unsigned char>(bytes[k]);
    const auto b = static_cast<unsigned char>(bytes[k + 1]);
    return static_cast<char16_t>(little ? (a | (b << 8)) : ((a << 8) | b));
  };
  std::size_t k = 0;
  for (; k + 1 < bytes.size(); k += 2) {
    const char16_t u = unit(k);
    if (u >= 0xD800 && u <= 0xDBFF && k + 3 < bytes.size()) {
      const char16_t low = unit(k + 2);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        append_utf8(out, 0x10000 + ((static_cast<char32_t>(u) - 0xD800) << 10) + (low - 0xDC00));
        k += 2;
        continue;
      }
    }
    append_utf8(out, (u >= 0xD800 && u <= 0xDFFF) ? 0xFFFD : u);
  }
  if (k < bytes.size()) append_utf8(out, 0xFFFD);
  return out;
}

std::string encode_utf16(std::string_view utf8, bool little) {
  std::string out;
  out.reserve(utf8.size() * 2 + 2);
  auto put = [&](char16_t u) {
    const char a = static_cast<char>(u & 0xFF);
    const char b = static_cast<char>(u >> 8);
    out += little ? a : b;
    out += little ? b : a;
  };
  put(0xFEFF);
  for (std::size_t i = 0; i < utf8.size();) {
    const char32_t c = next_code_point(utf8, i);
    if (c >= 0x10000) {
      put(static_cast<char16_t>(0xD800 + ((c - 0x10000) >> 10)));
      put(static_cast<char16_t>(0xDC00 + ((c - 0x10000) & 0x3FF)));
    } else {
      put(static_cast<char16_t>(c));
    }
  }
  return out;
}

// --- copying
// ------------------------------------------------------------------------------------------------

/// Copies the regular file `from` to `to` through a temporary file in `to`'s directory and a rename.
std::optional<std::string> copy_file(const std::string& from, const std::string& to, mode_t mode) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) return "cannot read '" + from + "': " + errno_text(errno);
  const auto slash = to.rfind('/');
  std::string tmp = to.substr(0, slash + 1) + "." + to.substr(slash + 1) + ".cuttle-XXXXXX";
  const int out = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    return "cannot create a file in '" + to.substr(0, slash) + "': " + errno_text(err);
  }
  auto fail = [&](const std::string& what, int err) {
    ::close(in);
    ::close(out);
    ::unlink(tmp.c_str());
    return what + ": " + errno_text(err);
  };
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(in, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot read '" + from + "'", errno);
    if (n == 0) break;
    if (!write_all(out, std::string_view(buffer, static_cast<std::size_t>(n))))
      return fail("cannot write '" + to + "'", errno);
  }
  if (::fchmod(out, mode & 0777) != 0) return fail("cannot set the permissions of '" + to + "'", errno);
  ::close(in);
  if (::close(out) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return "cannot write '" + to + "': " + errno_text(err);
  }
  // A directory (or anything but a file) in the way is an error, not something to replace.
  struct stat st {};
  if (::lstat(to.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    ::unlink(tmp.c_str());
    return "cannot replace '" + to + "': it is a directory";
  }
  if (::rename(tmp.c_str(), to.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return "cannot replace '" + to + "': " + errno_text(err);
  }
  return std::nullopt;
}

bool copy_dir(const std::string& from, const std::string& to, copy_result& r) {
  struct stat st {};
  if (::lstat(to.c_str(), &st) != 0) {
    if (::mkdir(to.c_str(), 0755) != 0) {
      r.error = "cannot create '" + to + "': " + errno_text(errno);
      return false;
    }
  } else if (!S_ISDIR(st.st_mode)) {
    r.error = "cannot copy into '" + to + "': it exists and is not a directory";
    return false;
  }
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  if (ec) {
    r.error = "cannot list '" + from + "': " + ec.message();
    return false;
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const auto src = from + "/" + name;
    const auto dst = to + "/" + name;
    if (::lstat(src.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (!copy_dir(src, dst, r)) return false;
    } else if (S_ISREG(st.st_mode)) {
      if (auto err = copy_file(src, dst, st.st_mode)) {
        r.error = *err;
        return false;
      }
      ++r.files;
    } else if (S_ISLNK(st.st_mode)) {
      std::error_code lec;
      const auto target = fs::read_symlink(src, lec);
      if (lec) continue;
      ::unlink(dst.c_str());
      if (::symlink(target.c_str(), dst.c_str()) != 0) {
        r.error = "cannot create the link '" + dst + "': " + errno_text(errno);
        return false;
      }
    }
  }
  return true;
}

/// Purges `dir` (absolute); `rel` is its path relative to the purge root ("" for the root). Returns true
/// when something inside was kept.
bool purge(const std::string& dir, const std::string& rel, const std::vector<std::string>& exclusions,
           std::optional<std::string>& error) {
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  bool kept = false;
  for (const auto& name : names) {
    const auto path = dir + "/" + name;
    const auto rel_path = rel.empty() ? name : rel + "/" + name;
    bool excluded = false;
    for (const auto& e : exclusions) {
      // "logs" and "logs/**" both keep the directory logs with everything in it.
      if (glob_match(e, rel_path) || glob_match(e, rel_path + "/**")) excluded = true;
    }
    if (excluded) {
      kept = true;
      continue;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (purge(path, rel_path, exclusions, error)) {
        kept = true;
      } else if (!error && ::rmdir(path.c_str()) != 0) {
        error = "cannot remove '" + path + "': " + errno_text(errno);
      }
    } else if (::unlink(path.c_str()) != 0) {
      error = "cannot remove '" + path + "': " + errno_text(errno);
    }
    if (error) return true;
  }
  return kept;
}

nlohmann::json entry_json(const journal_entry& e) {
  return {{"id", e.id},
          {"retentionPolicySet", e.retention_policy_set},
          {"packageId", e.package_id},
          {"packageVersion", e.package_version},
          {"extractedTo", e.extracted_to},
          {"installedTo", e.installed_to},
          {"installedOn", e.installed_on},
          {"wasSuccessful", e.successful}};
}

/// Reads the journal's entries; an error when the file exists but is not a journal.
std::optional<std::string> read_journal(const std::string& path, nlohmann::json& entries) {
  entries = nlohmann::json::array();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  std::string text;
  if (auto err = read_file(path, text)) return *err;
  try {
    entries = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return "the deployment journal '" + path + "' is not valid JSON: " + e.what();
  }
  if (!entries.is_array()) return "the deployment journal '" + path + "' is not a JSON array";
  return std::nullopt;
}

std::string string_field(const nlohmann::json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

// --- globs ------------------------------------------------------------------------------------------------

std::vector<std::string> expand_braces(std::string_view pattern) {
  // Find the first top-level '{' with a matching '}' that holds a ','.
  int depth = 0;
  std::size_t open = std::string_view::npos;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{') {
      if (depth++ == 0) open = i;
    } else if (pattern[i] == '}' && depth > 0 && --depth == 0) {
      std::vector<std::string_view> options;
      std::size_t start = open + 1;
      int inner = 0;
      for (std::size_t k = open + 1; k < i; ++k) {
        if (pattern[k] == '{') ++inner;
        if (pattern[k] == '}') --inner;
        if (pattern[k] == ',' && inner == 0) {
          options.push_back(pattern.substr(start, k - start));
          start = k + 1;
        }
      }
      options.push_back(pattern.substr(start, i - start));
      if (options.size() < 2) continue;
      std::vector<std::string> out;
      const auto head = pattern.substr(0, open);
      const auto tail = pattern.substr(i + 1);
      for (const auto o : options) {
        for (auto& e : expand_braces(std::string(head) + std::string(o) + std::string(tail)))
          out.push_back(std::move(e));
      }
      return out;
    }
  }
  return {std::string(pattern)};
}

bool glob_match(std::string_view pattern, std::string_view path) {
  return match_segments(split_segments(pattern), 0, split_segments(path), 0);
}

glob_matches find_files(const std::string& base, std::string_view pattern) {
  glob_matches out;
  std::set<std::string> seen_files;
  std::set<std::string> seen_dirs;
  for (const auto& p : expand_braces(pattern)) {
    std::string normal = p;
    std::replace(normal.begin(), normal.end(), '\\', '/');
    const bool absolute = !normal.empty() && normal[0] == '/';
    const auto segments = split_segments(normal);
    walk(absolute ? "/" : base, segments, 0, out, seen_files, seen_dirs);
  }
  std::sort(out.files.begin(), out.files.end());
  std::sort(out.directories.begin(), out.directories.end());
  return out;
}

std::vector<std::string> split_list(std::string_view text, bool commas) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = start;
    while (end < text.size() && text[end] != '\n' && text[end] != '\r' && !(commas && text[end] == ','))
      ++end;
    auto item = text.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = end + 1;
  }
  return out;
}

// --- text encodings ----------------------------------------------------------------------------------------

std::string_view encoding_name(text_encoding e) {
  switch (e) {
    case text_encoding::utf8:
      return "UTF-8";
    case text_encoding::utf8_bom:
      return "UTF-8 with BOM";
    case text_encoding::utf16le:
      return "UTF-16LE";
    case text_encoding::utf16be:
      return "UTF-16BE";
    case text_encoding::windows1252:
      return "Windows-1252";
  }
  return "UTF-8";
}

std::optional<text_encoding> encoding_from_name(std::string_view name) {
  const auto n = lower_ascii(name);
  if (n == "utf-8" || n == "utf8" || n == "ascii" || n == "us-ascii") return text_encoding::utf8;
  if (n == "utf-8-bom" || n == "utf8bom" || n == "utf-8bom") return text_encoding::utf8_bom;
  if (n == "utf-16" || n == "utf-16le" || n == "unicode" || n == "utf16") return text_encoding::utf16le;
  if (n == "utf-16be" || n == "unicodefffe" || n == "bigendianunicode") return text_encoding::utf16be;
  if (n == "windows-1252" || n == "cp1252" || n == "iso-8859-1" || n == "latin1")
    return text_encoding::windows1252;
  return std::nullopt;
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    char32_t min = 0;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
      min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      min = 0x10000;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    char32_t c = b & (0xFF >> (len + 1));
    for (std::size_t k = 1; k < len; ++k) {
      const auto cb = static_cast<unsigned char>(s[i + k]);
      if ((cb & 0xC0) != 0x80) return false;
      c = (c << 6) | (cb & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

decoded_text decode_text(std::string_view bytes) {
  decoded_text out;
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") {
    out.encoding = text_encoding::utf8_bom;
    out.utf8 = bytes.substr(3);
    return out;
  }
  if (bytes.substr(0, 2) == "\xFF\xFE") {
    out.encoding = text_encoding::utf16le;
    out.utf8 = decode_utf16(bytes.substr(2), true);
    return out;
  }
  if (bytes.substr(0, 2) == "\xFE\xFF") {
    out.encoding = text_encoding::utf16be;
    out.utf8 = decode_utf16(bytes.substr(2), false);
    return out;
  }
  if (is_valid_utf8(bytes)) {
    out.utf8 = bytes;
    return out;
  }
  out.encoding = text_encoding::windows1252;
  out.utf8.reserve(bytes.size() + bytes.size() / 8);
  for (const char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    if (b >= 0x80 && b <= 0x9F) {
      const char16_t c = cp1252_high[b - 0x80];
      append_utf8(out.utf8, c == 0 ? 0xFFFD : c);
    } else {
      append_utf8(out.utf8, b);
    }
  }
  return out;
}

std::optional<std::string> encode_text(std::string_view utf8, text_encoding e) {
  switch (e) {
    case text_encoding::utf8:
      return std::string(utf8);
    case text_encoding::utf8_bom:
      return "\xEF\xBB\xBF" + std::string(utf8);
    case text_encoding::utf16le:
      return encode_utf16(utf8, true);
    case text_encoding::utf16be:
      return encode_utf16(utf8, false);
    case text_encoding::windows1252:
      break;
  }
  std::string out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size();) {
    const char32_t c = next_code_point(utf8, i);
    if (c < 0x80 || (c >= 0xA0 && c <= 0xFF)) {
      out += static_cast<char>(c);
      continue;
    }
    const auto* hit = std::find(std::begin(cp1252_high), std::end(cp1252_high), static_cast<char16_t>(c));
    if (c > 0xFFFF || c == 0 || hit == std::end(cp1252_high)) return std::nullopt;
    out += static_cast<char>(0x80 + (hit - std::begin(cp1252_high)));
  }
  return out;
}

// --- install directories
// ------------------------------------------------------------------------------------

copy_result copy_tree(const std::string& from, const std::string& to) {
  copy_result r;
  r.ok = copy_dir(from, to, r);
  return r;
}

std::optional<std::string> purge_directory(const std::string& dir,
                                           const std::vector<std::string>& exclusions) {
  std::vector<std::string> patterns;
  for (const auto& e : exclusions) {
    for (auto& p : expand_braces(e)) {
      std::replace(p.begin(), p.end(), '\\', '/');
      patterns.push_back(std::move(p));
    }
  }
  std::optional<std::string> error;
  purge(dir, "", patterns, error);
  return error;
}

// --- the deployment journal
// -----------------------------------------------------------------------------------

journal_lookup find_successful_deployment(const std::string& journal, std::string_view policy_set,
                                          std::string_view package_id, std::string_view version) {
  journal_lookup r;
  nlohmann::json entries;
  if (auto err = read_journal(journal, entries)) {
    r.error = *err;
    return r;
  }
  for (const auto& j : entries) {
    if (!j.is_object()) continue;
    const auto ok = j.find("wasSuccessful");
    if (ok == j.end() || !ok->is_boolean() || !ok->get<bool>()) continue;
    if (string_field(j, "retentionPolicySet") != policy_set) continue;
    if (lower_ascii(string_field(j, "packageId")) != lower_ascii(package_id)) continue;
    if (string_field(j, "packageVersion") != version) continue;
    journal_entry e;
    e.id = string_field(j, "id");
    e.retention_policy_set = string_field(j, "retentionPolicySet");
    e.package_id = string_field(j, "packageId");
    e.package_version = string_field(j, "packageVersion");
    e.extracted_to = string_field(j, "extractedTo");
    e.installed_to = string_field(j, "installedTo");
    e.installed_on = string_field(j, "installedOn");
    e.successful = true;
    r.entry = std::move(e);  // later entries are newer
  }
  return r;
}

std::optional<std::string> add_journal_entry(const std::string& journal, const journal_entry& entry) {
  const auto lock_path = journal + ".lock";
  const int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0) return "cannot open the journal lock '" + lock_path + "': " + errno_text(errno);
  while (::flock(lock, LOCK_EX) != 0 && errno == EINTR) {
  }
  nlohmann::json entries;
  auto err = read_journal(journal, entries);
  if (!err) {
    entries.push_back(entry_json(entry));
    err = write_file_atomically(journal, entries.dump(2) + "\n");
  }
  ::close(lock);  // releases the lock
  return err;
}

}  // namespace cuttle::runner::deploy
