#!/usr/bin/env python3
"""Renders a translated workload with Jinja2 (peers/run.sh).

Usage: jinja2_driver.py render TEMPLATE CONTEXT_JSON           # the output on stdout (a whole-process run)
       jinja2_driver.py bench TEMPLATE CONTEXT_JSON [--context-in-loop] [--min-time S]
           # in-process: compile and render repeatedly (at least 3 times, until S seconds, default 3, have
           # passed; at most 50) and print {"median": seconds, "iterations": n, "output_bytes": n} as JSON.
           # --context-in-loop also parses the context's JSON text in every iteration (bigvars: loading
           # the variables file is the work).

Octostache's truthiness and the filters Jinja2 lacks are registered as filters (see translate.py).
"""
import gc
import json
import re
import statistics
import sys
import time

import jinja2


def truthy(value):
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value)
    return not (text == "" or text == "0" or text.strip().lower() in ("no", "false"))


def html_escape(value):
    return (str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;").replace("/", "&#x2F;"))


def json_escape(value):
    return (str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r")
            .replace("\n", "\\n").replace("\t", "\\t"))


VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(?:-([^+]*))?(?:\+(.*))?\Z")


def version_part(index):
    def part(value):
        m = VERSION.match(str(value).strip())
        return (m.group(index) or "") if m else ""
    return part


def environment():
    env = jinja2.Environment(keep_trailing_newline=True, autoescape=False, undefined=jinja2.StrictUndefined,
                             cache_size=0)
    env.filters.update({
        "truthy": truthy, "htmlescape": html_escape, "jsonescape": json_escape,
        "versionmajor": version_part(1), "versionminor": version_part(2),
        "versionprerelease": version_part(5),
    })
    return env


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("render", "bench"):
        sys.exit(__doc__)
    mode, template_path, context_path = sys.argv[1:4]
    with open(template_path, encoding="utf-8", newline="") as f:
        text = f.read()
    with open(context_path, encoding="utf-8") as f:
        context_text = f.read()
    env = environment()
    if mode == "render":
        out = env.from_string(text).render(json.loads(context_text))
        sys.stdout.buffer.write(out.encode("utf-8"))
        return
    context_in_loop = "--context-in-loop" in sys.argv
    min_time = float(sys.argv[sys.argv.index("--min-time") + 1]) if "--min-time" in sys.argv else 3.0
    context = json.loads(context_text)
    times, out, start = [], "", time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < min_time and len(times) < 50):
        out = ""
        gc.collect()  # outside the timed part, as the Node driver does
        t0 = time.perf_counter()
        ctx = json.loads(context_text) if context_in_loop else context
        out = env.from_string(text).render(ctx)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"median": statistics.median(times), "iterations": len(times),
                      "output_bytes": len(out.encode("utf-8"))}))


if __name__ == "__main__":
    main()
