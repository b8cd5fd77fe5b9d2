#!/usr/bin/env python3
# Writes the seed corpus of filter_fuzzer (fuzz/corpus/filter/): one file per case below, encoded in the
# order filter_fuzzer.cpp makes its FuzzedDataProvider calls. Run it after changing either file.
import pathlib
import sys

# filter_fuzzer.cpp's filter_names, in its order.
NAMES = [
    "ToLower", "ToUpper", "ToBase64", "FromBase64", "HtmlEscape", "UriEscape", "UriDataEscape", "XmlEscape",
    "JsonEscape", "YamlSingleQuoteEscape", "YamlDoubleQuoteEscape", "PropertiesKeyEscape",
    "PropertiesValueEscape", "Markdown", "MarkdownToHtml", "NowDate", "NowDateUtc", "AddHours", "AddDays",
    "Format", "Match", "Replace", "StartsWith", "EndsWith", "Contains", "Substring", "Truncate", "Trim",
    "Indent", "UriPart", "VersionMajor", "VersionMinor", "VersionPatch", "VersionPreRelease",
    "VersionPreReleasePrefix", "VersionPreReleaseCounter", "VersionRevision", "VersionMetadata", "Append",
    "Prepend", "Md5", "Sha1", "Sha256", "Sha384", "Sha512", "null",
]
NESTED, QUOTED, BARE = 0, 2, 3
PLAIN, LATER_LINE, CONDITION, LOOP = 0, 1, 2, 3
TEXT, NULL, MISSING, NO_INPUT = 0, 1, 2, 3


class Encoder:
    """FuzzedDataProvider in reverse: strings come from the front, integers from the back."""

    def __init__(self):
        self.front = bytearray()
        self.back = bytearray()  # in the order the provider consumes it (it reads the data from the end)

    def integral(self, lo, hi, value):
        assert lo <= value <= hi
        span, offset, count = hi - lo, 0, 0
        while offset < 32 and (span >> offset) > 0:
            offset += 8
            count += 1
        self.back += (value - lo).to_bytes(count, "big")  # the first byte read is the most significant

    def boolean(self, value):
        self.integral(0, 255, 1 if value else 0)

    def string(self, text, max_length):
        data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
        assert len(data) < max_length, text
        self.front += data.replace(b"\\", b"\\\\") + b"\\n"  # backslash + other byte ends the string

    def value(self, text, max_length):
        self.boolean(True)  # an arbitrary string, not an entry of `interesting`
        self.string(text, max_length)

    def data(self):
        return bytes(self.front) + bytes(reversed(self.back))


def encode(filters, input_text=None, input_mode=TEXT, shape=PLAIN, offset_minutes=600, halt=True,
           fallback=False):
    """filters: [(name, [(option, form), ...]), ...]; a name not in NAMES is written as an arbitrary name."""
    e = Encoder()
    e.integral(-18 * 60, 18 * 60, offset_minutes)
    e.boolean(halt)
    e.boolean(fallback)
    e.integral(0, 3, input_mode)
    if input_mode == TEXT:
        e.value(input_text, 256)
    e.integral(1, 2, len(filters))
    for name, options in filters:
        if name in NAMES:
            e.integral(0, 15, 2)
            e.integral(0, len(NAMES) - 1, NAMES.index(name))
        else:
            e.integral(0, 15, 0)
            e.string(name, 24)
        e.integral(0, 3, len(options))
        for option, form in options:
            e.value(option, 64)
            e.integral(0, 3, form)
    e.integral(0, 3, shape)
    return e.data()


def o(*options, form=NESTED):
    return [(option, form) for option in options]


CASES = {
    "case_trim_chain": encode([("Trim", o("start", form=BARE)), ("ToUpper", [])], "  web01  "),
    "case_toupper_option": encode([("ToUpper", o("x", form=QUOTED))], "abc"),
    "null_outermost": encode([("null", [])], "abc"),
    "null_in_chain_missing_input": encode([("null", []), ("Append", o("!"))], input_mode=MISSING),
    "base64_roundtrip_unicode": encode([("ToBase64", o("unicode")), ("FromBase64", o("unicode"))], "Foo Bar"),
    "base64_invalid": encode([("FromBase64", [])], "not base64!", shape=LATER_LINE),
    "base64_bad_encoding": encode([("FromBase64", o("ascii"))], "QmF6"),
    "escape_html_json": encode([("HtmlEscape", []), ("JsonEscape", [])], "<b>Tom & \"Jerry's\"</b>\n\t\\"),
    "escape_yaml": encode([("YamlSingleQuoteEscape", []), ("YamlDoubleQuoteEscape", [])], "it's\r\n\n\x01 \u2615"),
    "escape_properties": encode([("PropertiesKeyEscape", [])], " a=b: \u00ff\U0001F600\udcff"),
    "escape_uri": encode([("UriEscape", []), ("UriDataEscape", [])], "https://x.com/a b?q=1&r=\u00fc#top%"),
    "hash_size_encoding": encode([("Md5", o("4", "unicode"))], "The quick brown fox"),
    "hash_base64_invalid": encode([("Sha256", o("base64", "0"))], "QmF"),
    "hash_too_many_options": encode([("Sha512", o("8", "utf8", "2"))], "abc"),
    "regex_replace_groups": encode([("Replace", o("(?<last>\\w+), (?<first>\\w+)", "${first} $2 $$ $_ $+"))],
                                   "Smith, John"),
    "regex_invalid": encode([("Replace", o("(a", "x", form=QUOTED))], "aaa"),
    "regex_catastrophic": encode([("Match", o("^(a+)+$"))], "a" * 40 + "!"),
    "regex_empty_match": encode([("Replace", o("x*", "-"))], "abc\U0001F600"),
    "text_substring_truncate": encode([("Substring", o("2", "3", form=BARE)), ("Truncate", o("1", "\u2026"))],
                                      "\U0001F600Octopus"),
    "text_substring_huge": encode([("Substring", o("2147483648"))], "abc"),
    "text_indent": encode([("Indent", o("2/4"))], "a\r\nb\nc", shape=LOOP),
    "text_append_no_input": encode([("Prepend", o("http://", form=QUOTED)), ("Append", o(":8080"))],
                                   input_mode=NO_INPUT),
    "text_contains_condition": encode([("Contains", o("L", form=BARE))], "HELLO", shape=CONDITION),
    "uri_parts": encode([("UriPart", o("HostAndPort"))], "https://user:pw@Octopus.com:8443/a/../docs?x=1#top"),
    "uri_ipv6_unc": encode([("UriPart", o("Path")), ("UriPart", o("IsUnc"))], "\\\\server\\share\\f"),
    # Found by the fuzzer: emphasis extras inside a table cell lost their text and leaked.
    "markdown_extras_in_table_cell": encode([("Markdown", []), ("Trim", [])], "|H~2~O|\n|-|\n|~~a ==b== c~~|"),
    "markdown_table": encode([("Markdown", []), ("Trim", [])], "|a|b|\n|-|-:|\n|c|d|\n\n~~x~~ ==y== H~2~O"),
    "date_nowdate_format": encode([("NowDate", o("dddd, MMMM d, yyyy h:mm:ss tt zzz"))], input_mode=NO_INPUT,
                                  offset_minutes=-330),
    "date_addhours_offset": encode([("AddHours", o("-1.5")), ("Format", o("yyyy-MM-dd HH:mm K"))],
                                   "2030-05-22T09:05:00+02:00"),
    "date_adddays_overflow": encode([("AddDays", o("1e308"))], "9999-12-31"),
    "date_format_types": encode([("Format", o("DateTimeOffset", "O")), ("Format", o("Date", "F"))],
                                "Wed, 22 May 2030 09:05:00 GMT"),
    "number_format_custom": encode([("Format", o("#,##0.00;(#,##0.00);zero"))], "-1234567.891"),
    "number_format_huge_precision": encode([("Format", o("double", "F200000"))], "1.5"),
    "number_format_hex": encode([("Format", o("int", "X8", form=BARE))], "-255", fallback=True),
    "version_parts": encode([("VersionPreReleaseCounter", []), ("VersionMajor", [])], "v1.2.3.4-branch.1+meta"),
    "version_invalid": encode([("VersionMetadata", [])], "99999999999.1", halt=False),
    "unknown_filter_name": encode([("Bazooka", o("6"))], "x"),
    "lower_case_name_null_input": encode([("tolower", [])], input_mode=NULL),
}


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent / "corpus" / "filter")
    out.mkdir(parents=True, exist_ok=True)
    for name, data in CASES.items():
        (out / name).write_bytes(data)
    print(f"wrote {len(CASES)} inputs to {out}")


if __name__ == "__main__":
    main()
