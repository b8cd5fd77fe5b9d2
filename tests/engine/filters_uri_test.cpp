// Built-in filters, uri family: behaviour from shared/reference/octostache-spec.md §9 beyond the
// conformance vectors, and cuttle's diagnostics for bad input.
#include <gtest/gtest.h>

#include <string>

#include "cuttle/engine.hpp"
#include "engine_helpers.hpp"

namespace {

using cuttle::test::clean_output_is;
using cuttle::test::make_variables;
using cuttle::test::output_is;
using cuttle::test::render;

/// `#{U | UriPart part}` with U = `uri`.
std::string part(const std::string& uri, const std::string& name) {
  const auto r = render("#{U | UriPart " + name + "}", make_variables({{"U", uri}}));
  return r.output ? *r.output : std::string("(null)");
}

TEST(filters_uri, https_parts) {
  const std::string u = "https://User:Pw@Octopus.COM:8443/a/./b/../docs?x=1#frag";
  EXPECT_EQ(part(u, "Scheme"), "https");
  EXPECT_EQ(part(u, "Host"), "octopus.com");
  EXPECT_EQ(part(u, "Port"), "8443");
  EXPECT_EQ(part(u, "IsDefaultPort"), "false");
  EXPECT_EQ(part(u, "Authority"), "octopus.com:8443");
  EXPECT_EQ(part(u, "HostAndPort"), "octopus.com:8443");
  EXPECT_EQ(part(u, "SchemeAndServer"), "https://octopus.com:8443");
  EXPECT_EQ(part(u, "UserInfo"), "User:Pw");
  EXPECT_EQ(part(u, "AbsolutePath"), "/a/docs");
  EXPECT_EQ(part(u, "PathAndQuery"), "/a/docs?x=1");
  EXPECT_EQ(part(u, "Query"), "?x=1");
  EXPECT_EQ(part(u, "Fragment"), "#frag");
  EXPECT_EQ(part(u, "AbsoluteUri"), "https://User:Pw@octopus.com:8443/a/docs?x=1#frag");
  EXPECT_EQ(part(u, "absoluteuri"), "https://User:Pw@octopus.com:8443/a/docs?x=1#frag");
}

TEST(filters_uri, default_ports_per_scheme) {
  EXPECT_EQ(part("http://a.com", "Port"), "80");
  EXPECT_EQ(part("https://a.com", "Port"), "443");
  EXPECT_EQ(part("ftp://a.com", "Port"), "21");
  EXPECT_EQ(part("ws://a.com", "HostAndPort"), "a.com:80");
  EXPECT_EQ(part("wss://a.com", "HostAndPort"), "a.com:443");
  EXPECT_EQ(part("http://a.com:80/", "IsDefaultPort"), "true");
  EXPECT_EQ(part("http://a.com:80/", "AbsoluteUri"), "http://a.com/");
  EXPECT_EQ(part("foo://a.com/x", "Port"), "-1");
  EXPECT_EQ(part("foo://a.com/x", "HostAndPort"), "a.com");
}

TEST(filters_uri, empty_path_and_escaping) {
  EXPECT_EQ(part("http://a.com", "AbsolutePath"), "/");
  EXPECT_EQ(part("http://a.com", "AbsoluteUri"), "http://a.com/");
  EXPECT_EQ(part("http://a.com/a b/ü", "AbsolutePath"), "/a%20b/%C3%BC");
  EXPECT_EQ(part("http://a.com/a%20b", "Path"), "/a b");
  EXPECT_EQ(part("http://a.com\\x\\y", "AbsolutePath"), "/x/y");
}

TEST(filters_uri, host_name_types_and_loopback) {
  EXPECT_EQ(part("http://127.0.0.1:8080/", "HostNameType"), "IPv4");
  EXPECT_EQ(part("http://127.0.0.1:8080/", "IsLoopback"), "true");
  EXPECT_EQ(part("http://[0:0::1]/", "Host"), "[::1]");
  EXPECT_EQ(part("http://[0:0::1]/", "DnsSafeHost"), "::1");
  EXPECT_EQ(part("http://[0:0::1]/", "HostNameType"), "IPv6");
  EXPECT_EQ(part("http://[0:0::1]/", "IsLoopback"), "true");
  EXPECT_EQ(part("http://[2001:DB8:0:0:1:0:0:1]:81/", "Authority"), "[2001:db8::1:0:0:1]:81");
  EXPECT_EQ(part("http://[::FFFF:1.2.3.4]/", "Host"), "[::ffff:1.2.3.4]");
  EXPECT_EQ(part("http://LocalHost/", "IsLoopback"), "true");
  EXPECT_EQ(part("http://octopus.com/", "IsLoopback"), "false");
  EXPECT_EQ(part("http://octopus.com/", "HostNameType"), "Dns");
}

TEST(filters_uri, file_uris) {
  EXPECT_EQ(part("file:///C:/temp/a%20b.txt", "IsFile"), "true");
  EXPECT_EQ(part("file:///C:/temp/a%20b.txt", "Path"), "C:\\temp\\a b.txt");
  EXPECT_EQ(part("file:///C:/temp/a%20b.txt", "Host"), "");
  EXPECT_EQ(part("file:///C:/temp/a%20b.txt", "HostNameType"), "Basic");
  EXPECT_EQ(part("file:///C:/temp/a%20b.txt", "IsUnc"), "false");
  EXPECT_EQ(part("file:///C:/temp/a%20b.txt", "AbsoluteUri"), "file:///C:/temp/a%20b.txt");
  EXPECT_EQ(part("file://server/share/f.txt", "IsUnc"), "true");
  EXPECT_EQ(part("file://server/share/f.txt", "Path"), "\\\\server\\share\\f.txt");
  EXPECT_EQ(part("file://server/share/f.txt", "Host"), "server");
  EXPECT_EQ(part("file:///home/me/x", "Path"), "/home/me/x");
  EXPECT_EQ(part("C:\\temp\\x.txt", "AbsoluteUri"), "file:///C:/temp/x.txt");
  EXPECT_EQ(part("\\\\server\\share\\x", "IsUnc"), "true");
  EXPECT_EQ(part("https://octopus.com", "IsFile"), "false");
}

TEST(filters_uri, relative_uris) {
  EXPECT_EQ(part("/docs", "IsAbsoluteUri"), "false");
  EXPECT_EQ(part("docs/a?b", "Query"),
            "[UriPart Query error: This operation is not supported for a relative URI.]");
  EXPECT_EQ(part("", "Scheme"),
            "[UriPart Scheme error: This operation is not supported for a relative URI.]");
  // An unknown part is reported before the relative check.
  EXPECT_EQ(part("/docs", "Nope"), "[UriPart Nope error: argument 'Nope' not supported]");
}

TEST(filters_uri, invalid_uris_are_returned_unchanged) {
  EXPECT_TRUE(clean_output_is(render("#{U | UriPart Host}", make_variables({{"U", "http://exa mple.com/"}})),
                              "http://exa mple.com/"));
  EXPECT_TRUE(clean_output_is(render("#{U | UriPart Port}", make_variables({{"U", "http://a.com:99999/"}})),
                              "http://a.com:99999/"));
}

TEST(filters_uri, error_values_and_missing_input) {
  EXPECT_TRUE(clean_output_is(render("#{U | UriPart}", make_variables({{"U", "http://a"}})),
                              "[UriPart error: no argument given]"));
  EXPECT_TRUE(output_is(render("#{Missing | UriPart Host}"), "#{Missing | UriPart \"Host\"}"));
  // Only the first option counts.
  EXPECT_TRUE(
      clean_output_is(render("#{U | UriPart Host Port}", make_variables({{"U", "http://a.com"}})), "a.com"));
}

TEST(filters_uri, opaque_uris) {
  EXPECT_EQ(part("mailto:someone@example.com", "Host"), "example.com");
  EXPECT_EQ(part("mailto:someone@example.com", "UserInfo"), "someone");
  EXPECT_EQ(part("mailto:someone@example.com", "Port"), "25");
  EXPECT_EQ(part("urn:isbn:0451450523", "AbsolutePath"), "isbn:0451450523");
  EXPECT_EQ(part("urn:isbn:0451450523", "Scheme"), "urn");
}

}  // namespace
