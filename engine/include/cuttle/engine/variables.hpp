// The variable dictionary: case-insensitive names in insertion order, nullable string values, and
// sensitivity flags. Values may themselves be templates; they are evaluated when referenced.
//
// Example:
//   cuttle::engine::variables vars;
//   vars.set("Server", "Web01");
//   vars.set("Url", "http://#{Server | ToLower}/");
//   auto url = vars.get("Url");   // "http://web01/"
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/engine/diagnostic.hpp"

namespace cuttle::engine {

namespace detail {
class binding_tree;
}

/// One entry of a variable dictionary.
struct variable {
  std::string name;                  ///< spelling of the first `set`
  std::optional<std::string> value;  ///< nullopt is a null value (reads as "" in templates)
  bool sensitive = false;            ///< value must be masked wherever it is printed
};

/// A variable dictionary. Copies are independent. Reading it from several threads at once
/// (rendering, get) is safe; `set` must not run concurrently with anything else.
class variables {
 public:
  variables();
  ~variables();
  variables(const variables& other);
  variables& operator=(const variables& other);
  variables(variables&&) noexcept;
  variables& operator=(variables&&) noexcept;

  /// Sets `name` (compared case-insensitively). An existing entry keeps its spelling and position.
  /// A variable that was ever set as sensitive stays sensitive.
  void set(std::string_view name, std::optional<std::string> value, bool sensitive = false);
  /// Makes room for `count` more variables (a hint for bulk loading).
  void reserve(std::size_t count);
  /// The raw value, or nullopt when the name is absent or its value is null.
  std::optional<std::string> get_raw(std::string_view name) const;
  /// The value evaluated as a template (halting mode); nullopt when absent or null.
  std::optional<std::string> get(std::string_view name) const;
  /// True when `name` was set (even to null).
  bool contains(std::string_view name) const;
  /// The entry for `name`, or null.
  const variable* find(std::string_view name) const;
  /// All entries in insertion order.
  const std::vector<variable>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  /// Values of sensitive variables that are not empty.
  std::vector<std::string> sensitive_values() const;

  /// Internal: the lazily built binding tree used by the evaluator.
  const detail::binding_tree& tree() const;

 private:
  std::vector<variable> entries_;
  struct index;
  std::unique_ptr<index> index_;
  struct tree_cache;
  std::unique_ptr<tree_cache> tree_;
};

/// Reads a variables file: a JSON object `name -> value`. Strings are used as they are, `null` is a null
/// value, and any other JSON value is stored as its compact JSON text. Names keep the file's order and
/// later entries override earlier ones. On bad JSON the result holds an `invalid_json` error diagnostic
/// with the line and column, and `into` is left unchanged.
result<std::size_t> load_variables_json(std::string_view json_text, std::string_view source_name,
                                        variables& into, bool sensitive = false);

}  // namespace cuttle::engine
