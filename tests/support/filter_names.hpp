// The 46 Octostache filter names (spec §9.10), spelled as the documentation's headings spell them. Kept
// apart from the engine's table on purpose: the docs test checks the engine and the docs against it, and
// the filter fuzzer draws names from it.
#pragma once

#include <array>
#include <string_view>

namespace cuttle::test {

inline constexpr std::array<std::string_view, 46> octostache_filter_names{
    "ToLower",
    "ToUpper",
    "ToBase64",
    "FromBase64",
    "HtmlEscape",
    "UriEscape",
    "UriDataEscape",
    "XmlEscape",
    "JsonEscape",
    "YamlSingleQuoteEscape",
    "YamlDoubleQuoteEscape",
    "PropertiesKeyEscape",
    "PropertiesValueEscape",
    "Markdown",
    "MarkdownToHtml",
    "NowDate",
    "NowDateUtc",
    "AddHours",
    "AddDays",
    "Format",
    "Match",
    "Replace",
    "StartsWith",
    "EndsWith",
    "Contains",
    "Substring",
    "Truncate",
    "Trim",
    "Indent",
    "UriPart",
    "VersionMajor",
    "VersionMinor",
    "VersionPatch",
    "VersionPreRelease",
    "VersionPreReleasePrefix",
    "VersionPreReleaseCounter",
    "VersionRevision",
    "VersionMetadata",
    "Append",
    "Prepend",
    "Md5",
    "Sha1",
    "Sha256",
    "Sha384",
    "Sha512",
    "null",
};

}  // namespace cuttle::test
