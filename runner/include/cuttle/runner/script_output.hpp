// What `cuttle run` does with a script's stdout and stderr: finds the service messages in both
// (message_parser), acts on them, masks every secret (engine::mask_stream, one per stream, sharing one
// masker) and prints the rest through a log_writer.
//
// Messages handled (calamari-spec §3.2): setVariable (output variables; a sensitive value is masked from
// then on), createArtifact (collected after the run), progress, resultMessage, mask, and the log-level
// modes stdout-* / stderr-* (either stream may switch either mode). The other names of §3.2 are passed on
// as text; unknown names are passed on too, with a verbose note. A malformed message is shown as text,
// after a warning. A line holding nothing but messages prints nothing (its line break is dropped).
//
// Example:
//   engine::variables outputs;
//   cuttle::runner::script_output out({.format = log_format::plain, .secrets = {"hunter22"}}, 1, 2, outputs);
//   out.feed(log_stream::out, chunk);   // as the script writes
//   out.end_of_stream(log_stream::out);
//   out.finish();
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/engine/masker.hpp"
#include "cuttle/engine/variables.hpp"
#include "cuttle/runner/log_output.hpp"
#include "cuttle/runner/service_messages.hpp"

namespace cuttle::runner {

struct output_settings {
  log_format format = log_format::plain;
  std::vector<std::string> secrets;  ///< masked from the start (sensitive variables, --mask)
  std::size_t max_message_body = default_max_message_body;
};

/// A file named by createArtifact.
struct artifact_request {
  std::string path;  ///< as the script gave it (absolute in the helpers)
  std::string name;  ///< the display name
};

class script_output {
 public:
  script_output(output_settings settings, int out_fd, int err_fd, engine::variables& outputs);
  ~script_output();
  script_output(const script_output&) = delete;
  script_output& operator=(const script_output&) = delete;

  /// Output of the script's stdout (`log_stream::out`) or stderr (`log_stream::err`).
  void feed(log_stream s, std::string_view chunk);
  /// The stream ended: held text is released, an unterminated message is shown as text.
  void end_of_stream(log_stream s);
  /// A note of cuttle's own, masked.
  void note(log_level l, std::string_view text);
  /// `text` with every secret known so far masked.
  [[nodiscard]] std::string mask(std::string_view text) const;
  /// Adds secrets (they apply to everything not yet printed).
  void add_secrets(const std::vector<std::string>& secrets);
  /// JSON format: writes a partial line that has waited (the runner calls this after a short idle time).
  void idle_flush();
  [[nodiscard]] bool wants_idle_flush() const;
  /// Ends all output (both streams must have ended): resets levels and colours.
  void finish();

  [[nodiscard]] const std::vector<artifact_request>& artifacts() const { return artifacts_; }
  [[nodiscard]] const std::optional<std::string>& result_message() const { return result_message_; }
  /// True once the script wrote text other than white space to stderr (service messages excepted).
  [[nodiscard]] bool wrote_stderr() const { return wrote_stderr_; }
  [[nodiscard]] bool stdout_ok() const { return writer_.out_ok(); }

 private:
  struct stream;
  class handler;
  friend class handler;

  stream& get(log_stream s);
  void emit_text(stream& st, std::string_view text);
  void flush_mask(stream& st);
  void set_level(stream& st, log_level l);
  void on_message(stream& st, const service_message& m);
  void on_malformed(stream& st, std::string_view raw, std::string_view why);

  output_settings settings_;
  engine::variables& outputs_;
  log_writer writer_;
  std::shared_ptr<const engine::masker> masker_;
  std::unique_ptr<stream> out_;
  std::unique_ptr<stream> err_;
  std::vector<artifact_request> artifacts_;
  std::optional<std::string> result_message_;
  bool wrote_stderr_ = false;
  std::string scratch_;
};

}  // namespace cuttle::runner
