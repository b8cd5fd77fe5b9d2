// XML configuration files: XDT transforms (xml_xdt), appSettings / connectionStrings / applicationSettings
// replacement (xml_config_settings), structured XML variables (xml_structured), and properties (xml_props):
// exact output texts, byte-for-byte preservation of what was not edited, and re-parsing of what was.
#include "cuttle/runner/deploy/xml_config.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cuttle/runner/deploy/structured_config.hpp"

namespace {

using cuttle::runner::deploy::apply_xdt;
using cuttle::runner::deploy::replace_config_settings;
using cuttle::runner::deploy::replace_outcome;
using cuttle::runner::deploy::replace_xml;
using cuttle::runner::deploy::structured_variable;
using cuttle::runner::deploy::xdt_outcome;

/// True when a standard (escaping, normalising) pugixml parse accepts `text` as a document.
bool reparses(const std::string& text) {
  pugi::xml_document doc;
  return static_cast<bool>(doc.load_string(text.c_str(), pugi::parse_default | pugi::parse_doctype));
}

/// The text and CDATA children of `element`, concatenated.
std::string all_text(pugi::xml_node element) {
  std::string s;
  for (pugi::xml_node c = element.first_child(); c; c = c.next_sibling()) s += c.value();
  return s;
}

replace_outcome xml(std::string_view text, std::vector<structured_variable> vars) {
  return replace_xml(text, vars);
}
replace_outcome settings(std::string_view text, std::vector<structured_variable> vars) {
  return replace_config_settings(text, vars);
}

// --- XDT
// ----------------------------------------------------------------------------------------------------

constexpr std::string_view web_config = R"xml(<?xml version="1.0" encoding="utf-8"?>
<!-- Application configuration -->
<configuration>
  <appSettings>
    <add key="Environment" value="Development" />
    <add key="LogLevel" value="Debug" />
  </appSettings>
  <connectionStrings>
    <add name="Main" connectionString="Server=dev;Database=app" providerName="System.Data.SqlClient" />
  </connectionStrings>
  <system.web>
    <compilation debug="true" targetFramework="4.8" />
    <httpRuntime targetFramework="4.8" />
  </system.web>
</configuration>
)xml";

constexpr std::string_view web_release_config = R"xml(<?xml version="1.0" encoding="utf-8"?>
<configuration xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform">
  <appSettings>
    <add key="Environment" value="Production" xdt:Transform="SetAttributes" xdt:Locator="Match(key)" />
    <add key="FeatureFlag" value="on" xdt:Transform="Insert" />
  </appSettings>
  <connectionStrings>
    <add name="Main" connectionString="Server=prod;Database=app" providerName="System.Data.SqlClient"
         xdt:Transform="Replace" xdt:Locator="Match(name)" />
  </connectionStrings>
  <system.web>
    <compilation xdt:Transform="RemoveAttributes(debug)" />
    <customErrors mode="RemoteOnly" defaultRedirect="~/Error" xdt:Transform="Insert">
      <error statusCode="404" redirect="~/NotFound" />
    </customErrors>
  </system.web>
</configuration>
)xml";

TEST(xml_xdt, web_release_config) {
  const xdt_outcome out = apply_xdt(web_config, web_release_config);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.text, R"xml(<?xml version="1.0" encoding="utf-8"?>
<!-- Application configuration -->
<configuration>
  <appSettings>
    <add key="Environment" value="Production" />
    <add key="LogLevel" value="Debug" />
    <add key="FeatureFlag" value="on" />
  </appSettings>
  <connectionStrings>
    <add name="Main" connectionString="Server=prod;Database=app" providerName="System.Data.SqlClient" />
  </connectionStrings>
  <system.web>
    <compilation targetFramework="4.8" />
    <httpRuntime targetFramework="4.8" />
    <customErrors mode="RemoteOnly" defaultRedirect="~/Error">
      <error statusCode="404" redirect="~/NotFound" />
    </customErrors>
  </system.web>
</configuration>
)xml");
  EXPECT_EQ(out.applied, 5U);
  EXPECT_TRUE(out.warnings.empty());
  EXPECT_EQ(out.text.find("xdt"), std::string::npos);
  EXPECT_TRUE(reparses(out.text));
}

TEST(xml_xdt, set_attributes_with_names_and_condition_locator) {
  const xdt_outcome out = apply_xdt(
      web_config, R"xml(<configuration xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform">
  <appSettings>
    <add key="ignored" value="Trace" extra="1" xdt:Transform="SetAttributes(value, extra)"
         xdt:Locator="Condition(@key='LogLevel' or @key='Environment')" />
  </appSettings>
</configuration>)xml");
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.applied, 1U);
  EXPECT_NE(out.text.find(R"(<add key="Environment" value="Trace" extra="1" />)"), std::string::npos)
      << out.text;
  EXPECT_NE(out.text.find(R"(<add key="LogLevel" value="Trace" extra="1" />)"), std::string::npos)
      << out.text;
}

TEST(xml_xdt, remove_takes_the_first_match_and_remove_all_takes_every_match) {
  constexpr std::string_view target = "<r>\n  <a n=\"1\"/>\n  <a n=\"2\"/>\n  <b/>\n  <a n=\"3\"/>\n</r>\n";
  const auto remove =
      apply_xdt(target, R"xml(<r xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform">
  <a xdt:Transform="Remove"/>
</r>)xml");
  ASSERT_TRUE(remove.ok) << remove.error;
  EXPECT_EQ(remove.text, "<r>\n  <a n=\"2\"/>\n  <b/>\n  <a n=\"3\"/>\n</r>\n");
  const auto remove_all =
      apply_xdt(target, R"xml(<r xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform">
  <a xdt:Transform="RemoveAll"/>
</r>)xml");
  ASSERT_TRUE(remove_all.ok) << remove_all.error;
  EXPECT_EQ(remove_all.text, "<r>\n  <b/>\n</r>\n");
}

TEST(xml_xdt, insert_before_and_after) {
  constexpr std::string_view target = "<r>\n  <a/>\n  <b/>\n</r>";
  const auto out = apply_xdt(target, R"xml(<r xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform">
  <x xdt:Transform="InsertBefore(/r/b)"/>
  <y xdt:Transform="InsertAfter(a)"/>
</r>)xml");
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.text, "<r>\n  <a/>\n  <y/>\n  <x/>\n  <b/>\n</r>");
  EXPECT_EQ(out.applied, 2U);
}

TEST(xml_xdt, insert_if_missing_inserts_once) {
  constexpr std::string_view transform =
      R"xml(<configuration xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform">
  <appSettings>
    <add key="LogLevel" value="Warn" xdt:Transform="InsertIfMissing" xdt:Locator="Match(key)" />
    <add key="New" value="1" xdt:Transform="InsertIfMissing" xdt:Locator="Match(key)" />
  </appSettings>
</configuration>)xml";
  const auto once = apply_xdt(web_config, transform);
  ASSERT_TRUE(once.ok) << once.error;
  EXPECT_EQ(once.applied, 1U);
  EXPECT_NE(once.text.find("    <add key=\"LogLevel\" value=\"Debug\" />\n    <add key=\"New\" value=\"1\" "
                           "/>\n  </appSettings>"),
            std::string::npos)
      << once.text;
  const auto twice = apply_xdt(once.text, transform);
  ASSERT_TRUE(twice.ok) << twice.error;
  EXPECT_EQ(twice.applied, 0U);
  EXPECT_EQ(twice.text, once.text);
}

TEST(xml_xdt, insert_into_an_empty_parent_and_into_every_parent) {
  const auto out = apply_xdt("<r>\n  <p>\n  </p>\n  <p/>\n</r>",
                             R"xml(<r xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform">
  <p><c xdt:Transform="Insert"/></p>
</r>)xml");
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.text, "<r>\n  <p>\n    <c/>\n  </p>\n  <p><c/></p>\n</r>");
}

TEST(xml_xdt, replace_the_root_and_xpath_locator) {
  const auto root = apply_xdt(
      "<?xml version=\"1.0\"?>\n<r a=\"1\"><x/></r>\n",
      R"xml(<r b="2" xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform" xdt:Transform="Replace"><y/></r>)xml");
  ASSERT_TRUE(root.ok) << root.error;
  EXPECT_EQ(root.text, "<?xml version=\"1.0\"?>\n<r b=\"2\"><y/></r>\n");

  const auto located = apply_xdt("<r><s><t k=\"1\"/><t k=\"2\"/></s></r>",
                                 R"xml(<r xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform">
  <any xdt:Locator="XPath(/r/s/t[@k='2'])" xdt:Transform="SetAttributes(v)" v="x">
    <sub xdt:Transform="Insert"/>
  </any>
</r>)xml");
  ASSERT_TRUE(located.ok) << located.error;
  EXPECT_EQ(located.text, "<r><s><t k=\"1\"/><t k=\"2\" v=\"x\"><sub/></t></s></r>");
  EXPECT_EQ(located.applied, 2U);
}

TEST(xml_xdt, children_of_a_replaced_element_see_the_replacement) {
  const auto out = apply_xdt("<r><a><old/></a></r>",
                             R"xml(<r xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform">
  <a xdt:Transform="Replace"><b x="1"><c xdt:Transform="SetAttributes" y="2"/></b></a>
</r>)xml");
  ASSERT_TRUE(out.ok) << out.error;
  // The copy has no xdt attributes; then the nested SetAttributes runs against it (as in Microsoft's XDT).
  EXPECT_EQ(out.text, "<r><a><b x=\"1\"><c y=\"2\"/></b></a></r>");
  EXPECT_EQ(out.applied, 2U);
}

TEST(xml_xdt, remove_attributes_without_arguments_removes_all_but_namespace_declarations) {
  const auto out = apply_xdt(
      R"(<r><e xmlns:p="urn:p" a="1" p:b="2"/></r>)",
      R"xml(<r xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform"><e xdt:Transform="RemoveAttributes"/></r>)xml");
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.text, R"(<r><e xmlns:p="urn:p"/></r>)");
}

TEST(xml_xdt, a_transform_that_matches_nothing_is_a_warning) {
  const auto out = apply_xdt(
      web_config, R"xml(<configuration xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform">
  <appSettings>
    <add key="Missing" xdt:Transform="Remove" xdt:Locator="Match(key)" />
    <add key="Quiet" xdt:Transform="Remove" xdt:Locator="Match(key)" xdt:SupressWarnings="true" />
  </appSettings>
</configuration>)xml");
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.applied, 0U);
  EXPECT_EQ(out.text, web_config);
  ASSERT_EQ(out.warnings.size(), 1U);
  EXPECT_EQ(out.warnings[0],
            "transform, line 3, column 5: no element in the target matches "
            "'/configuration/appSettings/add[@key='Missing']'; Remove was not applied");
}

TEST(xml_xdt, other_prefix_for_the_xdt_namespace_and_nested_declarations_are_stripped) {
  const auto out = apply_xdt(
      "<r/>",
      R"xml(<r xmlns:t="http://schemas.microsoft.com/XML-Document-Transform"><n xmlns:t="http://schemas.microsoft.com/XML-Document-Transform" t:Transform="InsertIfMissing" keep="1"><m t:Locator="Match(keep)" keep="2"/></n></r>)xml");
  ASSERT_TRUE(out.ok) << out.error;
  // <r/> has no indentation to follow: the copy goes straight in.
  EXPECT_EQ(out.text, R"(<r><n keep="1"><m keep="2"/></n></r>)");
}

TEST(xml_xdt, match_values_with_quotes) {
  const auto out = apply_xdt(R"(<r><a k="it's" v="1"/><a k='say "hi"' v="2"/></r>)",
                             R"xml(<r xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform">
  <a k="it's" v="one" xdt:Transform="SetAttributes(v)" xdt:Locator="Match(k)"/>
  <a k='say "hi"' v="two" xdt:Transform="SetAttributes(v)" xdt:Locator="Match(k)"/>
</r>)xml");
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.text, R"(<r><a k="it's" v="one"/><a k='say "hi"' v="two"/></r>)");
}

TEST(xml_xdt, default_namespace_documents_and_escaped_conditions) {
  const auto out = apply_xdt(
      R"(<nlog xmlns="http://www.nlog-project.org/schemas/NLog.xsd"><rules><logger name="*" minlevel="Debug"/></rules></nlog>)",
      R"xml(<nlog xmlns="http://www.nlog-project.org/schemas/NLog.xsd" xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform">
  <rules><logger minlevel="Warn" xdt:Locator="Condition(@name=&quot;*&quot;)" xdt:Transform="SetAttributes(minlevel)"/></rules>
</nlog>)xml");
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(
      out.text,
      R"(<nlog xmlns="http://www.nlog-project.org/schemas/NLog.xsd"><rules><logger name="*" minlevel="Warn"/></rules></nlog>)");
}

TEST(xml_xdt, crlf_targets_keep_their_line_ends) {
  const auto out = apply_xdt(
      "<r>\r\n  <a/>\r\n</r>\r\n",
      R"xml(<r xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform"><b xdt:Transform="Insert"/></r>)xml");
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.text, "<r>\r\n  <a/>\r\n  <b/>\r\n</r>\r\n");
}

TEST(xml_xdt, errors_name_the_transform_line_and_column) {
  const auto check = [](std::string_view transform, std::string_view expected) {
    const auto out = apply_xdt("<r><a/></r>", transform);
    EXPECT_FALSE(out.ok) << transform;
    EXPECT_EQ(out.error, expected);
    EXPECT_TRUE(out.text.empty());
  };
  constexpr std::string_view ns = R"(xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform")";
  check(std::string("<r ") + std::string(ns) + ">\n  <a xdt:Transform=\"Rename\"/>\n</r>",
        "transform, line 2, column 3: unsupported xdt:Transform 'Rename' (supported: Replace, Insert, "
        "InsertBefore, "
        "InsertAfter, InsertIfMissing, Remove, RemoveAll, RemoveAttributes, SetAttributes)");
  check(std::string("<r ") + std::string(ns) +
            ">\n  <a xdt:Transform=\"Replace\" xdt:Locator=\"Near(x)\"/>\n</r>",
        "transform, line 2, column 3: unsupported xdt:Locator 'Near' (supported: Match, Condition, XPath)");
  check(std::string("<r ") + std::string(ns) + "><a xdt:Transform=\"SetAttributes(a\"/></r>",
        "transform, line 1, column 68: malformed xdt:Transform: 'SetAttributes(' is not closed by ')' at the "
        "end");
  check(std::string("<r ") + std::string(ns) + "><a xdt:Transform=\"Remove(x)\"/></r>",
        "transform, line 1, column 68: Remove takes no arguments");
  check(std::string("<r ") + std::string(ns) + "><a xdt:Transform=\"InsertAfter\"/></r>",
        "transform, line 1, column 68: InsertAfter needs one XPath argument: InsertAfter(/configuration/x)");
  check(
      std::string("<r ") + std::string(ns) + "><a xdt:Locator=\"Match(key)\" xdt:Transform=\"Remove\"/></r>",
      "transform, line 1, column 68: Match(key): the element has no attribute 'key'");
  check(std::string("<r ") + std::string(ns) +
            "><a xdt:Locator=\"Condition(@x=)\" xdt:Transform=\"Remove\"/></r>",
        "transform, line 1, column 68: invalid XPath '/r/a[@x=]': Unrecognized node test");
  check(std::string("<r ") + std::string(ns) + "><b xdt:Transform=\"InsertAfter(/r/zzz)\"/></r>",
        "transform, line 1, column 68: InsertAfter: the XPath '/r/zzz' selects no element");
  check("<r>\n <a xdt:Transform=\"Remove\"/></r>",
        "transform, line 2, column 2: the namespace prefix 'xdt' of 'xdt:Transform' is not declared "
        "(xmlns:xdt=\"http://schemas.microsoft.com/XML-Document-Transform\")");
  check(std::string("<r ") + std::string(ns) + " xdt:Transform=\"Insert\"/>",
        "transform, line 1, column 1: Insert cannot be used on the root element");
  check("<r>\n  <a>\n</r>", "transform, line 3, column 3: the end tag does not match the start tag");
}

TEST(xml_xdt, target_parse_errors) {
  const auto out = apply_xdt("<configuration>\n  <a b=\"1\" b=\"2\"/>\n</configuration>", "<configuration/>");
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error, "target, line 2, column 3: duplicate attribute 'b'");
  EXPECT_EQ(apply_xdt("", "<r/>").error, "target, line 1, column 1: no root element");
  EXPECT_EQ(apply_xdt("<r/><s/>", "<r/>").error, "target, line 1, column 5: more than one root element");
  EXPECT_EQ(apply_xdt("<r>\n  <a>\n", "<r/>").error,
            "target, line 3, column 1: unexpected end of the document: an element is not closed");
}

// --- configuration settings --------------------------------------------------------------------------------

constexpr std::string_view app_config = R"xml(<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <appSettings>
    <add key="ApiUrl" value="http://localhost" />
    <add key="Timeout"
         value="30" />
    <add key="NoValue" />
  </appSettings>
  <connectionStrings>
    <add name="Db" connectionString="Server=.;Trusted_Connection=True" providerName="System.Data.SqlClient" />
  </connectionStrings>
  <applicationSettings>
    <App.Properties.Settings>
      <setting name="Greeting" serializeAs="String">
        <value>Hello</value>
      </setting>
      <setting name="Empty" serializeAs="String">
      </setting>
    </App.Properties.Settings>
  </applicationSettings>
</configuration>
)xml";

TEST(xml_config_settings, replaces_existing_entries_case_insensitively) {
  const auto out = settings(app_config, {{"apiurl", "https://prod.example.com/?a=1&b=<2>"},
                                         {"TIMEOUT", "60"},
                                         {"NoValue", "set"},
                                         {"db", "Server=prod;Password=\"p'w\""},
                                         {"Greeting", "Hi & bye"},
                                         {"Empty", std::nullopt},
                                         {"Unused", "x"}});
  ASSERT_TRUE(out.parsed) << out.error;
  EXPECT_EQ(out.replaced, 6U);
  EXPECT_TRUE(out.warnings.empty());
  EXPECT_EQ(out.text, R"xml(<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <appSettings>
    <add key="ApiUrl" value="https://prod.example.com/?a=1&amp;b=&lt;2&gt;" />
    <add key="Timeout"
         value="60" />
    <add key="NoValue" value="set" />
  </appSettings>
  <connectionStrings>
    <add name="Db" connectionString="Server=prod;Password=&quot;p'w&quot;" providerName="System.Data.SqlClient" />
  </connectionStrings>
  <applicationSettings>
    <App.Properties.Settings>
      <setting name="Greeting" serializeAs="String">
        <value>Hi &amp; bye</value>
      </setting>
      <setting name="Empty" serializeAs="String">
        <value></value>
      </setting>
    </App.Properties.Settings>
  </applicationSettings>
</configuration>
)xml");
  EXPECT_TRUE(reparses(out.text));
}

TEST(xml_config_settings, later_variables_win_and_nothing_matching_keeps_the_text) {
  const auto out = settings(app_config, {{"TIMEOUT", "1"}, {"timeout", "2"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 1U);
  EXPECT_NE(out.text.find("value=\"2\""), std::string::npos);
  const auto none = settings(app_config, {{"Nothing", "x"}});
  EXPECT_EQ(none.replaced, 0U);
  EXPECT_EQ(none.text, app_config);
}

TEST(xml_config_settings, namespaced_documents_and_escaped_keys) {
  const auto out = settings(
      R"(<c:configuration xmlns:c="urn:c"><c:appSettings><c:add key="a&amp;b" value='old'/></c:appSettings></c:configuration>)",
      {{"A&B", "it's"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 1U);
  EXPECT_EQ(
      out.text,
      R"(<c:configuration xmlns:c="urn:c"><c:appSettings><c:add key="a&amp;b" value='it&apos;s'/></c:appSettings></c:configuration>)");
}

TEST(xml_config_settings, parse_errors_have_line_and_column) {
  const auto out = settings("<configuration>\n  <appSettings>\n</configuration>", {{"a", "b"}});
  EXPECT_FALSE(out.parsed);
  EXPECT_EQ(out.error, "line 3, column 3: the end tag does not match the start tag");
  EXPECT_TRUE(out.text.empty());
}

// --- structured XML ----------------------------------------------------------------------------------------

constexpr std::string_view structured_doc = R"xml(<?xml version="1.0"?>
<!DOCTYPE config [
  <!ENTITY company "Acme">
]>
<config   version = '1' >
  <name>&company; web</name>
  <empty/>
  <script><![CDATA[ if (a < b) run(); ]]></script>
  <!-- a comment -->
  <?app-setting old?>
  <servers>
    <server host="a"/>
    <server host="b"/>
  </servers>
</config>
)xml";

TEST(xml_structured, a_declaration_that_ends_before_its_question_mark_is_malformed) {
  // pugixml ends this declaration at "/>"; written back it would swallow the nodes up to the "?>".
  const auto out = xml("<?xml version=\"1.0\"/>\n<!-- c -->\n<r>\n ?>\n</r>\n", {{"//comment()", "x"}});
  EXPECT_FALSE(out.parsed);
  EXPECT_EQ(out.error,
            "line 1, column 1: a processing instruction or XML declaration that does not end with '?>'");
  EXPECT_TRUE(out.text.empty());
  EXPECT_TRUE(xml("<?xml version=\"1.0\"?><r><?pi data?></r>", {}).parsed) << "well-formed ones still parse";
}

TEST(xml_structured, attributes_text_cdata_comments_and_pis) {
  const auto out = xml(structured_doc, {{"/config/@version", "2 & \"3\""},
                                        {"/config/name", "<Contoso>"},
                                        {"/config/empty", "now set"},
                                        {"/config/script", "x ]]> y"},
                                        {"//comment()", " changed "},
                                        {"/config/processing-instruction('app-setting')", "new"},
                                        {"/config/servers/server[2]/@host", "c"},
                                        {"NotAnXPath", "ignored"}});
  ASSERT_TRUE(out.parsed) << out.error;
  EXPECT_EQ(out.replaced, 7U);
  EXPECT_TRUE(out.warnings.empty());
  EXPECT_EQ(out.text, R"xml(<?xml version="1.0"?>
<!DOCTYPE config [
  <!ENTITY company "Acme">
]>
<config   version = '2 &amp; &quot;3&quot;' >
  <name>&lt;Contoso&gt;</name>
  <empty>now set</empty>
  <script><![CDATA[x ]]]]><![CDATA[> y]]></script>
  <!-- changed -->
  <?app-setting new?>
  <servers>
    <server host="a"/>
    <server host="c"/>
  </servers>
</config>
)xml");
  pugi::xml_document back;
  ASSERT_TRUE(back.load_string(out.text.c_str(), pugi::parse_default | pugi::parse_doctype));
  EXPECT_STREQ(back.child("config").attribute("version").value(), "2 & \"3\"");
  EXPECT_EQ(all_text(back.child("config").child("script")), "x ]]> y");
}

TEST(xml_structured, element_with_children_takes_inner_xml) {
  const auto out = xml(structured_doc, {{"/config/servers", "\n    <server host=\"z\" />\n  "}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 1U);
  EXPECT_NE(out.text.find("  <servers>\n    <server host=\"z\" />\n  </servers>\n"), std::string::npos)
      << out.text;

  const auto bad = xml(structured_doc, {{"/config/servers", "<server>secret-value"}});
  EXPECT_EQ(bad.replaced, 0U);
  EXPECT_EQ(bad.text, structured_doc);
  ASSERT_EQ(bad.warnings.size(), 1U);
  EXPECT_EQ(bad.warnings[0],
            "Unable to set value for /config/servers: the value is not a well-formed XML fragment (line 1, "
            "column 21: "
            "unexpected end of the document: an element is not closed)");
  EXPECT_EQ(bad.warnings[0].find("secret"), std::string::npos);
}

TEST(xml_structured, text_nodes_null_values_and_untouched_bytes) {
  const auto out = xml("<a>\r\n  <b>one</b>\r\n  <c x='1'>two</c>\r\n</a>\r\n",
                       {{"/a/b/text()", "uno"}, {"/a/c", std::nullopt}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 2U);
  EXPECT_EQ(out.text, "<a>\r\n  <b>uno</b>\r\n  <c x='1'></c>\r\n</a>\r\n");
}

TEST(xml_structured, invalid_xpath_names_are_skipped_silently) {
  const auto out = xml("<a><b/></a>", {{"Octopus.Action[Deploy: web].Output", "x"},
                                       {"count(/a/b)", "1"},
                                       {"/a/[", "y"},
                                       {"Logging:LogLevel", "z"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 0U);
  EXPECT_TRUE(out.warnings.empty());
  EXPECT_EQ(out.text, "<a><b/></a>");
}

TEST(xml_structured, namespace_prefixes_are_inferred_from_the_document) {
  constexpr std::string_view doc =
      R"(<root xmlns="urn:app" xmlns:app="urn:app" xmlns:x="urn:x"><item>1</item><x:item>2</x:item></root>)";
  const auto out = xml(doc, {{"/app:root/app:item", "one"}, {"/app:root/x:item", "two"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 2U);
  EXPECT_EQ(
      out.text,
      R"(<root xmlns="urn:app" xmlns:app="urn:app" xmlns:x="urn:x"><item>one</item><x:item>two</x:item></root>)");

  // Only a default namespace: the unprefixed path works (Calamari needs local-name() here).
  const auto plain = xml(R"(<root xmlns="urn:app"><item>1</item></root>)", {{"/root/item", "2"}});
  EXPECT_EQ(plain.text, R"(<root xmlns="urn:app"><item>2</item></root>)");
  const auto local =
      xml(R"(<root xmlns="urn:app"><item>1</item></root>)", {{"/*[local-name()='root']/*", "3"}});
  EXPECT_EQ(local.text, R"(<root xmlns="urn:app"><item>3</item></root>)");
}

TEST(xml_structured, a_prefix_bound_twice_warns_and_the_first_binding_wins) {
  const auto out = xml(R"(<r><a xmlns:p="urn:one"><p:v>1</p:v></a><b xmlns:p="urn:two"><p:v>2</p:v></b></r>)",
                       {{"//p:v", "x"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 1U);
  EXPECT_EQ(out.text, R"(<r><a xmlns:p="urn:one"><p:v>x</p:v></a><b xmlns:p="urn:two"><p:v>2</p:v></b></r>)");
  ASSERT_EQ(out.warnings.size(), 1U);
  EXPECT_EQ(
      out.warnings[0],
      "The namespace prefix 'p' is declared for more than one namespace; XPath expressions use its first "
      "declaration ('urn:one')");
}

TEST(xml_structured, nested_selections_and_sequential_variables) {
  // "//*" selects the root and everything inside it: the root's new inner XML wins.
  const auto out = xml("<a><b><c/></b></a>", {{"//*", "<n/>"}, {"/a/n", "t"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.text, "<a><n>t</n></a>");
}

TEST(xml_structured, comments_and_pis_refuse_values_they_cannot_hold) {
  const auto out =
      xml("<a><!--c--><?p d?></a>", {{"//comment()", "x--y"}, {"//processing-instruction()", "a?>b"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 0U);
  EXPECT_EQ(out.text, "<a><!--c--><?p d?></a>");
  ASSERT_EQ(out.warnings.size(), 2U);
  EXPECT_EQ(out.warnings[0],
            "Unable to set value for //comment(): a comment cannot contain \"--\" or end with \"-\"");
  EXPECT_EQ(
      out.warnings[1],
      "Unable to set value for //processing-instruction(): a processing instruction cannot contain \"?>\"");
}

TEST(xml_structured, prefixed_attributes_use_inferred_prefixes_too) {
  const auto out =
      xml(R"(<r xmlns:a="urn:a" xmlns:b="urn:a"><a:x b:y="1" y="2"/></r>)", {{"/r/a:x/@a:y", "3"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.replaced, 1U);
  EXPECT_EQ(out.text, R"(<r xmlns:a="urn:a" xmlns:b="urn:a"><a:x b:y="3" y="2"/></r>)");
}

TEST(xml_structured, multi_line_start_tags_keep_their_layout) {
  const auto out = xml("<r>\n  <e\n    a=\"1\"\n    b=\"2\" />\n</r>", {{"/r/e/@b", "3"}, {"/r/e", "t"}});
  ASSERT_TRUE(out.parsed);
  EXPECT_EQ(out.text, "<r>\n  <e\n    a=\"1\"\n    b=\"3\">t</e>\n</r>");
}

TEST(xml_structured, parse_errors) {
  EXPECT_EQ(xml("<a>\n<b></a>", {}).error, "line 2, column 6: the end tag does not match the start tag");
  EXPECT_EQ(xml("<a b='<'/>", {}).error, "line 1, column 1: '<' in the value of attribute 'b'");
  EXPECT_EQ(xml("<a>AT&T</a>", {}).error, "line 1, column 6: malformed entity or character reference");
  EXPECT_EQ(xml("text<a/>", {}).error, "line 1, column 1: text outside the root element");
  EXPECT_EQ(xml(std::string_view("<a>\0</a>", 8), {}).error, "line 1, column 4: NUL character");
  EXPECT_EQ(xml("<a/><?xml version=\"1.0\"?>", {}).error,
            "line 1, column 5: the XML declaration is only allowed at the very start of a document");
}

TEST(xml_structured, markup_is_kept_byte_for_byte) {
  // Every kind of markup, odd spacing and quoting; one attribute changes, nothing else does.
  constexpr std::string_view doc =
      "\xEF\xBB\xBF<?xml version='1.0'  encoding=\"utf-8\" ?>\n<!DOCTYPE  r>\n<!--c-->\n"
      "<r  a = \"1\"\n   b='2' >\n  <e/><e  /><f></f><g\n></g  >&amp;&#65;&ent;<![CDATA[]]><?pi   x ?>\n"
      "  <h id=\"t\"/>\n</r >\n\n<!-- end -->\n";
  const auto out = xml(doc, {{"//h/@id", "u"}});
  ASSERT_TRUE(out.parsed) << out.error;
  std::string expected(doc);
  expected.replace(expected.find("id=\"t\""), 6, "id=\"u\"");
  EXPECT_EQ(out.text, expected);
}

// --- properties --------------------------------------------------------------------------------------------

rc::Gen<std::string> any_text() { return rc::gen::container<std::string>(rc::gen::inRange<char>(1, 127)); }

/// Text that XML 1.0 can carry in an attribute (no control characters other than tab, CR, LF).
rc::Gen<std::string> xml_text() {
  return rc::gen::map(
      rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(std::vector<std::string>{
          "a", " ", "<", ">", "&", "\"", "'", "\t", "\n", "]]>", "--", "\xC3\xA9", "&amp;", "x;"})),
      [](const std::vector<std::string>& parts) {
        std::string s;
        for (const auto& p : parts) s += p;
        return s;
      });
}

/// Documents with assorted markup and layout.
rc::Gen<std::string> document_gen() {
  static const std::vector<std::string> pieces = {
      "<a/>",    "<b x='1'/>", "<c  y = \"2\" />",   "text",    " ",     "\n  ",
      "\r\n",    "<!-- c -->", "<![CDATA[<x>]]>",    "<?p d?>", "&amp;", "&#x41;",
      "<d></d>", "<e\n/>",     "<f g=\"&lt;\"></f >"};
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(pieces)),
                      [](const std::vector<std::string>& parts) {
                        std::string s = "<?xml version=\"1.0\"?>\n<root id=\"0\">";
                        for (const auto& p : parts) s += p;
                        return s + "</root>\n";
                      });
}

RC_GTEST_PROP(xml_props, attribute_values_round_trip, ()) {
  const std::string value = *xml_text();
  const auto out = replace_xml("<r><e a=\"1\" b='2'/></r>",
                               std::vector<structured_variable>{{"/r/e/@a", value}, {"/r/e/@b", value}});
  RC_ASSERT(out.parsed);
  RC_ASSERT(out.replaced == 2U);
  pugi::xml_document back;
  RC_ASSERT(static_cast<bool>(back.load_string(out.text.c_str())));
  RC_ASSERT(std::string(back.child("r").child("e").attribute("a").value()) == value);
  RC_ASSERT(std::string(back.child("r").child("e").attribute("b").value()) == value);
}

RC_GTEST_PROP(xml_props, element_text_and_cdata_round_trip, ()) {
  std::string value = *xml_text();
  std::erase(value, '\r');  // parsers turn CR LF into LF in text
  const auto out = replace_xml("<r><t>old</t><c><![CDATA[old]]></c></r>",
                               std::vector<structured_variable>{{"/r/t", value}, {"/r/c", value}});
  RC_ASSERT(out.parsed);
  pugi::xml_document back;
  RC_ASSERT(
      static_cast<bool>(back.load_string(out.text.c_str(), pugi::parse_default | pugi::parse_ws_pcdata)));
  RC_ASSERT(all_text(back.child("r").child("t")) == value);
  RC_ASSERT(all_text(back.child("r").child("c")) == value);
}

RC_GTEST_PROP(xml_props, config_values_round_trip, ()) {
  const std::string value = *xml_text();
  const auto out = replace_config_settings(
      "<configuration><appSettings><add key=\"k\" value=\"v\"/></appSettings></configuration>",
      std::vector<structured_variable>{{"K", value}});
  RC_ASSERT(out.replaced == 1U);
  pugi::xml_document back;
  RC_ASSERT(static_cast<bool>(back.load_string(out.text.c_str())));
  RC_ASSERT(std::string(back.first_child().first_child().first_child().attribute("value").value()) == value);
}

RC_GTEST_PROP(xml_props, no_variables_means_the_same_text, ()) {
  const std::string doc = *document_gen();
  const auto out = replace_xml(doc, std::vector<structured_variable>{});
  RC_ASSERT(out.parsed);
  RC_ASSERT(out.text == doc);
}

RC_GTEST_PROP(xml_props, one_edit_changes_only_that_value, ()) {
  const std::string doc = *document_gen();
  const std::string value = *rc::gen::container<std::string>(rc::gen::elementOf(std::string("abc123 _-")));
  const auto out = replace_xml(doc, std::vector<structured_variable>{{"/root/@id", value}});
  RC_ASSERT(out.parsed);
  std::string expected = doc;
  expected.replace(expected.find("id=\"0\""), 6, "id=\"" + value + "\"");
  RC_ASSERT(out.text == expected);
}

RC_GTEST_PROP(xml_props, xdt_edits_change_only_what_they_touch, ()) {
  const std::string doc = *document_gen();
  const std::string value = *rc::gen::container<std::string>(rc::gen::elementOf(std::string("abc123 _-")));
  const auto out =
      apply_xdt(doc, "<root xmlns:xdt=\"http://schemas.microsoft.com/XML-Document-Transform\" id=\"" + value +
                         "\" xdt:Transform=\"SetAttributes(id)\"/>");
  RC_ASSERT(out.ok);
  std::string expected = doc;
  expected.replace(expected.find("id=\"0\""), 6, "id=\"" + value + "\"");
  RC_ASSERT(out.text == expected);
}

RC_GTEST_PROP(xml_props, arbitrary_input_never_crashes, ()) {
  const std::string text = *any_text();
  const std::string name = *any_text();
  const auto out = replace_xml(text, std::vector<structured_variable>{{"/" + name, "v"}});
  if (out.parsed && out.replaced > 0)
    RC_ASSERT(replace_xml(out.text, std::vector<structured_variable>{}).parsed);
  const auto t = apply_xdt(text, text);
  if (t.ok) RC_ASSERT(replace_xml(t.text, std::vector<structured_variable>{}).parsed);
}

}  // namespace
