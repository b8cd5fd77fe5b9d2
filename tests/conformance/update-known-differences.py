#!/usr/bin/env python3
"""Merges failing conformance vectors into tests/conformance/known-differences.txt.

Input is either the dump written by the conformance test or the text output of gtest/ctest:

    rm -f /tmp/failing.txt
    CUTTLE_CONFORMANCE_DUMP=/tmp/failing.txt BUILD/tests/engine_tests --gtest_filter='octostache/*'
    tests/conformance/update-known-differences.py --dump /tmp/failing.txt --prune

    BUILD/tests/engine_tests --gtest_filter='octostache/*' > /tmp/gtest.log
    tests/conformance/update-known-differences.py --gtest-log /tmp/gtest.log

New ids get a reason derived from the vector: "needs filter X" when its template or variables use a
built-in filter other than ToUpper/ToLower/Trim/null, otherwise "TODO: investigate". Existing lines keep
their reasons. --prune (with --dump, after a full conformance run) drops listed ids that no longer fail.
"""

import argparse
import json
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
CASES = HERE / "octostache-cases.json"
KNOWN = HERE / "known-differences.txt"

# Octostache's built-in filter names (spec section 9.10), lower case.
BUILTIN_FILTERS = """tolower toupper tobase64 frombase64 htmlescape uriescape uridataescape xmlescape jsonescape
yamlsinglequoteescape yamldoublequoteescape propertieskeyescape propertiesvalueescape markdown markdowntohtml
nowdate nowdateutc addhours adddays format match replace startswith endswith contains substring truncate trim
indent uripart versionmajor versionminor versionpatch versionprerelease versionprereleaseprefix
versionprereleasecounter versionrevision versionmetadata append prepend md5 sha1 sha256 sha384 sha512 null""".split()
IMPLEMENTED = {"toupper", "tolower", "trim", "null"}

FILTER_RE = re.compile(r"\|\s*([A-Za-z][A-Za-z0-9_]*)")


def sanitise(vector_id):
    return re.sub(r"[^A-Za-z0-9_]", "_", vector_id)


def filters_used(vector):
    texts = [vector.get("template") or ""]
    texts += [v for v in (vector.get("variables") or {}).values() if isinstance(v, str)]
    found = []
    for text in texts:
        start = text.find("#{")
        if start < 0:
            continue
        for name in FILTER_RE.findall(text[start:]):
            if name.lower() in BUILTIN_FILTERS and name.lower() not in IMPLEMENTED and name not in found:
                found.append(name)
    return found


def reason_for(vector):
    needed = filters_used(vector)
    if len(needed) == 1:
        return f"needs filter {needed[0]}"
    if needed:
        return "needs filters " + ", ".join(needed)
    return "TODO: investigate"


def read_known():
    """(header comment lines, {id: reason}) of the current list."""
    header, entries = [], {}
    if KNOWN.exists():
        for line in KNOWN.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith("#"):
                if not entries:
                    header.append(line)
                continue
            vector_id, _, reason = stripped.partition("|")
            entries[vector_id.strip()] = reason.strip()
    return header, entries


def failing_from_dump(path, ids):
    failing = set()
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            if line not in ids:
                sys.exit(f"{path}: unknown vector id '{line}'")
            failing.add(line)
    return failing


def failing_from_log(path, by_name):
    """Failing ids from the output of engine_tests (or `ctest -V`), or the ***Failed lines of plain ctest."""
    failing = set()
    run_re = re.compile(r"\[ RUN      \] \S*conformance_test\.vector/([A-Za-z0-9_]+)")
    end_re = re.compile(r"\[\s*(OK|FAILED|SKIPPED)\s*\] \S*conformance_test\.vector/([A-Za-z0-9_]+)")
    ctest_re = re.compile(r"conformance_test\.vector/([A-Za-z0-9_]+)\s+\.*\*+\s*Failed")
    current, listed_but_passing = None, False
    for line in pathlib.Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        line = re.sub(r"^\d+: ", "", line)  # ctest -V prefixes lines with the test number
        if match := run_re.search(line):
            current, listed_but_passing = match.group(1), False
        elif current and ("vector now passes" in line or "vector is skipped" in line):
            listed_but_passing = True
        elif current and "[ KNOWN    ]" in line:
            failing.add(by_name[current])
        elif match := end_re.search(line):
            if match.group(1) == "FAILED" and not listed_but_passing and match.group(2) in by_name:
                failing.add(by_name[match.group(2)])
            current = None
        elif match := ctest_re.search(line):
            if match.group(1) in by_name:
                failing.add(by_name[match.group(1)])
    return failing


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dump", help="file written through CUTTLE_CONFORMANCE_DUMP (one failing id per line)")
    source.add_argument("--gtest-log", help="saved output of engine_tests or ctest")
    parser.add_argument("--prune", action="store_true",
                        help="drop listed ids that did not fail (with --dump from a full conformance run)")
    parser.add_argument("--dry-run", action="store_true", help="print the new list instead of writing it")
    args = parser.parse_args()
    if args.prune and not args.dump:
        parser.error("--prune needs --dump: a log does not show which listed vectors still fail")

    vectors = json.loads(CASES.read_text(encoding="utf-8"))
    order = {v["id"]: i for i, v in enumerate(vectors)}
    by_id = {v["id"]: v for v in vectors}
    by_name = {sanitise(v["id"]): v["id"] for v in vectors}

    failing = failing_from_dump(args.dump, order) if args.dump else failing_from_log(args.gtest_log, by_name)
    header, entries = read_known()
    unknown = [i for i in entries if i not in order]
    if unknown:
        sys.exit("known-differences.txt names unknown ids: " + ", ".join(unknown))

    added = [i for i in failing if i not in entries]
    removed = [i for i in entries if i not in failing] if args.prune else []
    for vector_id in added:
        entries[vector_id] = reason_for(by_id[vector_id])
    for vector_id in removed:
        del entries[vector_id]

    if not header:
        header = ["# Conformance vectors that cuttle does not pass yet: <id> | <one-line reason>."]
    lines = header + [f"{i} | {entries[i]}" for i in sorted(entries, key=order.get)]
    text = "\n".join(lines) + "\n"
    if args.dry_run:
        sys.stdout.write(text)
    else:
        KNOWN.write_text(text, encoding="utf-8")
    print(f"{len(added)} added, {len(removed)} removed, {len(entries)} listed", file=sys.stderr)


if __name__ == "__main__":
    main()
