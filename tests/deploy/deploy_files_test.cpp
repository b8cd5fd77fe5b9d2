// Globs, text encodings, install-directory copies and purges, and the deployment journal
// (runner/src/deploy/deploy_files.cpp), on real files.
#include "cuttle/runner/deploy/deploy_files.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "process.hpp"

namespace {

namespace fs = std::filesystem;
namespace d = cuttle::runner::deploy;
using cuttle::test::read_text;
using cuttle::test::temp_dir;

void put(const fs::path& file, std::string_view content) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

std::vector<std::string> relative(const std::vector<std::string>& paths, const fs::path& base) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(fs::relative(p, base).string());
  return out;
}

TEST(deploy_glob, segments_stars_and_double_stars) {
  EXPECT_TRUE(d::glob_match("*.config", "web.config"));
  EXPECT_FALSE(d::glob_match("*.config", "sub/web.config"));
  EXPECT_TRUE(d::glob_match("**/*.config", "web.config"));
  EXPECT_TRUE(d::glob_match("**/*.config", "a/b/c/web.config"));
  EXPECT_TRUE(d::glob_match("a/**/c/*.json", "a/c/x.json"));
  EXPECT_TRUE(d::glob_match("a/**/c/*.json", "a/b/b/c/x.json"));
  EXPECT_FALSE(d::glob_match("a/**/c/*.json", "a/b/d/x.json"));
  EXPECT_TRUE(d::glob_match("conf?g/[ab].txt", "config/a.txt"));
  EXPECT_FALSE(d::glob_match("conf?g/[ab].txt", "config/c.txt"));
  EXPECT_TRUE(d::glob_match("logs/**", "logs/2024/x.log"));
  EXPECT_FALSE(d::glob_match("Web.config", "web.config")) << "globs are case-sensitive, as on Linux";
  EXPECT_TRUE(d::glob_match("*", ".hidden")) << "dot files match like any other";
}

TEST(deploy_glob, braces_expand_nested_alternatives) {
  EXPECT_EQ(d::expand_braces("*.{json,yml}"), (std::vector<std::string>{"*.json", "*.yml"}));
  EXPECT_EQ(d::expand_braces("{a,b{1,2}}/x"), (std::vector<std::string>{"a/x", "b1/x", "b2/x"}));
  EXPECT_EQ(d::expand_braces("no{brace}"), (std::vector<std::string>{"no{brace}"}));
  EXPECT_EQ(d::expand_braces("open{a,b"), (std::vector<std::string>{"open{a,b"}));
}

TEST(deploy_glob, find_files_walks_the_tree_and_reports_directories) {
  temp_dir t;
  put(t.path() / "web.config", "a");
  put(t.path() / "config/app.json", "b");
  put(t.path() / "config/deep/more.json", "c");
  put(t.path() / "config/deep/notes.txt", "d");
  fs::create_directories(t.path() / "empty.json");
  const auto m = d::find_files(t.path().string(), "**/*.{json,config}");
  EXPECT_EQ(relative(m.files, t.path()),
            (std::vector<std::string>{"config/app.json", "config/deep/more.json", "web.config"}));
  EXPECT_EQ(relative(m.directories, t.path()), (std::vector<std::string>{"empty.json"}));
  EXPECT_EQ(relative(d::find_files(t.path().string(), "config/deep/*").files, t.path()),
            (std::vector<std::string>{"config/deep/more.json", "config/deep/notes.txt"}));
  const auto absolute = d::find_files("/nonexistent", (t.path() / "config" / "*.json").string());
  EXPECT_EQ(relative(absolute.files, t.path()), (std::vector<std::string>{"config/app.json"}));
  EXPECT_TRUE(d::find_files(t.path().string(), "nothing/*.json").files.empty());
}

TEST(deploy_glob, split_list_trims_and_drops_blanks) {
  EXPECT_EQ(d::split_list(" a.json \r\n\n b/*.yml\n", false),
            (std::vector<std::string>{"a.json", "b/*.yml"}));
  EXPECT_EQ(d::split_list("x, y ,,z", true), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(d::split_list("x, y", false), (std::vector<std::string>{"x, y"}));
}

TEST(deploy_encoding, detects_boms_utf16_and_windows_1252) {
  auto utf8 = d::decode_text("plain \xC3\xA9");
  EXPECT_EQ(utf8.encoding, d::text_encoding::utf8);
  EXPECT_EQ(utf8.utf8, "plain \xC3\xA9");

  auto bom = d::decode_text("\xEF\xBB\xBFhi");
  EXPECT_EQ(bom.encoding, d::text_encoding::utf8_bom);
  EXPECT_EQ(bom.utf8, "hi");

  const std::string le("\xFF\xFEh\0\xE9\0", 6);
  auto u16 = d::decode_text(le);
  EXPECT_EQ(u16.encoding, d::text_encoding::utf16le);
  EXPECT_EQ(u16.utf8, "h\xC3\xA9");
  EXPECT_EQ(d::encode_text(u16.utf8, u16.encoding), le);

  const std::string be("\xFE\xFF\0h\xD8\x3D\xDE\x00", 8);  // "h" + U+1F600
  auto u16be = d::decode_text(be);
  EXPECT_EQ(u16be.encoding, d::text_encoding::utf16be);
  EXPECT_EQ(u16be.utf8, "h\xF0\x9F\x98\x80");
  EXPECT_EQ(d::encode_text(u16be.utf8, u16be.encoding), be);

  auto cp = d::decode_text("caf\xE9 \x80");  // not UTF-8: Windows-1252
  EXPECT_EQ(cp.encoding, d::text_encoding::windows1252);
  EXPECT_EQ(cp.utf8, "caf\xC3\xA9 \xE2\x82\xAC");
  EXPECT_EQ(d::encode_text(cp.utf8, cp.encoding), "caf\xE9 \x80");
  EXPECT_EQ(d::encode_text("\xE4\xB8\xAD", d::text_encoding::windows1252), std::nullopt)
      << "a character Windows-1252 cannot hold asks for an upgrade";
}

TEST(deploy_encoding, names_as_dotnet_spells_them) {
  EXPECT_EQ(d::encoding_from_name("UTF-8"), d::text_encoding::utf8);
  EXPECT_EQ(d::encoding_from_name("utf-16"), d::text_encoding::utf16le);
  EXPECT_EQ(d::encoding_from_name("BigEndianUnicode"), d::text_encoding::utf16be);
  EXPECT_EQ(d::encoding_from_name("windows-1252"), d::text_encoding::windows1252);
  EXPECT_EQ(d::encoding_from_name("ebcdic"), std::nullopt);
}

RC_GTEST_PROP(deploy_encoding_props, every_encoding_round_trips_unicode_text, ()) {
  const auto points = *rc::gen::container<std::vector<char32_t>>(
      rc::gen::oneOf(rc::gen::inRange<char32_t>(1, 0x80), rc::gen::inRange<char32_t>(0x80, 0xD800),
                     rc::gen::inRange<char32_t>(0xE000, 0x110000)));
  std::string text;
  for (const char32_t c : points) {
    if (c < 0x80) {
      text += static_cast<char>(c);
    } else if (c < 0x800) {
      text += static_cast<char>(0xC0 | (c >> 6));
      text += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      text += static_cast<char>(0xE0 | (c >> 12));
      text += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      text += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      text += static_cast<char>(0xF0 | (c >> 18));
      text += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      text += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      text += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  RC_ASSERT(d::is_valid_utf8(text));
  for (const auto e : {d::text_encoding::utf8_bom, d::text_encoding::utf16le, d::text_encoding::utf16be}) {
    const auto bytes = d::encode_text(text, e);
    RC_ASSERT(bytes.has_value());
    const auto back = d::decode_text(*bytes);
    RC_ASSERT(back.encoding == e);
    RC_ASSERT(back.utf8 == text);
  }
}

TEST(deploy_tree, copy_keeps_modes_links_and_replaces_files) {
  temp_dir t;
  const auto from = t.path() / "from";
  const auto to = t.path() / "to";
  put(from / "bin/run.sh", "#!/bin/sh\n");
  ::chmod((from / "bin/run.sh").c_str(), 0750);
  put(from / "a.txt", "new");
  fs::create_symlink("a.txt", from / "link");
  put(to / "a.txt", "old");
  put(to / "keep.txt", "untouched");
  const auto r = d::copy_tree(from.string(), to.string());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.files, 2u);
  EXPECT_EQ(read_text(to / "a.txt"), "new");
  EXPECT_EQ(read_text(to / "keep.txt"), "untouched");
  EXPECT_EQ(fs::read_symlink(to / "link"), "a.txt");
  struct stat st {};
  ASSERT_EQ(::stat((to / "bin/run.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
}

TEST(deploy_tree, copy_refuses_a_directory_in_place_of_a_file) {
  temp_dir t;
  put(t.path() / "from/x", "file");
  fs::create_directories(t.path() / "to/x");
  const auto r = d::copy_tree((t.path() / "from").string(), (t.path() / "to").string());
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(cuttle::test::contains(r.error, "it is a directory")) << r.error;
}

TEST(deploy_tree, purge_keeps_exclusions_and_their_parents) {
  temp_dir t;
  const auto dir = t.path() / "app";
  put(dir / "old.dll", "x");
  put(dir / "logs/2024/a.log", "x");
  put(dir / "config/local.json", "x");
  put(dir / "config/other.json", "x");
  put(dir / "bin/sub/x", "x");
  put(t.path() / "outside/victim", "x");
  fs::create_directory_symlink(t.path() / "outside", dir / "link-out");
  ASSERT_EQ(d::purge_directory(dir.string(), {"logs", "config/local.json"}), std::nullopt);
  std::vector<std::string> left;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    left.push_back(fs::relative(e.path(), dir).string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"config", "config/local.json", "logs", "logs/2024",
                                            "logs/2024/a.log"}));
  EXPECT_EQ(read_text(t.path() / "outside/victim"), "x") << "a link is removed, never followed";
}

TEST(deploy_journal, finds_the_newest_successful_entry) {
  temp_dir t;
  const auto journal = (t.path() / "journal.json").string();
  EXPECT_FALSE(d::find_successful_deployment(journal, "", "Acme", "1.0.0").entry)
      << "a missing journal is empty";
  d::journal_entry e;
  e.package_id = "Acme";
  e.package_version = "1.0.0";
  e.installed_to = "/a";
  e.successful = false;
  ASSERT_EQ(d::add_journal_entry(journal, e), std::nullopt);
  EXPECT_FALSE(d::find_successful_deployment(journal, "", "Acme", "1.0.0").entry);
  e.successful = true;
  e.installed_to = "/b";
  ASSERT_EQ(d::add_journal_entry(journal, e), std::nullopt);
  e.installed_to = "/c";
  ASSERT_EQ(d::add_journal_entry(journal, e), std::nullopt);
  const auto found = d::find_successful_deployment(journal, "", "acme", "1.0.0");
  ASSERT_TRUE(found.entry);
  EXPECT_EQ(found.entry->installed_to, "/c");
  EXPECT_FALSE(d::find_successful_deployment(journal, "", "Acme", "1.0.1").entry);
  EXPECT_FALSE(d::find_successful_deployment(journal, "other-set", "Acme", "1.0.0").entry);
}

TEST(deploy_journal, concurrent_writers_lose_no_entry) {
  temp_dir t;
  const auto journal = (t.path() / "journal.json").string();
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int n = 0; n < 10; ++n) {
        d::journal_entry e;
        e.package_id = "P" + std::to_string(k);
        e.package_version = std::to_string(n);
        e.successful = true;
        EXPECT_EQ(d::add_journal_entry(journal, e), std::nullopt);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < 4; ++k) {
    for (int n = 0; n < 10; ++n)
      EXPECT_TRUE(
          d::find_successful_deployment(journal, "", "P" + std::to_string(k), std::to_string(n)).entry);
  }
}

TEST(deploy_journal, an_invalid_journal_is_an_error) {
  temp_dir t;
  const auto journal = t.write("journal.json", "{not json");
  const auto r = d::find_successful_deployment(journal, "", "Acme", "1.0.0");
  EXPECT_TRUE(cuttle::test::contains(r.error, "is not valid JSON")) << r.error;
  d::journal_entry e;
  EXPECT_NE(d::add_journal_entry(journal, e), std::nullopt);
  EXPECT_EQ(read_text(journal), "{not json") << "an unreadable journal is never overwritten";
}

}  // namespace
