// Custom filters: a name -> function registry consulted when a built-in filter is absent or gives no value.
//
// Example:
//   cuttle::engine::filter_registry custom;
//   custom.add("Shout", [](const std::optional<std::string>& in, std::span<const std::string> opts)
//       -> std::optional<std::string> { return in ? std::optional(*in + "!") : std::nullopt; });
//   render_options ro; ro.filters = &custom;
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cuttle::engine {

/// A filter: (input or nullopt when the left side is missing, option strings) -> value or nullopt.
using filter_function = std::function<std::optional<std::string>(const std::optional<std::string>& input,
                                                                 std::span<const std::string> options)>;

/// Case-insensitive (ASCII) map of filter names to functions.
class filter_registry {
 public:
  /// Registers `fn` under `name`; a later registration of the same name replaces it.
  void add(std::string_view name, filter_function fn);
  /// The function registered under `name` (any case), or null.
  const filter_function* find(std::string_view name) const;

 private:
  std::unordered_map<std::string, filter_function> filters_;
};

}  // namespace cuttle::engine
