// Builds the binding tree from a variable dictionary (spec §1): names parsed leniently as paths, index
// steps creating nodes whose item is the index, later names winning, value templates parsed once.
// Tested by tests/engine/variables_test.cpp

#include "binding.hpp"

#include "cuttle/engine/variables.hpp"

namespace cuttle::engine::detail {

binding_tree::binding_tree(const variables& vars,
                           const std::vector<std::shared_ptr<const std::optional<symbol>>>& paths) {
  for (std::size_t e = 0; e < vars.entries().size(); ++e) {
    const auto& entry = vars.entries()[e];
    const auto& path = *paths[e];
    if (!path) continue;  // names that do not start with an identifier are reachable through get() only
    bool bindable = true;
    for (const auto& s : path->steps) bindable = bindable && s.kind != step_kind::substitution_index;
    if (!bindable) continue;  // Octostache throws here; such a name simply binds nothing
    node* cur = &root_;
    for (const auto& s : path->steps) {
      auto& map = s.kind == step_kind::identifier ? cur->named : cur->indexed;
      auto it = map.find(s.key);
      if (it == map.end()) {
        node& child = nodes_.emplace_back();
        if (s.kind == step_kind::index) {
          child.set_item(s.text);
          cur->index_order.push_back(&child);
        }
        it = map.emplace(s.key, &child).first;
      }
      cur = it->second;
    }
    cur->storage.clear();
    cur->has_item = true;
    cur->item = entry.value ? std::string_view(*entry.value) : std::string_view();
    cur->source = entry.name;
    cur->parsed.reset();
    if (cur->item.find("#{") != std::string_view::npos) {
      auto pv = std::make_shared<parsed_value>();
      pv->text = cur->item;
      pv->outcome = parse_template(pv->text, true, 64);
      cur->parsed = std::move(pv);
    }
  }
}

}  // namespace cuttle::engine::detail
