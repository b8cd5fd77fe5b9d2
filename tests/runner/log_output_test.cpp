// The log writer in-process: plain prefixes, colours and the progress bar on a terminal, JSON records,
// and the mode names of service messages.
#include "cuttle/runner/log_output.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>

namespace {

using cuttle::runner::log_format;
using cuttle::runner::log_level;
using cuttle::runner::log_stream;
using cuttle::runner::log_writer;
using cuttle::runner::mode_level;

/// An in-memory file to write to, read back whole.
class memory_file {
 public:
  memory_file() : fd_(::memfd_create("log", MFD_CLOEXEC)) {}
  ~memory_file() { ::close(fd_); }
  memory_file(const memory_file&) = delete;
  memory_file& operator=(const memory_file&) = delete;
  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] std::string text() const {
    std::string out;
    char buf[4096];
    ssize_t n = 0;
    off_t at = 0;
    while ((n = ::pread(fd_, buf, sizeof buf, at)) > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      at += n;
    }
    return out;
  }

 private:
  int fd_;
};

struct fixture {
  memory_file out;
  memory_file err;
  log_writer writer;
  explicit fixture(log_format f) : writer(f, out.fd(), err.fd(), [] { return std::string("T"); }) {}
};

TEST(log_output, plain_prefixes_every_line_of_other_levels_and_writes_at_once) {
  fixture f(log_format::plain);
  f.writer.text(log_stream::out, log_level::info, "one\ntw");
  EXPECT_EQ(f.out.text(), "one\ntw");  // nothing held back
  f.writer.text(log_stream::out, log_level::info, "o\n");
  f.writer.text(log_stream::out, log_level::verbose, "v1\nv2\n");
  f.writer.text(log_stream::out, log_level::warning, "half");
  f.writer.text(log_stream::out, log_level::warning, " line\n");
  f.writer.text(log_stream::err, log_level::error, "bad\n");
  f.writer.text(log_stream::err, log_level::verbose, "quiet\n");
  f.writer.text(log_stream::out, log_level::ignore, "dropped\n");
  f.writer.finish();
  EXPECT_EQ(f.out.text(), "one\ntwo\nverbose: v1\nverbose: v2\nwarning: half line\n");
  EXPECT_EQ(f.err.text(), "bad\nverbose: quiet\n");
}

TEST(log_output, a_line_continued_at_another_level_starts_a_new_line) {
  fixture f(log_format::plain);
  f.writer.text(log_stream::out, log_level::info, "abc");
  f.writer.text(log_stream::out, log_level::highlight, "def\n");
  EXPECT_EQ(f.out.text(), "abc\nhighlight: def\n");
}

TEST(log_output, notes_go_to_stderr_on_their_own_line) {
  fixture f(log_format::plain);
  f.writer.text(log_stream::err, log_level::error, "partial");
  f.writer.note(log_level::warning, "something odd");
  f.writer.note(log_level::info, "fyi");
  EXPECT_EQ(f.err.text(), "partial\ncuttle: warning: something odd\ncuttle: fyi\n");
}

TEST(log_output, plain_progress_is_a_line) {
  fixture f(log_format::plain);
  f.writer.text(log_stream::out, log_level::info, "working");
  f.writer.progress(50, "Half Way");
  f.writer.progress(150, "");
  EXPECT_EQ(f.out.text(), "working\nprogress: 50% Half Way\nprogress: 100%\n");
}

TEST(log_output, terminal_colours_levels_and_redraws_the_progress_bar) {
  fixture f(log_format::terminal);
  f.writer.text(log_stream::out, log_level::info, "plain\n");
  f.writer.text(log_stream::out, log_level::warning, "warn\n");
  f.writer.progress(10, "a");
  f.writer.progress(20, "b");
  f.writer.text(log_stream::out, log_level::info, "after\n");
  f.writer.finish();
  const auto out = f.out.text();
  EXPECT_EQ(out.substr(0, 6), "plain\n");
  EXPECT_NE(out.find("\x1b[33mwarn\x1b[0m\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\x1b[K"), std::string::npos) << out;  // the second bar redraws the first
  EXPECT_NE(out.find(" 20% b\nafter\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("warning: "), std::string::npos) << out;
}

TEST(log_output, json_records_lines_and_flushes_partial_lines_on_demand) {
  fixture f(log_format::json);
  f.writer.text(log_stream::out, log_level::info, "first\r\nsec");
  EXPECT_TRUE(f.writer.has_partial());
  f.writer.text(log_stream::out, log_level::info, "ond\n");
  f.writer.text(log_stream::err, log_level::error, "prompt? ");
  f.writer.flush_partial();
  EXPECT_FALSE(f.writer.has_partial());
  f.writer.text(log_stream::out, log_level::verbose, "x\xff\n");
  f.writer.progress(7, "p");
  f.writer.note(log_level::warning, "n");
  f.writer.finish();
  EXPECT_EQ(f.out.text(),
            "{\"time\":\"T\",\"stream\":\"stdout\",\"level\":\"info\",\"text\":\"first\"}\n"
            "{\"time\":\"T\",\"stream\":\"stdout\",\"level\":\"info\",\"text\":\"second\"}\n"
            "{\"time\":\"T\",\"stream\":\"stderr\",\"level\":\"error\",\"text\":\"prompt? \"}\n"
            "{\"time\":\"T\",\"stream\":\"stdout\",\"level\":\"verbose\",\"text\":\"x\xEF\xBF\xBD\"}\n"
            "{\"time\":\"T\",\"stream\":\"cuttle\",\"level\":\"progress\",\"percentage\":7,\"text\":\"p\"}\n"
            "{\"time\":\"T\",\"stream\":\"cuttle\",\"level\":\"warning\",\"text\":\"n\"}\n");
  EXPECT_EQ(f.err.text(), "");
}

TEST(log_output, a_level_change_ends_a_partial_json_line) {
  fixture f(log_format::json);
  f.writer.text(log_stream::out, log_level::info, "abc");
  f.writer.text(log_stream::out, log_level::warning, "def\n");
  EXPECT_EQ(f.out.text(),
            "{\"time\":\"T\",\"stream\":\"stdout\",\"level\":\"info\",\"text\":\"abc\"}\n"
            "{\"time\":\"T\",\"stream\":\"stdout\",\"level\":\"warning\",\"text\":\"def\"}\n");
}

TEST(log_output, mode_names_select_levels_per_stream) {
  EXPECT_EQ(mode_level("stdout-verbose", log_stream::out), log_level::verbose);
  EXPECT_EQ(mode_level("stdout-default", log_stream::out), log_level::info);
  EXPECT_EQ(mode_level("stdout-ignore", log_stream::out), log_level::ignore);
  EXPECT_EQ(mode_level("stdout-error", log_stream::out), log_level::error);
  EXPECT_EQ(mode_level("stderr-progress", log_stream::err), log_level::verbose);
  EXPECT_EQ(mode_level("stderr-default", log_stream::err), log_level::error);
  EXPECT_EQ(mode_level("stderr-verbose", log_stream::err), std::nullopt);  // not a stderr mode
  EXPECT_EQ(mode_level("stdout-verbose", log_stream::err), std::nullopt);
  EXPECT_EQ(mode_level("stdout-Verbose", log_stream::out), std::nullopt);  // names are case-sensitive
}

}  // namespace
