// Deployment packages: file name parsing, and extraction of real zip/nupkg/tar/tar.gz/tar.bz2 archives and
// directories built here with python3's zipfile and tarfile, including hostile and corrupt ones.

#include "cuttle/runner/deploy/package.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "process.hpp"

namespace {

namespace fs = std::filesystem;
using cuttle::runner::deploy::extract_package;
using cuttle::runner::deploy::extract_result;
using cuttle::runner::deploy::is_package_version;
using cuttle::runner::deploy::package_name;
using cuttle::runner::deploy::parse_package_file_name;
using cuttle::test::contains;
using cuttle::test::read_text;
using cuttle::test::temp_dir;

// --- file names ------------------------------------------------------------------------------------------

void expect_name(std::string_view file, std::string_view id, std::string_view version, std::string_view ext) {
  SCOPED_TRACE(std::string(file));
  const auto name = parse_package_file_name(file);
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->id, id);
  EXPECT_EQ(name->version, version);
  EXPECT_EQ(name->extension, ext);
}

TEST(package_name, examples) {
  expect_name("Acme.Web.1.0.0.zip", "Acme.Web", "1.0.0", ".zip");
  expect_name("Acme.Web2.3.1.0-beta.2+sha.5.tar.gz", "Acme.Web2", "3.1.0-beta.2+sha.5", ".tar.gz");
  expect_name("My.Pkg.2024.1.3.4.nupkg", "My.Pkg", "2024.1.3.4", ".nupkg");
  expect_name("Acme.1.0.0", "Acme", "1.0.0", "");
  EXPECT_FALSE(parse_package_file_name("noversion.zip"));
}

TEST(package_name, every_extension_case_insensitively) {
  expect_name("Acme.1.0.0.zip", "Acme", "1.0.0", ".zip");
  expect_name("Acme.1.0.0.nupkg", "Acme", "1.0.0", ".nupkg");
  expect_name("Acme.1.0.0.tar", "Acme", "1.0.0", ".tar");
  expect_name("Acme.1.0.0.tar.gz", "Acme", "1.0.0", ".tar.gz");
  expect_name("Acme.1.0.0.tgz", "Acme", "1.0.0", ".tgz");
  expect_name("Acme.1.0.0.tar.bz2", "Acme", "1.0.0", ".tar.bz2");
  expect_name("Acme.1.0.0.ZIP", "Acme", "1.0.0", ".zip");
  expect_name("Acme.1.0.0.Tar.GZ", "Acme", "1.0.0", ".tar.gz");
  expect_name("Acme.1.0.0.NuPkg", "Acme", "1.0.0", ".nupkg");
  // Unknown extensions are part of the name, so the version does not reach the end.
  EXPECT_FALSE(parse_package_file_name("Acme.1.0.0.gz"));
  EXPECT_FALSE(parse_package_file_name("Acme.1.0.0.rar"));
  EXPECT_FALSE(parse_package_file_name("Acme.1.0.0.tar.gz.zip"));
}

TEST(package_name, numeric_versions_have_two_to_four_parts) {
  expect_name("Acme.1.0.zip", "Acme", "1.0", ".zip");
  expect_name("Acme.1.2.3.4.zip", "Acme", "1.2.3.4", ".zip");
  expect_name("Acme.2024.01.05.zip", "Acme", "2024.01.05", ".zip");  // leading zeros, as NuGet
  expect_name("Acme.2147483647.0.zip", "Acme", "2147483647.0", ".zip");
  // Five numbers: the first dot that starts a valid version wins, so the id takes one.
  expect_name("Acme.1.2.3.4.5.zip", "Acme.1", "2.3.4.5", ".zip");
  EXPECT_FALSE(parse_package_file_name("Acme.1.zip"));
  EXPECT_FALSE(parse_package_file_name("Acme.2147483648.zip"));
  EXPECT_FALSE(parse_package_file_name("Acme.99999999999.zip"));
}

TEST(package_name, prerelease_and_metadata) {
  expect_name("Acme.1.0.0-beta.zip", "Acme", "1.0.0-beta", ".zip");
  expect_name("Acme.1.0.0-beta-2.x.zip", "Acme", "1.0.0-beta-2.x", ".zip");
  expect_name("Acme.1.0.0-rc.1+build.007.tgz", "Acme", "1.0.0-rc.1+build.007", ".tgz");
  expect_name("Acme.1.0.0+sha.abc-def.zip", "Acme", "1.0.0+sha.abc-def", ".zip");
  expect_name("Acme.1.0-0.zip", "Acme", "1.0-0", ".zip");
  expect_name("Acme.1.0.0.0-alpha.tar.bz2", "Acme", "1.0.0.0-alpha", ".tar.bz2");
  for (const char* bad : {"Acme.1.0.0-.zip", "Acme.1.0.0-beta..1.zip", "Acme.1.0.0-01.zip", "Acme.1.0.0+.zip",
                          "Acme.1.0.0+a..b.zip", "Acme.1.0.0-be_ta.zip", "Acme.1.0.0+a+b.zip",
                          "Acme.1.0.0.zip.", "Acme.1..0.zip", "Acme.1.0.0.", "Acme.v1.zip"}) {
    EXPECT_FALSE(parse_package_file_name(bad)) << bad;
  }
}

TEST(package_name, ids) {
  expect_name("7zip.1.0.0.zip", "7zip", "1.0.0", ".zip");
  expect_name("Acme.2.Web.1.0.zip", "Acme.2.Web", "1.0", ".zip");
  expect_name("acme-web_x.1.0.0.zip", "acme-web_x", "1.0.0", ".zip");
  // The id is never empty; a bare version gives its first number to the id.
  expect_name("1.0.0.zip", "1", "0.0", ".zip");
  EXPECT_FALSE(parse_package_file_name(".zip"));
  EXPECT_FALSE(parse_package_file_name("."));
  EXPECT_FALSE(parse_package_file_name(""));
  EXPECT_FALSE(parse_package_file_name("Acme-1.zip"));
}

TEST(package_name, paths_use_the_last_component) {
  expect_name("/srv/packages/Acme.Web.1.0.0.zip", "Acme.Web", "1.0.0", ".zip");
  expect_name("relative/dir.9.9/Acme.1.0.0.tar", "Acme", "1.0.0", ".tar");
  expect_name("/srv/Acme.1.0.0/", "Acme", "1.0.0", "");
  EXPECT_FALSE(parse_package_file_name("/srv/Acme.1.0.0/noversion.zip"));
}

TEST(package_name, is_package_version) {
  for (const char* good :
       {"1.0", "1.0.0", "1.0.0.0", "0.0.1-a", "1.0.0-0", "1.0.0-x.7.z.92", "1.0.0+20130313144700",
        "1.0.0-beta+exp.sha.5114f85", "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay"}) {
    EXPECT_TRUE(is_package_version(good)) << good;
  }
  for (const char* bad : {"", "1", "1.", ".1", "1.0.0.0.0", "a.b", "1.0.0-", "1.0.0+", "1.0.0-00",
                          "1.0.0-a.01", "1.0.0 ", " 1.0.0", "1.0.0-ä", "1.-1", "-1.0"}) {
    EXPECT_FALSE(is_package_version(bad)) << bad;
  }
}

// --- building packages -----------------------------------------------------------------------------------

std::string python3() {
  for (const char* path : {"/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  throw std::runtime_error("python3 is needed to build the test packages");
}

// Helpers for the scripts: `out` is the package to write.
constexpr std::string_view python_helpers = R"(
import io, os, sys, tarfile, zipfile
out = sys.argv[1]
MTIME = 1700000000

def tar_add(t, name, data=b"", mode=0o644, type=tarfile.REGTYPE, link="", mtime=MTIME, **extra):
    info = tarfile.TarInfo(name)
    info.type = type
    info.mode = mode
    info.mtime = mtime
    info.linkname = link
    for key, value in extra.items():
        setattr(info, key, value)
    if type == tarfile.REGTYPE:
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    else:
        t.addfile(info)

def zip_add(z, name, data=b"", mode=None, system=3, date=(2023, 11, 14, 22, 13, 20), stored=False):
    info = zipfile.ZipInfo(name, date_time=date)
    info.create_system = system
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    if mode is not None:
        info.external_attr = mode << 16
    elif system == 0:
        info.external_attr = 0x20  # MS-DOS "archive" bit: no Unix permissions
    z.writestr(info, data)
)";

std::string indent(std::string body) {
  if (!body.empty() && body.back() != '\n') body += '\n';
  std::string out = "    ";
  for (const char c : body) {
    out += c;
    if (c == '\n') out += "    ";
  }
  return out + "pass\n";
}

void run_python(const std::string& script, const fs::path& out) {
  const auto r =
      cuttle::test::run_process({python3(), "-c", std::string(python_helpers) + script, out.string()});
  if (r.exit_code != 0) throw std::runtime_error("python3 failed:" + cuttle::test::describe(r));
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 07777777;
}

std::optional<std::time_t> mtime_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return std::nullopt;
  return st.st_mtim.tv_sec;
}

std::string link_of(const fs::path& p) {
  std::error_code ec;
  return fs::read_symlink(p, ec).string();
}

/// A temporary directory with an empty target `out`, an empty `sentinel` beside it (hostile entries aim
/// there), and the packages, named `pkg*`.
class package_test : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directory(out());
    fs::create_directory(sentinel());
  }

  fs::path out() const { return dir_.path() / "out"; }
  fs::path sentinel() const { return dir_.path() / "sentinel"; }
  fs::path path(const std::string& name) const { return dir_.path() / name; }

  /// Writes `name` with tarfile opened in `mode` ("w", "w:gz", "w:bz2"); `body` uses `t` and tar_add.
  fs::path tar(const std::string& name, const std::string& body, const std::string& mode = "w",
               const std::string& format = "PAX_FORMAT") {
    const auto p = path(name);
    run_python("with tarfile.open(out, '" + mode + "', format=tarfile." + format +
                   ", encoding='utf-8') as t:\n" + indent(body),
               p);
    return p;
  }

  /// Writes `name` with zipfile; `body` uses `z` and zip_add.
  fs::path zip(const std::string& name, const std::string& body) {
    const auto p = path(name);
    run_python("with zipfile.ZipFile(out, 'w') as z:\n" + indent(body), p);
    return p;
  }

  extract_result extract(const fs::path& package) {
    return extract_package(package.string(), out().string());
  }

  /// Empties the target again (a refused package may leave what it extracted before the refusal).
  void reset_out() const {
    fs::remove_all(out());
    fs::create_directory(out());
  }

  /// Nothing appeared beside the target or in the sentinel directory.
  void expect_nothing_outside() const {
    EXPECT_TRUE(fs::is_empty(sentinel()));
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      const auto name = e.path().filename().string();
      EXPECT_TRUE(name == "out" || name == "sentinel" || name.rfind("pkg", 0) == 0) << name;
    }
  }

  void expect_refused(const extract_result& r, const fs::path& package, const std::string& entry,
                      const std::string& reason) const {
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(contains(r.error, package.string())) << r.error;
    EXPECT_TRUE(contains(r.error, "refusing entry '" + entry + "'")) << r.error;
    EXPECT_TRUE(contains(r.error, reason)) << r.error;
    expect_nothing_outside();
  }

  temp_dir dir_;
};

// --- extracting ------------------------------------------------------------------------------------------

using package_extract = package_test;

constexpr const char* sample_tar = R"(tar_add(t, "app/", type=tarfile.DIRTYPE, mode=0o750)
tar_add(t, "app/run.sh", b"#!/bin/sh\necho hi\n", mode=0o755)
tar_add(t, "app/secret.txt", b"s3cret", mode=0o600)
tar_add(t, "app/setuid", b"x", mode=0o4755)
tar_add(t, "readme.txt", b"hello\n", mtime=1600000000)
tar_add(t, "docs/guide.txt", b"guide")
tar_add(t, "current", type=tarfile.SYMTYPE, link="app/run.sh")
tar_add(t, "app/run-copy.sh", type=tarfile.LNKTYPE, link="app/run.sh")
)";

void expect_sample_tree(const fs::path& out, const extract_result& r) {
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.files, 6U);
  EXPECT_EQ(read_text(out / "app/run.sh"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(read_text(out / "app/secret.txt"), "s3cret");
  EXPECT_EQ(read_text(out / "readme.txt"), "hello\n");
  EXPECT_EQ(read_text(out / "docs/guide.txt"), "guide");
  EXPECT_EQ(mode_of(out / "app"), 0750U);
  EXPECT_EQ(mode_of(out / "app/run.sh"), 0755U);
  EXPECT_EQ(mode_of(out / "app/secret.txt"), 0600U);
  EXPECT_EQ(mode_of(out / "app/setuid"), 0755U);  // setuid dropped
  EXPECT_EQ(mode_of(out / "readme.txt"), 0644U);
  EXPECT_EQ(mode_of(out / "docs"), 0755U);  // not in the archive
  EXPECT_EQ(mtime_of(out / "readme.txt"), 1600000000);
  EXPECT_EQ(mtime_of(out / "app/run.sh"), 1700000000);
  EXPECT_EQ(mtime_of(out / "app"), 1700000000);
  EXPECT_TRUE(fs::is_symlink(out / "current"));
  EXPECT_EQ(link_of(out / "current"), "app/run.sh");
  EXPECT_EQ(read_text(out / "current"), "#!/bin/sh\necho hi\n");
  EXPECT_TRUE(fs::equivalent(out / "app/run-copy.sh", out / "app/run.sh"));
}

TEST_F(package_extract, tar) {
  const auto pkg = tar("pkg.tar", sample_tar);
  expect_sample_tree(out(), extract(pkg));
  expect_nothing_outside();
}

TEST_F(package_extract, tar_gz) { expect_sample_tree(out(), extract(tar("pkg.tar.gz", sample_tar, "w:gz"))); }

TEST_F(package_extract, tgz) { expect_sample_tree(out(), extract(tar("pkg.tgz", sample_tar, "w:gz"))); }

TEST_F(package_extract, tar_bz2) {
  expect_sample_tree(out(), extract(tar("pkg.tar.bz2", sample_tar, "w:bz2")));
}

TEST_F(package_extract, gnu_tar) {
  expect_sample_tree(out(), extract(tar("pkg.tar", sample_tar, "w", "GNU_FORMAT")));
}

TEST_F(package_extract, format_is_recognised_by_content) {
  expect_sample_tree(out(), extract(tar("pkg.zip", sample_tar, "w:gz")));
}

TEST_F(package_extract, zip) {
  const auto pkg = zip("pkg.zip", R"(zip_add(z, "app/", mode=0o40750)
zip_add(z, "app/run.sh", b"#!/bin/sh\n", mode=0o100755)
zip_add(z, "app/secret.txt", b"s3cret", mode=0o100600)
zip_add(z, "app/setgid", b"x", mode=0o102775)
zip_add(z, "readme.txt", b"hello\n", system=0)
zip_add(z, "docs\\guide.txt", b"guide", system=0)
zip_add(z, "empty\\", system=0)
zip_add(z, "current", b"app/run.sh", mode=0o120777)
)");
  const auto r = extract(pkg);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.files, 5U);
  EXPECT_EQ(read_text(out() / "app/run.sh"), "#!/bin/sh\n");
  EXPECT_EQ(read_text(out() / "docs/guide.txt"), "guide");  // backslashes are separators
  EXPECT_TRUE(fs::is_directory(out() / "empty"));
  EXPECT_EQ(mode_of(out() / "app"), 0750U);
  EXPECT_EQ(mode_of(out() / "app/run.sh"), 0755U);
  EXPECT_EQ(mode_of(out() / "app/secret.txt"), 0600U);
  EXPECT_EQ(mode_of(out() / "app/setgid"), 0775U);
  EXPECT_EQ(mode_of(out() / "readme.txt"), 0644U);  // MS-DOS attributes: the default
  EXPECT_EQ(mode_of(out() / "docs/guide.txt"), 0644U);
  EXPECT_EQ(mode_of(out() / "empty"), 0755U);
  EXPECT_EQ(link_of(out() / "current"), "app/run.sh");
  std::tm local{};
  local.tm_year = 2023 - 1900;
  local.tm_mon = 10;
  local.tm_mday = 14;
  local.tm_hour = 22;
  local.tm_min = 13;
  local.tm_sec = 20;
  local.tm_isdst = -1;
  EXPECT_EQ(mtime_of(out() / "readme.txt"), std::mktime(&local));  // zip times are local times
  expect_nothing_outside();
}

TEST_F(package_extract, nupkg_leaves_out_nuget_packaging_files) {
  const std::string body = R"(zip_add(z, "[Content_Types].xml", b"<Types/>")
zip_add(z, "_rels/.rels", b"<Relationships/>")
zip_add(z, "package/services/metadata/core-properties/0123.psmdcp", b"<coreProperties/>")
zip_add(z, "Acme.nuspec", b"<package/>")
zip_add(z, "Acme.1.0.0.nupkg.sha512", b"hash")
zip_add(z, "lib/net8.0/Acme.dll", b"MZ")
zip_add(z, "content/my%20file.txt", b"spaces")
zip_add(z, "package/other.txt", b"kept")
)";
  const auto r = extract(zip("pkg.nupkg", body));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.files, 4U);
  EXPECT_EQ(read_text(out() / "Acme.nuspec"), "<package/>");
  EXPECT_EQ(read_text(out() / "lib/net8.0/Acme.dll"), "MZ");
  EXPECT_EQ(read_text(out() / "content/my file.txt"), "spaces");
  EXPECT_EQ(read_text(out() / "package/other.txt"), "kept");
  EXPECT_FALSE(fs::exists(out() / "[Content_Types].xml"));
  EXPECT_FALSE(fs::exists(out() / "_rels"));
  EXPECT_FALSE(fs::exists(out() / "package/services"));

  // The same archive as a .zip is extracted whole.
  reset_out();
  const auto whole = extract(zip("pkg.zip", body));
  ASSERT_TRUE(whole.ok) << whole.error;
  EXPECT_EQ(whole.files, 8U);
  EXPECT_TRUE(fs::exists(out() / "content/my%20file.txt"));
}

TEST_F(package_extract, non_ascii_names_round_trip) {
  const std::string entry = R"(u"h\u00e9llo-\u65e5\u672c/\u30c7\u30fc\u30bf.txt")";
  const fs::path expected = "h\xc3\xa9llo-\xe6\x97\xa5\xe6\x9c\xac/\xe3\x83\x87\xe3\x83\xbc\xe3\x82\xbf.txt";
  const std::vector<fs::path> packages = {
      zip("pkg.zip", "zip_add(z, " + entry + ", b\"ok\")"),
      tar("pkg.tar", "tar_add(t, " + entry + ", b\"ok\")"),
      tar("pkg-gnu.tar", "tar_add(t, " + entry + ", b\"ok\")", "w", "GNU_FORMAT"),
  };
  for (const auto& pkg : packages) {
    SCOPED_TRACE(pkg.string());
    reset_out();
    const auto r = extract(pkg);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(read_text(out() / expected), "ok");
  }
}

TEST_F(package_extract, duplicate_entries_last_one_wins) {
  const auto pkg = tar("pkg.tar", R"(tar_add(t, "a.txt", b"one")
tar_add(t, "h.txt", type=tarfile.LNKTYPE, link="a.txt")
tar_add(t, "a.txt", b"two", mode=0o600)
tar_add(t, "l", type=tarfile.SYMTYPE, link="a.txt")
tar_add(t, "l", b"file now")
tar_add(t, "f", b"file first")
tar_add(t, "f", type=tarfile.SYMTYPE, link="a.txt")
tar_add(t, "d/", type=tarfile.DIRTYPE)
tar_add(t, "d", b"empty dir replaced")
tar_add(t, "e/", type=tarfile.DIRTYPE, mode=0o700)
tar_add(t, "e/x", b"x")
tar_add(t, "e/", type=tarfile.DIRTYPE, mode=0o750)
)");
  const auto r = extract(pkg);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(read_text(out() / "a.txt"), "two");
  EXPECT_EQ(mode_of(out() / "a.txt"), 0600U);
  EXPECT_EQ(read_text(out() / "h.txt"), "one");  // the old inode: rewriting a.txt does not write through
  EXPECT_FALSE(fs::is_symlink(out() / "l"));
  EXPECT_EQ(read_text(out() / "l"), "file now");
  EXPECT_EQ(link_of(out() / "f"), "a.txt");
  EXPECT_EQ(read_text(out() / "d"), "empty dir replaced");
  EXPECT_EQ(mode_of(out() / "e"), 0750U);
  EXPECT_EQ(r.files, 5U);  // a.txt, h.txt, l, d, e/x
}

TEST_F(package_extract, directory_with_contents_is_not_replaced) {
  const auto pkg = tar("pkg.tar", R"(tar_add(t, "d/x", b"x")
tar_add(t, "d", b"file")
)");
  const auto r = extract(pkg);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, "refusing entry 'd': it would replace a directory that is not empty"))
      << r.error;
}

TEST_F(package_extract, symlinks_inside_the_target) {
  const auto pkg = tar("pkg.tar", R"(tar_add(t, "lib/libfoo.so.1", b"elf")
tar_add(t, "lib/libfoo.so", type=tarfile.SYMTYPE, link="libfoo.so.1")
tar_add(t, "bin/tool", type=tarfile.SYMTYPE, link="../lib/./libfoo.so")
tar_add(t, "up", type=tarfile.SYMTYPE, link="bin/..")
tar_add(t, "self", type=tarfile.SYMTYPE, link=".")
tar_add(t, "dangling", type=tarfile.SYMTYPE, link="missing/../lib")
)");
  const auto r = extract(pkg);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.files, 1U);
  EXPECT_EQ(read_text(out() / "bin/tool"), "elf");
  EXPECT_EQ(link_of(out() / "up"), "bin/..");
  EXPECT_EQ(link_of(out() / "self"), ".");
}

TEST_F(package_extract, read_only_directories_get_their_mode_last) {
  const auto pkg = tar("pkg.tar", R"(tar_add(t, "ro/", type=tarfile.DIRTYPE, mode=0o555)
tar_add(t, "ro/file", b"x", mode=0o444)
tar_add(t, "ro/sub/file", b"y")
tar_add(t, "ro/link", type=tarfile.SYMTYPE, link="file")
)");
  const auto r = extract(pkg);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(mode_of(out() / "ro"), 0555U);
  EXPECT_EQ(mode_of(out() / "ro/file"), 0444U);
  EXPECT_EQ(read_text(out() / "ro/link"), "x");
  fs::permissions(out() / "ro", fs::perms::owner_all);  // so the temporary directory can be removed
}

TEST_F(package_extract, sparse_tar) {
  const auto src = path("sparse-src");
  {
    std::ofstream f(src, std::ios::binary);
    f.seekp(1 << 20);
    f << "end";
  }
  const auto pkg = path("pkg.tar");
  run_python("with tarfile.open(out, 'w', format=tarfile.GNU_FORMAT) as t:\n    t.add('" + src.string() +
                 "', arcname='big')\n",
             pkg);
  fs::remove(src);
  const auto r = extract(pkg);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(fs::file_size(out() / "big"), (1U << 20) + 3);
}

TEST_F(package_extract, directory_package_is_copied) {
  const auto src = path("pkg-dir");
  fs::create_directories(src / "app/sub");
  std::ofstream(src / "app/run.sh") << "#!/bin/sh\n";
  std::ofstream(src / "readme.txt") << "hello";
  fs::permissions(src / "app/run.sh", static_cast<fs::perms>(0755));
  fs::permissions(src / "app", static_cast<fs::perms>(0750));
  fs::create_symlink("app/run.sh", src / "current");
  const std::array<timespec, 2> times = {timespec{1600000000, 0}, timespec{1600000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (src / "readme.txt").c_str(), times.data(), 0), 0);

  const auto r = extract(src);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.files, 2U);
  EXPECT_EQ(read_text(out() / "app/run.sh"), "#!/bin/sh\n");
  EXPECT_EQ(mode_of(out() / "app/run.sh"), 0755U);
  EXPECT_EQ(mode_of(out() / "app"), 0750U);
  EXPECT_TRUE(fs::is_directory(out() / "app/sub"));
  EXPECT_EQ(link_of(out() / "current"), "app/run.sh");
  EXPECT_EQ(mtime_of(out() / "readme.txt"), 1600000000);
  EXPECT_EQ(read_text(src / "readme.txt"), "hello");  // the source is untouched
}

TEST_F(package_extract, target_must_be_empty) {
  const auto pkg = tar("pkg.tar", R"(tar_add(t, "a", b"a"))");
  std::ofstream(out() / "existing") << "x";
  const auto r = extract(pkg);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, "not empty")) << r.error;
  EXPECT_TRUE(contains(r.error, pkg.string())) << r.error;
}

TEST_F(package_extract, missing_package_and_target) {
  auto r = extract(path("pkg-missing.zip"));
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, path("pkg-missing.zip").string() + ": cannot open the package")) << r.error;
  EXPECT_TRUE(contains(r.error, "No such file or directory")) << r.error;

  const auto pkg = tar("pkg.tar", R"(tar_add(t, "a", b"a"))");
  r = extract_package(pkg.string(), path("no-such-target").string());
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, "no-such-target")) << r.error;
  expect_nothing_outside();
}

// --- hostile packages ------------------------------------------------------------------------------------

using package_unsafe = package_test;

TEST_F(package_unsafe, parent_directory_entries) {
  auto pkg = tar("pkg.tar", R"(tar_add(t, "ok.txt", b"ok")
tar_add(t, "../sentinel/evil", b"evil")
)");
  expect_refused(extract(pkg), pkg, "../sentinel/evil", "its path contains a '..' component");

  reset_out();
  pkg = zip("pkg.zip", R"(zip_add(z, "../sentinel/evil", b"evil"))");
  expect_refused(extract(pkg), pkg, "../sentinel/evil", "'..' component");

  reset_out();
  pkg = tar("pkg2.tar", R"(tar_add(t, "a/../../sentinel/evil", b"evil"))");
  expect_refused(extract(pkg), pkg, "a/../../sentinel/evil", "'..' component");

  reset_out();
  pkg = zip("pkg2.zip", R"(zip_add(z, "a\\..\\..\\sentinel\\evil", b"evil"))");
  expect_refused(extract(pkg), pkg, "a/../../sentinel/evil", "'..' component");

  reset_out();
  pkg = zip("pkg.nupkg", R"(zip_add(z, "%2e%2e/sentinel/evil", b"evil"))");
  expect_refused(extract(pkg), pkg, "../sentinel/evil", "'..' component");
}

TEST_F(package_unsafe, absolute_entries) {
  const auto abs = (sentinel() / "evil").string();
  auto pkg = tar("pkg.tar", "tar_add(t, '" + abs + "', b'evil')");
  expect_refused(extract(pkg), pkg, abs, "it is an absolute path");

  reset_out();
  pkg = zip("pkg.zip", "zip_add(z, '" + abs + "', b'evil')");
  expect_refused(extract(pkg), pkg, abs, "it is an absolute path");
}

TEST_F(package_unsafe, symlink_to_an_absolute_path_then_a_file_through_it) {
  auto pkg = tar("pkg.tar",
                 "tar_add(t, 'etc', type=tarfile.SYMTYPE, link='/etc')\n"
                 "tar_add(t, 'etc/cuttle-evil', b'evil')\n");
  expect_refused(extract(pkg), pkg, "etc", "symbolic link to the absolute path '/etc'");
  EXPECT_FALSE(fs::exists("/etc/cuttle-evil"));

  reset_out();
  pkg = tar("pkg2.tar", "tar_add(t, 'dir', type=tarfile.SYMTYPE, link='" + sentinel().string() +
                            "')\n"
                            "tar_add(t, 'dir/x', b'evil')\n");
  expect_refused(extract(pkg), pkg, "dir", "absolute path");

  reset_out();
  pkg = zip("pkg.zip", "zip_add(z, 'dir', b'" + sentinel().string() + "', mode=0o120777)\n" +
                           "zip_add(z, 'dir/x', b'evil')\n");
  expect_refused(extract(pkg), pkg, "dir", "absolute path");
  EXPECT_TRUE(fs::is_empty(out()));
}

TEST_F(package_unsafe, relative_symlinks_out_of_the_target) {
  auto pkg = tar("pkg.tar", R"(tar_add(t, "s", type=tarfile.SYMTYPE, link="../sentinel")
tar_add(t, "s/evil", b"evil")
)");
  expect_refused(extract(pkg), pkg, "s", "which resolves outside the target directory");

  reset_out();
  pkg = tar("pkg2.tar", R"(tar_add(t, "a/b/c", type=tarfile.SYMTYPE, link="../../../sentinel"))");
  expect_refused(extract(pkg), pkg, "a/b/c", "resolves outside");

  reset_out();
  pkg = zip("pkg.zip", R"(zip_add(z, "s", b"..\\sentinel", mode=0o120777))");
  expect_refused(extract(pkg), pkg, "s", "resolves outside");
}

TEST_F(package_unsafe, writing_through_a_symlink_of_the_archive) {
  const auto pkg = tar("pkg.tar", R"(tar_add(t, "sub/", type=tarfile.DIRTYPE)
tar_add(t, "dir", type=tarfile.SYMTYPE, link="sub")
tar_add(t, "dir/x", b"through")
)");
  expect_refused(extract(pkg), pkg, "dir/x", "it would be written through the symbolic link 'dir'");
  EXPECT_FALSE(fs::exists(out() / "sub/x"));
}

TEST_F(package_unsafe, symlink_dot_dot_chains) {
  // "a -> ." is harmless alone, but "a/.." is the target's parent.
  auto pkg = tar("pkg.tar", R"(tar_add(t, "a", type=tarfile.SYMTYPE, link=".")
tar_add(t, "b", type=tarfile.SYMTYPE, link="a/..")
tar_add(t, "b/sentinel/evil", b"evil")
)");
  expect_refused(extract(pkg), pkg, "b", "resolves outside");

  // The other order: "b" looks inside when it is read; the whole tree shows otherwise. No link is made.
  reset_out();
  pkg = tar("pkg2.tar", R"(tar_add(t, "b", type=tarfile.SYMTYPE, link="a/../sentinel")
tar_add(t, "a", type=tarfile.SYMTYPE, link=".")
tar_add(t, "file", b"x")
)");
  expect_refused(extract(pkg), pkg, "b", "resolves outside");
  EXPECT_FALSE(fs::is_symlink(out() / "a"));
  EXPECT_FALSE(fs::is_symlink(out() / "b"));

  // Deeper: x/y -> .. is the root, so x/y/.. is above it.
  reset_out();
  pkg = tar("pkg3.tar", R"(tar_add(t, "x/y", type=tarfile.SYMTYPE, link="..")
tar_add(t, "z", type=tarfile.SYMTYPE, link="x/y/..")
)");
  expect_refused(extract(pkg), pkg, "z", "resolves outside");

  reset_out();
  pkg = tar("pkg4.tar", R"(tar_add(t, "l1", type=tarfile.SYMTYPE, link="l2/x")
tar_add(t, "l2", type=tarfile.SYMTYPE, link="l1/x")
)");
  expect_refused(extract(pkg), pkg, "l1", "which loops");
}

TEST_F(package_unsafe, hard_links) {
  auto pkg = tar("pkg.tar", R"(tar_add(t, "h", type=tarfile.LNKTYPE, link="../sentinel/x"))");
  expect_refused(extract(pkg), pkg, "h",
                 "it is a hard link to '../sentinel/x', and its path contains a '..'");

  reset_out();
  pkg = tar("pkg2.tar", R"(tar_add(t, "h", type=tarfile.LNKTYPE, link="/etc/passwd"))");
  expect_refused(extract(pkg), pkg, "h", "hard link to '/etc/passwd', and it is an absolute path");

  reset_out();
  pkg = tar("pkg3.tar", R"(tar_add(t, "h", type=tarfile.LNKTYPE, link="later.txt")
tar_add(t, "later.txt", b"x")
)");
  expect_refused(extract(pkg), pkg, "h", "which is not a file extracted before it");

  reset_out();
  pkg = tar("pkg4.tar", R"(tar_add(t, "target.txt", b"x")
tar_add(t, "l", type=tarfile.SYMTYPE, link="target.txt")
tar_add(t, "h", type=tarfile.LNKTYPE, link="l")
)");
  expect_refused(extract(pkg), pkg, "h", "not a file extracted before it");

  reset_out();
  pkg = tar("pkg5.tar", R"(tar_add(t, "d/", type=tarfile.DIRTYPE)
tar_add(t, "h", type=tarfile.LNKTYPE, link="d")
)");
  expect_refused(extract(pkg), pkg, "h", "not a file extracted before it");
}

TEST_F(package_unsafe, special_files) {
  auto pkg = tar("pkg.tar", R"(tar_add(t, "fifo", type=tarfile.FIFOTYPE))");
  expect_refused(extract(pkg), pkg, "fifo", "it is a FIFO");
  EXPECT_FALSE(fs::exists(out() / "fifo"));

  reset_out();
  pkg = tar("pkg2.tar", R"(tar_add(t, "null", type=tarfile.CHRTYPE, devmajor=1, devminor=3))");
  expect_refused(extract(pkg), pkg, "null", "it is a character device");

  reset_out();
  pkg = tar("pkg3.tar", R"(tar_add(t, "sda", type=tarfile.BLKTYPE, devmajor=8, devminor=0))");
  expect_refused(extract(pkg), pkg, "sda", "it is a block device");
}

TEST_F(package_unsafe, very_long_names) {
  const auto pkg = tar("pkg.tar", R"(tar_add(t, "a/" * 3000 + "x", b"x"))");
  const auto r = extract(pkg);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, "refusing entry 'a/a/a/")) << r.error;
  EXPECT_TRUE(contains(r.error, "...': its name is longer than 4095 bytes")) << r.error;  // shortened
  EXPECT_LT(r.error.size(), 500U);
  EXPECT_TRUE(fs::is_empty(out()));
}

TEST_F(package_unsafe, names_in_messages_are_escaped) {
  const auto pkg = tar("pkg.tar", R"(tar_add(t, "\x1b[31m/../../evil", b"evil"))");
  const auto r = extract(pkg);
  expect_refused(r, pkg, "\\x1b[31m/../../evil", "'..' component");
  EXPECT_FALSE(contains(r.error, "\x1b"));
}

TEST_F(package_unsafe, directory_packages) {
  const auto src = path("pkg-dir");
  fs::create_directories(src);
  std::ofstream(src / "ok.txt") << "ok";
  fs::create_symlink("../sentinel", src / "escape");
  auto r = extract(src);
  expect_refused(r, src, "escape", "resolves outside");

  reset_out();
  fs::remove(src / "escape");
  fs::create_symlink("/etc/passwd", src / "passwd");
  expect_refused(extract(src), src, "passwd", "absolute path");

  reset_out();
  fs::remove(src / "passwd");
  ASSERT_EQ(::mkfifo((src / "fifo").c_str(), 0644), 0);
  expect_refused(extract(src), src, "fifo", "it is a FIFO");

  // The target inside the package directory would copy itself forever.
  reset_out();
  fs::remove(src / "fifo");
  fs::create_directory(src / "target");
  r = extract_package(src.string(), (src / "target").string());
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, "the target directory is inside the package")) << r.error;
}

// --- corrupt packages ------------------------------------------------------------------------------------

using package_corrupt = package_test;

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST_F(package_corrupt, random_bytes) {
  std::string bytes;
  std::uint32_t x = 12345;
  for (int k = 0; k < 4096; ++k) {
    x = x * 1103515245U + 12345U;
    bytes += static_cast<char>(x >> 24U);
  }
  const auto pkg = path("pkg.zip");
  write_bytes(pkg, bytes);
  const auto r = extract(pkg);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, pkg.string() + ": not a zip, nupkg, tar, tar.gz, tgz or tar.bz2 package"))
      << r.error;
  EXPECT_TRUE(fs::is_empty(out()));

  write_bytes(pkg, "");
  const auto empty = extract(pkg);
  EXPECT_FALSE(empty.ok);
  EXPECT_TRUE(contains(empty.error, pkg.string())) << empty.error;
}

TEST_F(package_corrupt, truncated_tar_gz) {
  const auto pkg = tar("pkg.tar.gz", R"(tar_add(t, "a.bin", os.urandom(50000))
tar_add(t, "b.bin", os.urandom(50000))
)",
                       "w:gz");
  const auto bytes = read_text(pkg);
  write_bytes(pkg, bytes.substr(0, bytes.size() / 2));
  const auto r = extract(pkg);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, pkg.string())) << r.error;
  EXPECT_TRUE(contains(r.error, "corrupt or truncated archive")) << r.error;
  expect_nothing_outside();
}

TEST_F(package_corrupt, truncated_tar_and_zip) {
  const auto tar_pkg = tar("pkg.tar", R"(tar_add(t, "a.bin", os.urandom(50000)))");
  auto bytes = read_text(tar_pkg);
  write_bytes(tar_pkg, bytes.substr(0, 20000));
  auto r = extract(tar_pkg);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, tar_pkg.string() + ": entry 'a.bin': corrupt or truncated archive"))
      << r.error;

  reset_out();
  const auto zip_pkg = zip("pkg.zip", R"(zip_add(z, "a.bin", os.urandom(50000))
zip_add(z, "b.bin", os.urandom(50000))
)");
  bytes = read_text(zip_pkg);
  write_bytes(zip_pkg, bytes.substr(0, bytes.size() / 2));
  r = extract(zip_pkg);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, zip_pkg.string())) << r.error;
  expect_nothing_outside();
}

TEST_F(package_corrupt, damaged_data_is_reported_without_the_contents) {
  const auto pkg = zip("pkg.zip", R"(zip_add(z, "secret.txt", b"SECRET-CONTENT-1234567890", stored=True))");
  auto bytes = read_text(pkg);
  const auto at = bytes.find("SECRET-CONTENT");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 20] = 'X';
  write_bytes(pkg, bytes);
  const auto r = extract(pkg);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.error, pkg.string() + ": entry 'secret.txt'")) << r.error;
  EXPECT_FALSE(contains(r.error, "SECRET")) << r.error;
}

TEST_F(package_corrupt, every_truncation_fails_cleanly) {
  const auto gz = tar("pkg.tar.gz", R"(tar_add(t, "a.txt", b"a" * 3000)
tar_add(t, "l", type=tarfile.SYMTYPE, link="a.txt")
tar_add(t, "d/b.bin", os.urandom(3000))
)",
                      "w:gz");
  const auto zipped = zip("pkg.zip", R"(zip_add(z, "a.txt", b"a" * 3000)
zip_add(z, "d/b.bin", os.urandom(3000))
)");
  for (const auto& pkg : {gz, zipped}) {
    const auto bytes = read_text(pkg);
    const auto cut = path("pkg-cut" + pkg.extension().string());
    for (std::size_t size = 0; size < bytes.size(); size += std::max<std::size_t>(1, bytes.size() / 97)) {
      SCOPED_TRACE(pkg.string() + " cut at " + std::to_string(size));
      write_bytes(cut, bytes.substr(0, size));
      reset_out();
      const auto r = extract(cut);
      if (pkg == gz) {
        EXPECT_FALSE(r.ok);
      }
      if (!r.ok) {
        EXPECT_TRUE(contains(r.error, cut.string())) << r.error;
      }
    }
  }
  expect_nothing_outside();
}

}  // namespace
