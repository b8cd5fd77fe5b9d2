// The binding tree: every variable name parsed as a path and placed in a tree of nodes with named and
// indexed children (spec §1). Runtime nodes (loop items, JSON elements) use the same node type.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "json_text.hpp"
#include "parser.hpp"

namespace cuttle::engine {
class variables;
}

namespace cuttle::engine::detail {

/// A parsed value template (halting mode), shared by every render.
struct parsed_value {
  std::string_view text;
  parse_outcome outcome;
};

struct node {
  bool has_item = false;
  std::string_view item;                       ///< the value (binding nodes: a view of the variable's value)
  std::string storage;                         ///< owns `item` for runtime nodes
  std::shared_ptr<const parsed_value> parsed;  ///< set when `item` contains "#{" (binding nodes only)
  std::string_view source;                     ///< the variable name that set the item, for diagnostics
  const json* json_value = nullptr;            ///< the JSON element this node was made from, if any
  bool changes = false;                        ///< its item is rewritten during a render (loop counters)
  std::unordered_map<std::string, node*> named;
  std::unordered_map<std::string, node*> indexed;
  std::vector<node*> index_order;

  void set_item(std::string value) {
    storage = std::move(value);
    item = storage;
    has_item = true;
  }
  node* named_child(const std::string& key) const {
    if (named.empty()) return nullptr;
    const auto it = named.find(key);
    return it == named.end() ? nullptr : it->second;
  }
  node* indexed_child(const std::string& key) const {
    if (indexed.empty()) return nullptr;
    const auto it = indexed.find(key);
    return it == indexed.end() ? nullptr : it->second;
  }
};

/// The tree for one variable set. Immutable once built.
class binding_tree {
 public:
  /// `paths[i]` is the parsed name of `vars.entries()[i]`.
  binding_tree(const variables& vars, const std::vector<std::shared_ptr<const std::optional<symbol>>>& paths);
  const node& root() const { return root_; }

 private:
  node root_;
  std::deque<node> nodes_;
};

}  // namespace cuttle::engine::detail
