// Structured configuration variables for XML files (calamari-spec §5.5): a variable whose name contains '/'
// or ':' is an XPath 1.0 expression, and every node it selects gets the variable's value.
// Tested by tests/deploy/xml_config_test.cpp
//
// Namespaces. pugixml's XPath compares qualified names as written and resolves no prefixes. Calamari binds
// every prefix declared in the document (the first declaration wins) and matches by namespace URI. To get the
// same answers, elements and attributes in a namespace are renamed for the duration of the queries to
// "<inferred prefix>:<local name>", where the inferred prefix is the first prefix declared for that URI, so
// `/ns:root/ns:item` finds `<root xmlns="urn:x" xmlns:ns="urn:x"><item/>` as well as `<ns:item>`. A node
// whose namespace has no declared prefix keeps its name (so in a document with only a default namespace the
// unprefixed path works, where Calamari needs local-name()); one whose prefix is bound to another namespace
// than the document-wide first binding gets a name no query can spell. The original names are restored
// before the document is written.
//
// Nodes are updated last first (reverse document order): replacing an element's content frees the nodes
// inside it, which come after it and have then already been handled.

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cuttle/runner/deploy/structured_config.hpp"
#include "xml_support.hpp"

namespace cuttle::runner::deploy {
namespace {

namespace xs = xml_support;

bool looks_like_xpath(std::string_view name) { return name.find_first_of("/:") != std::string_view::npos; }

/// Splits a qualified name at its first colon: {prefix, local}; the prefix is empty without one.
std::pair<std::string_view, std::string_view> split_name(std::string_view name) {
  const std::size_t colon = name.find(':');
  if (colon == std::string_view::npos) return {{}, name};
  return {name.substr(0, colon), name.substr(colon + 1)};
}

/// Renames the namespaced nodes of `doc` to the names the variables' XPath expressions use (see the top of
/// this file). Warns about a prefix declared for two different namespaces.
void infer_prefixes(xs::document& doc, std::vector<std::string>& warnings) {
  // First binding of each prefix, in declaration order.
  std::vector<std::pair<std::string, std::string>> first;  // prefix -> URI
  std::unordered_map<std::string, std::size_t> first_index;
  std::vector<std::string> warned;
  std::vector<pugi::xml_node> elements;
  for (pugi::xml_node n = doc.top().first_child(); n;) {
    if (n.type() == pugi::node_element) {
      elements.push_back(n);
      for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
        const std::string_view name = a.name();
        if (!name.starts_with("xmlns:") || name.size() == 6) continue;
        std::string prefix(name.substr(6));
        std::string uri = xs::unescape(a.value());
        const auto it = first_index.find(prefix);
        if (it == first_index.end()) {
          first_index.emplace(prefix, first.size());
          first.emplace_back(std::move(prefix), std::move(uri));
        } else if (first[it->second].second != uri &&
                   std::find(warned.begin(), warned.end(), prefix) == warned.end()) {
          warnings.push_back(
              "The namespace prefix '" + prefix + "' is declared for more than one namespace; " +
              "XPath expressions use its first declaration ('" + first[it->second].second + "')");
          warned.push_back(std::move(prefix));
        }
      }
    }
    if (n.first_child()) {
      n = n.first_child();
      continue;
    }
    while (n && !n.next_sibling()) n = n.parent();
    if (n) n = n.next_sibling();
  }
  if (first.empty()) return;
  std::unordered_map<std::string, std::string> prefix_of;  // URI -> first prefix whose first binding it is
  for (const auto& [prefix, uri] : first) prefix_of.try_emplace(uri, prefix);

  // Walk with the in-scope bindings: on entering an element push its declarations, pop on leaving.
  std::vector<std::pair<std::string, std::string>> scope;  // prefix ("" = default) -> URI
  std::vector<std::size_t> marks;
  const auto resolve = [&](std::string_view prefix) -> const std::string* {
    if (prefix == "xml") return nullptr;
    for (auto it = scope.rbegin(); it != scope.rend(); ++it) {
      if (it->first == prefix) return it->second.empty() ? nullptr : &it->second;
    }
    return nullptr;
  };
  // The name a query uses for `name` in namespace `uri` (nullptr: no namespace).
  const auto canonical = [&](std::string_view name, const std::string* uri) -> std::string {
    const auto [prefix, local] = split_name(name);
    if (uri == nullptr) return std::string(name);
    if (const auto it = prefix_of.find(*uri); it != prefix_of.end())
      return it->second + ":" + std::string(local);
    return prefix.empty() ? std::string(name) : "#" + std::string(name);
  };
  const auto enter = [&](pugi::xml_node e) {
    marks.push_back(scope.size());
    for (pugi::xml_attribute a = e.first_attribute(); a; a = a.next_attribute()) {
      const std::string_view name = a.name();
      if (name == "xmlns") scope.emplace_back("", xs::unescape(a.value()));
      if (name.starts_with("xmlns:")) scope.emplace_back(name.substr(6), xs::unescape(a.value()));
    }
    const std::string_view name = e.name();
    const std::string wanted = canonical(name, resolve(split_name(name).first));
    if (wanted != name) doc.rename(e, wanted);
    for (pugi::xml_attribute a = e.first_attribute(); a; a = a.next_attribute()) {
      const std::string_view attr_name = a.name();
      const auto [prefix, local] = split_name(attr_name);
      if (prefix.empty() || prefix == "xmlns") continue;  // unprefixed attributes are in no namespace
      const std::string wanted_attr = canonical(attr_name, resolve(prefix));
      if (wanted_attr != attr_name) doc.rename(a, wanted_attr);
    }
  };
  const auto leave = [&] {
    scope.resize(marks.back());
    marks.pop_back();
  };
  const pugi::xml_node top = doc.top();
  for (pugi::xml_node n = top.first_child(); n;) {
    const bool element = n.type() == pugi::node_element;
    if (element) enter(n);
    if (element && n.first_child()) {
      n = n.first_child();
      continue;
    }
    if (element) leave();
    for (;;) {
      if (n.next_sibling()) {
        n = n.next_sibling();
        break;
      }
      n = n.parent();
      if (!n || n == top) {
        n = pugi::xml_node();
        break;
      }
      leave();
    }
  }
}

/// True when the only content of `element` besides white space is one CDATA section; `cdata` gets it.
bool only_cdata(pugi::xml_node element, pugi::xml_node& cdata) {
  for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_cdata && !cdata) {
      cdata = c;
    } else if (c.type() != pugi::node_pcdata || !xs::is_blank(c.value())) {
      return false;
    }
  }
  return static_cast<bool>(cdata);
}

bool has_element_child(pugi::xml_node element) {
  for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element) return true;
  }
  return false;
}

/// Gives `node` the value; false (with a warning naming the variable, never the value) when it cannot.
bool set_node(xs::document& doc, const pugi::xpath_node& node, const std::string& name,
              std::string_view value, std::vector<std::string>& warnings) {
  if (const pugi::xml_attribute attr = node.attribute()) {
    // pugixml's XPath also reaches the pseudo-attributes of the XML declaration: leave those alone.
    if (node.parent().type() != pugi::node_element) return false;
    doc.set_attribute(node.parent(), attr, xs::escape_attribute(value));
    return true;
  }
  const pugi::xml_node n = node.node();
  switch (n.type()) {
    case pugi::node_pcdata:
      if (n.parent().type() != pugi::node_element) return false;  // the white space around the root element
      doc.set_value(n, xs::escape_text(value));
      return true;
    case pugi::node_cdata:
      doc.set_value(n, value);  // save() splits a "]]>" across two sections
      return true;
    case pugi::node_comment:
      if (value.find("--") != std::string_view::npos || value.ends_with('-')) {
        warnings.push_back("Unable to set value for " + name +
                           ": a comment cannot contain \"--\" or end with \"-\"");
        return false;
      }
      doc.set_value(n, value);
      return true;
    case pugi::node_pi:
      if (value.find("?>") != std::string_view::npos) {
        warnings.push_back("Unable to set value for " + name +
                           ": a processing instruction cannot contain \"?>\"");
        return false;
      }
      doc.set_value(n, value);
      return true;
    case pugi::node_element: {
      pugi::xml_node cdata;
      if (only_cdata(n, cdata)) {
        doc.set_value(cdata, value);
        return true;
      }
      if (has_element_child(n)) {
        xs::document fragment;
        if (auto error = fragment.load(value, xs::load_mode::fragment)) {
          warnings.push_back("Unable to set value for " + name +
                             ": the value is not a well-formed XML fragment (" + *error + ")");
          return false;
        }
        doc.remove_children(n);
        for (pugi::xml_node c = fragment.top().first_child(); c; c = c.next_sibling()) {
          doc.insert_copy(fragment, c, n, {});
        }
        return true;
      }
      doc.remove_children(n);
      if (!value.empty()) doc.insert_text(n, {}, xs::escape_text(value));
      return true;
    }
    default:
      return false;  // the document node ("/"): nothing to set
  }
}

}  // namespace

replace_outcome replace_xml(std::string_view text, std::span<const structured_variable> vars) {
  replace_outcome out;
  xs::document doc;
  if (auto error = doc.load(text)) {
    out.error = *error;
    return out;
  }
  out.parsed = true;
  bool any = false;
  for (const auto& v : vars) any = any || looks_like_xpath(v.name);
  if (any) {
    infer_prefixes(doc, out.warnings);
    for (const auto& v : vars) {
      if (!looks_like_xpath(v.name) || v.name.find('\0') != std::string::npos) continue;
      pugi::xpath_node_set nodes;
      try {
        // Calamari skips a name that is not a valid XPath expression, silently.
        const pugi::xpath_query query(v.name.c_str());
        if (query.return_type() != pugi::xpath_type_node_set) continue;
        nodes = query.evaluate_node_set(doc.top());
      } catch (const pugi::xpath_exception&) {
        continue;
      }
      nodes.sort();
      const std::string_view value = v.value ? std::string_view(*v.value) : std::string_view();
      for (std::size_t k = nodes.size(); k-- > 0;) {
        if (set_node(doc, nodes[k], v.name, value, out.warnings)) ++out.replaced;
      }
    }
    doc.restore_names();
  }
  out.text = out.replaced > 0 ? doc.save() : std::string(text);
  return out;
}

}  // namespace cuttle::runner::deploy
