// The variable dictionary and the variables-file reader.
// Tested by tests/engine/variables_test.cpp

#include "cuttle/engine/variables.hpp"

#include <fmt/format.h>

#include <mutex>
#include <unordered_map>

#include "binding.hpp"
#include "cuttle/engine/template.hpp"
#include "diagnostics.hpp"
#include "json_text.hpp"
#include "unicode.hpp"

namespace cuttle::engine {

struct variables::index {
  std::unordered_map<std::string, std::size_t> by_key;
  // Each name parsed as a path once (names never change), so rebuilding the tree after set() is cheap.
  mutable std::vector<std::shared_ptr<const std::optional<detail::symbol>>> paths;
};

// The binding tree is built once, on first use, under a lock, and dropped by set().
struct variables::tree_cache {
  std::mutex mutex;
  std::unique_ptr<detail::binding_tree> tree;
};

variables::variables() : index_(std::make_unique<index>()), tree_(std::make_unique<tree_cache>()) {}
variables::~variables() = default;
variables::variables(const variables& other)
    : entries_(other.entries_),
      index_(std::make_unique<index>(*other.index_)),
      tree_(std::make_unique<tree_cache>()) {}
variables& variables::operator=(const variables& other) {
  if (this != &other) {
    entries_ = other.entries_;
    index_ = std::make_unique<index>(*other.index_);
    tree_ = std::make_unique<tree_cache>();
  }
  return *this;
}
variables::variables(variables&&) noexcept = default;
variables& variables::operator=(variables&&) noexcept = default;

void variables::set(std::string_view name, std::optional<std::string> value, bool sensitive) {
  if (!index_) index_ = std::make_unique<index>();
  if (!tree_) tree_ = std::make_unique<tree_cache>();
  tree_->tree.reset();
  auto key = detail::case_key(name);
  const auto it = index_->by_key.find(key);
  if (it != index_->by_key.end()) {
    auto& e = entries_[it->second];
    e.value = std::move(value);
    e.sensitive = e.sensitive || sensitive;
    return;
  }
  index_->by_key.emplace(std::move(key), entries_.size());
  entries_.push_back(variable{std::string(name), std::move(value), sensitive});
}

void variables::reserve(std::size_t count) {
  if (!index_) index_ = std::make_unique<index>();
  entries_.reserve(entries_.size() + count);
  index_->by_key.reserve(index_->by_key.size() + count);
}

const variable* variables::find(std::string_view name) const {
  if (!index_) return nullptr;
  const auto it = index_->by_key.find(detail::case_key(name));
  return it == index_->by_key.end() ? nullptr : &entries_[it->second];
}

bool variables::contains(std::string_view name) const { return find(name) != nullptr; }

std::optional<std::string> variables::get_raw(std::string_view name) const {
  const auto* v = find(name);
  return v == nullptr ? std::nullopt : v->value;
}

std::optional<std::string> variables::get(std::string_view name) const {
  const auto* v = find(name);
  if (v == nullptr || !v->value) return std::nullopt;
  parse_options po;
  po.source_name = fmt::format("variable '{}'", v->name);
  auto r = evaluate(*v->value, *this, po);
  return r.output;
}

std::vector<std::string> variables::sensitive_values() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    if (e.sensitive && e.value && !e.value->empty()) out.push_back(*e.value);
  }
  return out;
}

const detail::binding_tree& variables::tree() const {
  std::lock_guard lock(tree_->mutex);
  if (!tree_->tree) {
    auto& paths = index_->paths;
    for (std::size_t i = paths.size(); i < entries_.size(); ++i) {
      paths.push_back(
          std::make_shared<const std::optional<detail::symbol>>(detail::parse_name_path(entries_[i].name)));
    }
    tree_->tree = std::make_unique<detail::binding_tree>(*this, paths);
  }
  return *tree_->tree;
}

result<std::size_t> load_variables_json(std::string_view json_text, std::string_view source_name,
                                        variables& into, bool sensitive) {
  std::vector<std::pair<std::string, std::optional<std::string>>> read;
  const auto error =
      detail::read_variables_object(json_text, [&](std::string&& name, std::optional<std::string>&& value) {
        read.emplace_back(std::move(name), std::move(value));
      });
  if (error) {
    return result<std::size_t>(std::vector<diagnostic>{
        detail::make_diagnostic(error_code::invalid_json, severity::error, source_name, json_text,
                                error->offset, fmt::format("invalid variables file: {}", error->message),
                                std::string(json_text.substr(error->offset, 20)))});
  }
  into.reserve(read.size());
  for (auto& [name, value] : read) into.set(name, std::move(value), sensitive);
  return result<std::size_t>(read.size());
}

}  // namespace cuttle::engine
