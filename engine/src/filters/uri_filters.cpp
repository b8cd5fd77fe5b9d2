// Built-in filters, URI family (spec §9.5): UriPart, emulating the .NET System.Uri properties that
// Octostache reads (Uri.TryCreate with UriKind.RelativeOrAbsolute, then one property per part name).
// Tested by tests/engine/filters_uri_test.cpp
//
// The emulation covers what deployment templates meet: hierarchical URIs with an authority (http, https,
// ws, wss, ftp and the other schemes .NET knows, plus unknown schemes written with "//"), file URIs
// (file:///C:/x, file:///home/x, file://server/share, and the implicit forms C:\x and \\server\share),
// opaque URIs such as mailto:/urn:, and relative references. It follows .NET in: lower-casing the scheme
// and host, default ports per scheme, canonical IPv4/IPv6 hosts, "/" for an empty path, removing dot
// segments, turning "\" into "/" for http-like and file URIs, and percent-encoding (UTF-8, upper-case hex)
// characters that may not appear in a URI. Text .NET rejects (a bad host or port) gives "no URI", and
// the filter then returns its input unchanged, as Octostache does when Uri.TryCreate fails.

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "filters/filter_api.hpp"
#include "unicode.hpp"

namespace cuttle::engine::detail {
namespace {

using result_t = std::optional<std::string>;

/// .NET's UriHostNameType, named as Enum.GetName prints it.
enum class host_kind { unknown, basic, dns, ipv4, ipv6 };

std::string_view host_kind_name(host_kind k) {
  switch (k) {
    case host_kind::basic:
      return "Basic";
    case host_kind::dns:
      return "Dns";
    case host_kind::ipv4:
      return "IPv4";
    case host_kind::ipv6:
      return "IPv6";
    default:
      return "Unknown";
  }
}

/// A parsed URI with the fields the UriPart parts are computed from.
struct dotnet_uri {
  bool absolute = false;
  std::string scheme;          // lower case
  bool has_authority = false;  // written with "//" (or a mailto address)
  std::string user_info;
  std::string host;  // as Uri.Host: lower case, IPv6 in brackets
  host_kind kind = host_kind::unknown;
  int port = -1;  // effective port (explicit or the scheme's default), -1 for none
  bool explicit_port = false;
  std::string path;      // escaped, as AbsolutePath
  std::string query;     // with its '?', or empty
  std::string fragment;  // with its '#', or empty
  bool unc = false;
};

/// A scheme .NET knows: its default port, whether it needs an authority, and whether it is "http-like"
/// (backslashes become slashes, dot segments are removed, the host must be a valid name or address).
struct scheme_info {
  std::string_view name;
  int default_port;
  bool needs_authority;
};
constexpr std::array<scheme_info, 16> known_schemes{{
    {"http", 80, true},
    {"https", 443, true},
    {"ws", 80, true},
    {"wss", 443, true},
    {"ftp", 21, true},
    {"gopher", 70, true},
    {"nntp", 119, true},
    {"telnet", 23, true},
    {"ldap", 389, true},
    {"net.tcp", 808, true},
    {"net.pipe", -1, true},
    {"file", -1, true},
    {"mailto", 25, false},
    {"news", -1, false},
    {"uuid", -1, false},
    {"vsmacros", 80, true},
}};

const scheme_info* find_scheme(std::string_view scheme) {
  for (const auto& s : known_schemes) {
    if (s.name == scheme) return &s;
  }
  return nullptr;
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  return (c | 0x20) - 'a' + 10;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

/// Percent-encodes what System.Uri escapes in a path, query or fragment: everything but the unreserved
/// and reserved characters and existing %XX escapes (a lone '%' becomes %25).
std::string escape_component(std::string_view s) {
  static constexpr std::string_view allowed = "-._~:/?#[]@!$&'()*+,;=";
  static constexpr std::string_view hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const auto b = static_cast<unsigned char>(c);
    if (is_alpha(c) || is_digit(c) || (b < 0x80 && allowed.find(c) != std::string_view::npos)) {
      out += c;
    } else if (c == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      out += c;
    } else {
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 0xF];
    }
  }
  return out;
}

/// Decodes %XX escapes (Uri.LocalPath).
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// RFC 3986 remove_dot_segments, which .NET applies to hierarchical paths.
std::string remove_dot_segments(std::string_view path) {
  std::string out;
  while (!path.empty()) {
    if (path.substr(0, 3) == "../") {
      path.remove_prefix(3);
    } else if (path.substr(0, 2) == "./") {
      path.remove_prefix(2);
    } else if (path.substr(0, 3) == "/./") {
      path.remove_prefix(2);
    } else if (path == "/.") {
      path = "/";
    } else if (path.substr(0, 4) == "/../" || path == "/..") {
      path = path.size() == 3 ? std::string_view("/") : path.substr(3);
      const auto slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (path == "." || path == "..") {
      path = {};
    } else {
      const auto next = path.find('/', 1);
      const auto n = next == std::string_view::npos ? path.size() : next;
      out += path.substr(0, n);
      path.remove_prefix(n);
    }
  }
  return out;
}

/// A dotted-decimal IPv4 address in canonical form, or nullopt.
std::optional<std::string> parse_ipv4(std::string_view s) {
  std::string out;
  for (int part = 0; part < 4; ++part) {
    std::size_t n = 0;
    while (n < s.size() && n < 4 && is_digit(s[n])) ++n;
    if (n == 0 || n > 3) return std::nullopt;
    int value = 0;
    std::from_chars(s.data(), s.data() + n, value);
    if (value > 255) return std::nullopt;
    out += std::to_string(value);
    s.remove_prefix(n);
    if (part < 3) {
      if (s.empty() || s[0] != '.') return std::nullopt;
      s.remove_prefix(1);
      out += '.';
    }
  }
  if (!s.empty()) return std::nullopt;
  return out;
}

/// An IPv6 address (without brackets) in .NET's canonical form: lower-case hex without leading zeros,
/// the longest run of two or more zero groups written as "::". nullopt if it is not an address.
std::optional<std::string> parse_ipv6(std::string_view s) {
  std::string scope;
  if (const auto pct = s.find('%'); pct != std::string_view::npos) {
    scope = std::string(s.substr(pct));
    s = s.substr(0, pct);
  }
  std::array<std::uint16_t, 8> groups{};
  int count = 0;
  int gap = -1;  // index where "::" was
  std::size_t i = 0;
  if (s.substr(0, 2) == "::") {
    gap = 0;
    i = 2;
  } else if (!s.empty() && s[0] == ':') {
    return std::nullopt;
  }
  while (i < s.size()) {
    if (count == 8) return std::nullopt;
    std::size_t j = i;
    while (j < s.size() && is_hex(s[j]) && j - i < 5) ++j;
    if (j < s.size() && s[j] == '.') {  // embedded IPv4 tail
      const auto v4 = parse_ipv4(s.substr(i));
      if (!v4 || count > 6) return std::nullopt;
      unsigned a = 0, b = 0, c = 0, d = 0;
      std::string_view t = *v4;
      auto next = [&t](unsigned& x) {
        const auto r = std::from_chars(t.data(), t.data() + t.size(), x);
        t.remove_prefix(static_cast<std::size_t>(r.ptr - t.data()));
        if (!t.empty()) t.remove_prefix(1);
      };
      next(a);
      next(b);
      next(c);
      next(d);
      groups[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(a << 8 | b);
      groups[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(c << 8 | d);
      i = s.size();
      break;
    }
    if (j == i || j - i > 4) return std::nullopt;
    unsigned value = 0;
    std::from_chars(s.data() + i, s.data() + j, value, 16);
    groups[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(value);
    i = j;
    if (i == s.size()) break;
    if (s[i] != ':') return std::nullopt;
    if (i + 1 < s.size() && s[i + 1] == ':') {
      if (gap >= 0) return std::nullopt;
      gap = count;
      i += 2;
    } else {
      ++i;
      if (i == s.size()) return std::nullopt;
    }
  }
  if (gap < 0 && count != 8) return std::nullopt;
  if (gap >= 0) {
    if (count > 7) return std::nullopt;
    std::array<std::uint16_t, 8> full{};
    const int tail = count - gap;
    for (int k = 0; k < gap; ++k) full[static_cast<std::size_t>(k)] = groups[static_cast<std::size_t>(k)];
    for (int k = 0; k < tail; ++k)
      full[static_cast<std::size_t>(8 - tail + k)] = groups[static_cast<std::size_t>(gap + k)];
    groups = full;
  }
  // An IPv4-mapped address keeps its dotted tail, as .NET prints it.
  if (groups[0] == 0 && groups[1] == 0 && groups[2] == 0 && groups[3] == 0 && groups[4] == 0 &&
      groups[5] == 0xFFFF) {
    return "::ffff:" + std::to_string(groups[6] >> 8) + "." + std::to_string(groups[6] & 0xFF) + "." +
           std::to_string(groups[7] >> 8) + "." + std::to_string(groups[7] & 0xFF) + scope;
  }
  // Longest run of zero groups (length >= 2), the first one on a tie.
  int best = -1;
  int best_len = 1;
  for (int k = 0; k < 8;) {
    if (groups[static_cast<std::size_t>(k)] != 0) {
      ++k;
      continue;
    }
    int e = k;
    while (e < 8 && groups[static_cast<std::size_t>(e)] == 0) ++e;
    if (e - k > best_len) {
      best = k;
      best_len = e - k;
    }
    k = e;
  }
  std::string out;
  char buf[8];
  for (int k = 0; k < 8; ++k) {
    if (k == best) {
      out += "::";
      k += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    const auto r = std::to_chars(buf, buf + sizeof buf, groups[static_cast<std::size_t>(k)], 16);
    out.append(buf, r.ptr);
  }
  return out + scope;
}

/// True for a DNS name: dot-separated labels of letters, digits, '-' and '_' (non-ASCII allowed, as for
/// IDN), each 1-63 bytes; one trailing dot is allowed.
bool is_dns_name(std::string_view s) {
  if (s.empty()) return false;
  if (s.back() == '.') s.remove_suffix(1);
  std::size_t label = 0;
  for (const char c : s) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const auto b = static_cast<unsigned char>(c);
    if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '_' || b >= 0x80)) return false;
    if (++label > 63) return false;
  }
  return label != 0;
}

/// Parses `auth` (userinfo@host:port) into `u`; false when .NET would reject it.
bool parse_authority(std::string_view auth, const scheme_info* known, dotnet_uri& u) {
  if (const auto at = auth.rfind('@'); at != std::string_view::npos) {
    u.user_info = escape_component(auth.substr(0, at));
    auth.remove_prefix(at + 1);
  }
  std::string_view host = auth;
  std::string_view port;
  bool has_port = false;
  if (!auth.empty() && auth[0] == '[') {
    const auto close = auth.find(']');
    if (close == std::string_view::npos) return false;
    const auto v6 = parse_ipv6(auth.substr(1, close - 1));
    if (!v6) return false;
    u.host = "[" + *v6 + "]";
    u.kind = host_kind::ipv6;
    const auto rest = auth.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return false;
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    if (const auto colon = auth.rfind(':'); colon != std::string_view::npos) {
      host = auth.substr(0, colon);
      port = auth.substr(colon + 1);
      has_port = true;
    }
    const std::string lower = ascii_lower(host);
    if (const auto v4 = parse_ipv4(lower)) {
      u.host = *v4;
      u.kind = host_kind::ipv4;
    } else if (is_dns_name(lower)) {
      u.host = lower;
      u.kind = host_kind::dns;
    } else if (known != nullptr && known->needs_authority && !(known->name == "file" && lower.empty())) {
      return false;  // http://exa mple.com, http:///x: .NET's "The hostname could not be parsed."
    } else {
      u.host = lower;
      u.kind = host_kind::basic;
    }
  }
  u.port = known != nullptr ? known->default_port : -1;
  if (has_port && !port.empty()) {
    int value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value > 65535) return false;
    u.port = value;
    u.explicit_port = true;
  }
  return true;
}

/// Splits `rest` at the first '?' and '#' into path, query and fragment, escaped.
void split_path(std::string_view rest, bool hierarchical, dotnet_uri& u) {
  std::string_view fragment;
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
    fragment = rest.substr(hash);
    rest = rest.substr(0, hash);
  }
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q);
    rest = rest.substr(0, q);
  }
  std::string path(rest);
  if (hierarchical) {
    for (char& c : path) {
      if (c == '\\') c = '/';
    }
    if (path.empty() || path[0] != '/') path.insert(path.begin(), '/');
    path = remove_dot_segments(path);
  }
  u.path = escape_component(path);
  u.query = escape_component(query);
  u.fragment = fragment.empty() ? std::string() : "#" + escape_component(fragment.substr(1));
}

/// Uri.TryCreate(text, UriKind.RelativeOrAbsolute): nullopt when it fails.
std::optional<dotnet_uri> parse_uri(std::string_view text) {
  // .NET ignores leading and trailing spaces and control characters.
  while (!text.empty() && static_cast<unsigned char>(text.front()) <= 0x20) text.remove_prefix(1);
  while (!text.empty() && static_cast<unsigned char>(text.back()) <= 0x20) text.remove_suffix(1);
  dotnet_uri u;
  const scheme_info* file = find_scheme("file");

  // Implicit file paths: C:\dir or C:/dir, and \\server\share.
  if (text.size() >= 2 && is_alpha(text[0]) && text[1] == ':' &&
      (text.size() == 2 || text[2] == '\\' || text[2] == '/')) {
    u.absolute = true;
    u.scheme = "file";
    u.has_authority = true;
    u.kind = host_kind::basic;
    split_path("/" + std::string(text), true, u);
    return u;
  }
  if (text.substr(0, 2) == "\\\\") {
    text.remove_prefix(2);
    const auto end = text.find_first_of("\\/");
    u.absolute = true;
    u.scheme = "file";
    u.has_authority = true;
    if (!parse_authority(text.substr(0, end), file, u) || u.host.empty()) return std::nullopt;
    u.unc = true;
    split_path(end == std::string_view::npos ? std::string_view() : text.substr(end), true, u);
    return u;
  }

  // scheme ":" (a letter, then letters, digits, '+', '-', '.'); anything else is a relative reference.
  std::size_t colon = 0;
  while (colon < text.size() &&
         (is_alpha(text[colon]) || (colon > 0 && (is_digit(text[colon]) || text[colon] == '+' ||
                                                  text[colon] == '-' || text[colon] == '.')))) {
    ++colon;
  }
  if (colon < 2 || colon >= text.size() || text[colon] != ':') return u;  // relative
  u.scheme = ascii_lower(text.substr(0, colon));
  const scheme_info* known = find_scheme(u.scheme);
  std::string_view rest = text.substr(colon + 1);
  const bool slashes =
      rest.size() >= 2 && (rest[0] == '/' || rest[0] == '\\') && (rest[1] == '/' || rest[1] == '\\');

  if (u.scheme == "file") {
    u.absolute = true;
    u.has_authority = true;
    if (slashes) rest.remove_prefix(2);
    // file:///path and file:/path have no host; file://C:/x is a drive path too.
    const bool drive = rest.size() >= 2 && is_alpha(rest[0]) && rest[1] == ':';
    if (!slashes || drive || (!rest.empty() && (rest[0] == '/' || rest[0] == '\\'))) {
      u.kind = host_kind::basic;
      split_path(rest, true, u);
      return u;
    }
    const auto end = rest.find_first_of("\\/?#");
    if (!parse_authority(rest.substr(0, end), file, u)) return std::nullopt;
    u.unc = !u.host.empty();
    split_path(end == std::string_view::npos ? std::string_view() : rest.substr(end), true, u);
    return u;
  }

  if (known != nullptr && known->needs_authority) {
    if (!slashes) return dotnet_uri{};  // .NET: a bad authority, so a relative reference
    rest.remove_prefix(2);
    const auto end = rest.find_first_of("/\\?#");
    if (!parse_authority(rest.substr(0, end), known, u)) return std::nullopt;
    u.absolute = true;
    u.has_authority = true;
    split_path(end == std::string_view::npos ? std::string_view() : rest.substr(end), true, u);
    return u;
  }

  u.absolute = true;
  if (rest.substr(0, 2) == "//") {  // an unknown scheme with an authority
    rest.remove_prefix(2);
    const auto end = rest.find_first_of("/?#");
    if (!parse_authority(rest.substr(0, end), known, u)) return std::nullopt;
    u.has_authority = true;
    split_path(end == std::string_view::npos ? std::string_view() : rest.substr(end), false, u);
    return u;
  }
  if (u.scheme == "mailto") {  // mailto:user@host?query: .NET reads the address as userinfo@host
    const auto end = rest.find_first_of("?#");
    const auto address = rest.substr(0, end);
    if (address.find('@') != std::string_view::npos) {
      if (!parse_authority(address, known, u)) return std::nullopt;
      u.has_authority = true;
      split_path(end == std::string_view::npos ? std::string_view() : rest.substr(end), false, u);
      return u;
    }
  }
  u.port = known != nullptr ? known->default_port : -1;
  split_path(rest, false, u);  // an opaque URI such as urn:isbn:123
  return u;
}

// ---- The parts ---------------------------------------------------------------------------------------

bool is_default_port(const dotnet_uri& u) {
  const scheme_info* known = find_scheme(u.scheme);
  return u.port == (known != nullptr ? known->default_port : -1);
}

std::string host_and_port(const dotnet_uri& u, bool strong_port) {
  std::string out = u.host;
  if (u.port >= 0 && (strong_port || !is_default_port(u))) out += ":" + std::to_string(u.port);
  return out;
}

std::string absolute_uri(const dotnet_uri& u) {
  std::string out = u.scheme + ":";
  if (u.has_authority) {
    if (u.scheme != "mailto") out += "//";
    if (!u.user_info.empty()) out += u.user_info + "@";
    out += host_and_port(u, false);
  }
  return out + u.path + u.query + u.fragment;
}

bool is_loopback(const dotnet_uri& u) {
  if (u.scheme == "file" && u.host.empty()) return true;
  if (u.kind == host_kind::ipv4) return u.host.substr(0, 4) == "127.";
  if (u.kind == host_kind::ipv6) return u.host == "[::1]";
  return u.host == "localhost" || u.host == "localhost.";
}

std::string local_path(const dotnet_uri& u) {
  std::string path = unescape(u.path);
  if (u.scheme != "file") return path;
  if (u.unc) {
    for (char& c : path) {
      if (c == '/') c = '\\';
    }
    return "\\\\" + u.host + path;
  }
  if (path.size() >= 3 && path[0] == '/' && is_alpha(path[1]) && path[2] == ':') {
    path.erase(0, 1);
    for (char& c : path) {
      if (c == '/') c = '\\';
    }
  }
  return path;
}

std::string dns_safe_host(const dotnet_uri& u) {
  if (u.kind == host_kind::ipv6) return unescape(u.host.substr(1, u.host.size() - 2));
  return u.host;
}

std::string_view bool_text(bool b) { return b ? "true" : "false"; }

/// The value of `part` (lower case) for `u`; nullopt for a part name UriPart does not know.
std::optional<std::string> uri_part(const dotnet_uri& u, std::string_view part) {
  if (part == "absolutepath") return u.path;
  if (part == "absoluteuri") return absolute_uri(u);
  if (part == "authority") return host_and_port(u, false);
  if (part == "dnssafehost") return dns_safe_host(u);
  if (part == "fragment") return u.fragment;
  if (part == "host") return u.host;
  if (part == "hostandport") return host_and_port(u, true);
  if (part == "hostnametype") return std::string(host_kind_name(u.kind));
  if (part == "isabsoluteuri") return std::string(bool_text(u.absolute));
  if (part == "isdefaultport") return std::string(bool_text(is_default_port(u)));
  if (part == "isfile") return std::string(bool_text(u.scheme == "file"));
  if (part == "isloopback") return std::string(bool_text(is_loopback(u)));
  if (part == "isunc") return std::string(bool_text(u.unc));
  if (part == "path") return local_path(u);
  if (part == "pathandquery") return u.path + u.query;
  if (part == "port") return std::to_string(u.port);
  if (part == "query") return u.query;
  if (part == "scheme") return u.scheme;
  if (part == "schemeandserver") {
    return u.scheme + (u.has_authority && u.scheme != "mailto" ? "://" : ":") + host_and_port(u, false);
  }
  if (part == "userinfo") return u.user_info;
  return std::nullopt;
}

constexpr std::array<std::string_view, 20> part_names{
    "absolutepath",    "absoluteuri",  "authority",     "dnssafehost",   "fragment", "host",
    "hostandport",     "hostnametype", "isabsoluteuri", "isdefaultport", "isfile",   "isloopback",
    "isunc",           "path",         "pathandquery",  "port",          "query",    "scheme",
    "schemeandserver", "userinfo",
};

// UriPart part: the error texts are values, as Octostache returns them.
result_t uri_part_filter(filter_args& a) {
  if (!a.input) return std::nullopt;
  if (a.options.empty()) return std::string("[UriPart error: no argument given]");
  const auto uri = parse_uri(*a.input);
  if (!uri) return *a.input;
  const std::string& option = a.options[0];
  const std::string part = to_lower(option);
  bool known = false;
  for (const auto name : part_names) known = known || name == part;
  if (!known) return "[UriPart " + option + " error: argument '" + option + "' not supported]";
  if (!uri->absolute && part != "isabsoluteuri") {
    return "[UriPart " + option + " error: This operation is not supported for a relative URI.]";
  }
  return uri_part(*uri, part);
}

constexpr std::array<builtin_entry, 1> uri_table{{
    {"uripart", uri_part_filter},
}};

}  // namespace

std::span<const builtin_entry> uri_filters() { return uri_table; }

}  // namespace cuttle::engine::detail
