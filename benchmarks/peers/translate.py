#!/usr/bin/env python3
"""Translates the make-workloads.py workloads from Octostache syntax into each peer engine's syntax.

Usage: translate.py DATA_DIR OUT_DIR --cuttle CUTTLE_BINARY

DATA_DIR is make-workloads.py's output. For every workload (flat, rich, passthrough, bigvars) and engine
(jinja2, handlebars, mustache, envsubst) it writes under OUT_DIR/WORKLOAD/:
  ENGINE.tmpl       the template in the engine's syntax
  context.json      the data for jinja2, handlebars and mustache (nested objects; see below)
  envsubst.env      `export NAME=value` lines for envsubst
and OUT_DIR/manifest.json: {workload: {"input": path, "bytes": n, "engines": {engine: "ok" | reason}}}.

Only the subset of the Octostache language the workloads use is translated: substitutions with filters,
#{if}/#{unless}/#{else} (truthiness or `==` a literal), #{each} over a comma-separated value, a JSON array
or indexed variables (`Endpoints[api].Url`), `Octopus.Template.Each.*`, `##{` escapes, and indexers whose
index is itself a substitution (`Octopus.Action[#{Step}].Output.Host`). Anything else raises, so a changed
workload cannot be compared silently with a different one.

Normalisations (documented in docs/performance.md), which all make the peers' work smaller, not larger:
  * Variable names become nested objects (`Endpoints[api].Url` -> Endpoints.api.Url), and JSON values are
    parsed into objects once, here; cuttle parses names and JSON values on every run.
  * A value that refers to other variables (`Db.Server` = `db-#{Octopus.Environment.Name | ToLower}...`)
    is expanded here with `cuttle eval`: the peers have no recursive evaluation of values.
  * A reference to a variable that does not exist (`#{Does.Not.Exist}`), which Octostache echoes, becomes
    literal text.
  * Filters the peers lack (JsonEscape, HtmlEscape as Octostache escapes, VersionMajor, ...) and
    Octostache's truthiness ("False", "0", "no" are false) are small functions registered with the
    engine by its driver (peers/jinja2_driver.py, peers/node_driver.js).
"""
import json
import os
import re
import shlex
import subprocess
import sys

ENGINES = ("jinja2", "handlebars", "mustache", "envsubst")

UNSUPPORTED = {
    ("rich", "mustache"): "logic-less: no filters and no comparisons, and a string \"False\" is true; the "
                          "template's logic would have to move into precomputed data",
    ("rich", "envsubst"): "substitutes ${NAME} only: no filters, conditionals or loops",
    ("bigvars", "envsubst"): "reads its values from the environment, and 13 MB of values exceed what "
                             "one exec may carry (ARG_MAX)",
}


class Unsupported(Exception):
    pass


# --- Octostache subset: tokens and tree -------------------------------------------------------------------

def find_close(text, start):
    """Index of the '}' closing the `#{` whose content starts at `start` (nested `#{...}` allowed)."""
    depth, i = 0, start
    while i < len(text):
        if text.startswith("#{", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise ValueError(f"unterminated #{{ at {start}")


def parse_template(text):
    """A list of nodes: ('text', s) | ('sub', content) | ('if', cond, neg, body, else) | ('each', v, path, body)."""
    pos = 0
    root = []
    stack = [(root, None)]  # (list being filled, open block)

    def emit_text(s):
        if not s:
            return
        cur = stack[-1][0]
        if cur and isinstance(cur[-1], tuple) and cur[-1][0] == "text":
            cur[-1] = ("text", cur[-1][1] + s)
        else:
            cur.append(("text", s))

    while pos < len(text):
        j = text.find("#{", pos)
        if j < 0:
            emit_text(text[pos:])
            break
        if j > pos and text[j - 1] == "#":  # `##{` is a literal `#{`
            emit_text(text[pos:j - 1] + "#{")
            pos = j + 2
            continue
        emit_text(text[pos:j])
        end = find_close(text, j + 2)
        content = text[j + 2:end].strip()
        pos = end + 1
        word = content.split(None, 1)[0] if content else ""
        if word in ("if", "unless"):
            node = {"kind": "if", "cond": content.split(None, 1)[1], "neg": word == "unless",
                    "body": [], "else": None, "close": "/" + word}
            stack[-1][0].append(node)
            stack.append((node["body"], node))
        elif content == "else":
            lst, node = stack.pop()
            if node is None or node["kind"] != "if":
                raise ValueError("#{else} outside #{if}")
            node["else"] = []
            stack.append((node["else"], node))
        elif content in ("/if", "/unless"):
            lst, node = stack.pop()
            if node is None or node["close"] != content:
                raise ValueError(f"unbalanced {content}")
        elif word == "each":
            m = re.fullmatch(r"each\s+(\w+)\s+in\s+(.+)", content)
            if not m:
                raise ValueError(f"cannot read #{{{content}}}")
            node = {"kind": "each", "var": m.group(1), "path": m.group(2).strip(), "body": []}
            stack[-1][0].append(node)
            stack.append((node["body"], node))
        elif content == "/each":
            lst, node = stack.pop()
            if node is None or node["kind"] != "each":
                raise ValueError("unbalanced /each")
        elif word.startswith("/") or word in ("calc",):
            raise ValueError(f"not translated: #{{{content}}}")
        else:
            stack[-1][0].append(("sub", content))
    if len(stack) != 1:
        raise ValueError("unclosed block")
    return root


def parse_path(text):
    """`A.B[idx].C` -> [('name', 'A'), ('name', 'B'), ('index', 'idx' | parsed path), ('name', 'C')]."""
    segs, i, name = [], 0, ""
    while i < len(text):
        c = text[i]
        if c == ".":
            if name:
                segs.append(("name", name))
            name = ""
            i += 1
        elif c == "[":
            if name:
                segs.append(("name", name))
            name = ""
            depth, k = 1, i + 1
            while depth:
                if text[k] == "[":
                    depth += 1
                elif text[k] == "]":
                    depth -= 1
                k += 1
            inner = text[i + 1:k - 1]
            if inner.startswith("#{") and inner.endswith("}"):
                segs.append(("index", parse_path(inner[2:-1].strip())))
            else:
                segs.append(("index", inner))
            i = k
        else:
            name += c
            i += 1
    if name:
        segs.append(("name", name))
    return segs


def split_filters(content):
    parts = [p.strip() for p in re.split(r"\|(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", content)]
    filters = []
    for f in parts[1:]:
        words = shlex.split(f)
        filters.append((words[0], words[1:]))
    return parts[0], filters


# --- context ------------------------------------------------------------------------------------------

def nested_context(variables, expand):
    ctx = {}
    for name, value in variables.items():
        segs = [s[1] for s in parse_path(name)]
        if any(not isinstance(s, str) for s in segs):
            raise ValueError(f"dynamic index in a variable name: {name}")
        if isinstance(value, str) and "#{" in value:
            value = expand(name)
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        node = ctx
        for s in segs[:-1]:
            node = node.setdefault(s, {})
            if not isinstance(node, dict):
                raise ValueError(f"{name}: a prefix of it has a value")
        if segs[-1] in node and isinstance(node[segs[-1]], dict):
            raise ValueError(f"{name}: has a value and children")
        node[segs[-1]] = value
    return ctx


class Scope:
    """The loops around a node: [(var, kind)] with kind 'split' | 'list' | 'dict'."""

    def __init__(self, loops=()):
        self.loops = list(loops)

    def push(self, var, kind):
        return Scope(self.loops + [(var, kind)])

    def loop(self, var):
        for v, kind in reversed(self.loops):
            if v == var:
                return kind
        return None


def lookup(ctx, segs, scope):
    """The value of a root path in the context (dynamic indexes resolved), or None when it is missing."""
    node = ctx
    for kind, s in segs:
        if kind == "index" and not isinstance(s, str):
            s = lookup(ctx, s, scope)
            if not isinstance(s, str):
                return None
        if isinstance(node, dict) and s in node:
            node = node[s]
        elif isinstance(node, list) and isinstance(s, str) and s.isdigit() and int(s) < len(node):
            node = node[int(s)]
        else:
            return None
    return node


def classify(ctx, segs, scope):
    """('meta', field) | ('loop', var, kind, rest) | ('root', segs) | None (unresolved)."""
    first = segs[0][1] if segs and segs[0][0] == "name" else None
    names = [s[1] for s in segs if s[0] == "name"]
    if names[:3] == ["Octopus", "Template", "Each"] and len(segs) == 4 and scope.loops:
        return ("meta", segs[3][1])
    if first is not None and scope.loop(first):
        return ("loop", first, scope.loop(first), segs[1:])
    if lookup(ctx, segs, scope) is None:
        return None
    return ("root", segs)


# --- emitters -------------------------------------------------------------------------------------------

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

FILTERS = {"ToUpper": "upper", "ToLower": "lower", "Trim": "trim", "HtmlEscape": "htmlescape",
           "JsonEscape": "jsonescape", "Replace": "replace", "VersionMajor": "versionmajor",
           "VersionMinor": "versionminor", "VersionPreRelease": "versionprerelease"}


class Jinja2:
    name = "jinja2"

    def text(self, s):
        if re.search(r"\{[{%#]", s):
            return "{% raw %}" + s + "{% endraw %}"
        return s

    def path(self, segs, scope, base=None):
        out = base or ""
        for i, (kind, s) in enumerate(segs):
            if kind == "index" and not isinstance(s, str):
                out += "[" + self.ref(("root", s), scope) + "]"
            elif IDENT.match(s):
                out += ("." if out else "") + s
            else:
                out += "[" + json.dumps(s) + "]"
        return out

    def ref(self, r, scope):
        if r[0] == "meta":
            return {"Index": "loop.index0", "Last": "loop.last", "First": "loop.first"}[r[1]]
        if r[0] == "loop":
            _, var, kind, rest = r
            if kind == "dict" and not rest:
                return var + "_key"
            return self.path(rest, scope, base=var)
        return self.path(r[1], scope)

    def sub(self, r, filters, scope):
        expr = self.ref(r, scope)
        for f, args in filters:
            expr += "|" + FILTERS[f] + ("(" + ", ".join(json.dumps(a) for a in args) + ")" if args else "")
        return "{{ " + expr + " }}"

    def cond(self, test, neg):
        return "{% if " + ("not " if neg else "") + test + " %}"

    def truthy(self, expr):
        return expr + "|truthy"

    def eq(self, expr, literal):
        return expr + " == " + json.dumps(literal)

    def else_(self):
        return "{% else %}"

    def endif(self, neg):
        return "{% endif %}"

    def each(self, var, kind, expr):
        if kind == "split":
            return "{% for " + var + " in " + expr + ".split(\",\") %}"
        if kind == "dict":
            return "{% for " + var + "_key, " + var + " in " + expr + ".items() %}"
        return "{% for " + var + " in " + expr + " %}"

    def endeach(self):
        return "{% endfor %}"


class Handlebars:
    name = "handlebars"

    def text(self, s):
        if "{{" in s or "\\" in s:
            raise Unsupported("text with {{ or a backslash")
        return s

    def path(self, segs, scope, base):
        out = base
        for kind, s in segs:
            if kind == "index" and not isinstance(s, str):
                out = "(lookup " + out + " " + self.ref(("root", s), scope) + ")"
            elif out.startswith("("):
                out = "(lookup " + out + " " + json.dumps(s) + ")"
            elif IDENT.match(s):
                out += "." + s
            else:
                out += ".[" + s + "]"
        return out

    def ref(self, r, scope):
        if r[0] == "meta":
            return {"Index": "@index", "Last": "@last", "First": "@first"}[r[1]]
        if r[0] == "loop":
            _, var, kind, rest = r
            if kind == "dict" and not rest:
                return var + "_key"
            return self.path(rest, scope, var)
        return self.path(r[1], scope, "@root")

    @staticmethod
    def unwrap(expr):
        return expr[1:-1] if expr.startswith("(") else expr

    def sub(self, r, filters, scope):
        expr = self.ref(r, scope)
        for f, args in filters:
            expr = "(" + FILTERS[f] + " " + expr + "".join(" " + json.dumps(a) for a in args) + ")"
        return "{{{" + self.unwrap(expr) + "}}}"

    def cond(self, test, neg):
        return ("{{#unless " if neg else "{{#if ") + test + "}}"

    def truthy(self, expr):
        return "(truthy " + expr + ")"

    def eq(self, expr, literal):
        return "(eq " + expr + " " + json.dumps(literal) + ")"

    def else_(self):
        return "{{else}}"

    def endif(self, neg):
        return "{{/unless}}" if neg else "{{/if}}"

    def each(self, var, kind, expr):
        if kind == "split":
            return "{{#each (split " + expr + ") as |" + var + "|}}"
        if kind == "dict":
            return "{{#each " + expr + " as |" + var + " " + var + "_key|}}"
        return "{{#each " + expr + " as |" + var + "|}}"

    def endeach(self):
        return "{{/each}}"


class Mustache:
    name = "mustache"

    def text(self, s):
        if "{{" in s:
            raise Unsupported("text with {{")
        return s

    def sub(self, r, filters, scope):
        if filters or r[0] != "root" or not all(k == "name" for k, _ in r[1]):
            raise Unsupported("filters or computed references")
        return "{{{" + ".".join(s for _, s in r[1]) + "}}}"


class Envsubst:
    name = "envsubst"

    def text(self, s):
        if "$" in s:
            raise Unsupported("text with $")
        return s

    def sub(self, r, filters, scope):
        if filters or r[0] != "root" or len(r[1]) != 1 or not IDENT.match(r[1][0][1]):
            raise Unsupported("filters or dotted names")
        return "${" + r[1][0][1] + "}"


def translate(nodes, engine, ctx, scope=None):
    scope = scope or Scope()
    out = []
    for node in nodes:
        if isinstance(node, tuple) and node[0] == "text":
            out.append(engine.text(node[1]))
        elif isinstance(node, tuple) and node[0] == "sub":
            path, filters = split_filters(node[1])
            r = classify(ctx, parse_path(path), scope)
            if r is None:  # Octostache echoes an unresolved reference
                out.append(engine.text("#{" + node[1] + "}"))
            else:
                out.append(engine.sub(r, filters, scope))
        elif not hasattr(engine, "each"):
            raise Unsupported("conditionals and loops")
        elif node["kind"] == "if":
            m = re.fullmatch(r'(.+?)\s*==\s*"(.*)"', node["cond"])
            left = m.group(1) if m else node["cond"]
            r = classify(ctx, parse_path(left.strip()), scope)
            if r is None:
                raise ValueError(f"condition on a missing variable: {node['cond']}")
            expr = engine.ref(r, scope)
            test = engine.eq(expr, m.group(2)) if m else engine.truthy(expr)
            out.append(engine.cond(test, node["neg"]))
            out.append(translate(node["body"], engine, ctx, scope))
            if node["else"] is not None:
                out.append(engine.else_())
                out.append(translate(node["else"], engine, ctx, scope))
            out.append(engine.endif(node["neg"]))
        else:  # each
            segs = parse_path(node["path"])
            value = lookup(ctx, segs, scope)
            kind = {str: "split", list: "list", dict: "dict"}.get(type(value))
            if kind is None:
                raise ValueError(f"cannot loop over {node['path']}")
            expr = engine.ref(("root", segs), scope)
            out.append(engine.each(node["var"], kind, expr))
            out.append(translate(node["body"], engine, ctx, scope.push(node["var"], kind)))
            out.append(engine.endeach())
    return "".join(out)


def main():
    if len(sys.argv) != 5 or sys.argv[3] != "--cuttle":
        sys.exit(__doc__)
    data, out, cuttle = sys.argv[1], sys.argv[2], sys.argv[4]
    engines = {"jinja2": Jinja2(), "handlebars": Handlebars(), "mustache": Mustache(), "envsubst": Envsubst()}
    manifest = {}
    workloads = {
        "flat": ("flat/template.octo", "flat/vars.json"),
        "rich": ("rich/template.octo", "rich/vars.json"),
        "passthrough": ("passthrough/input.txt", None),
        # A one-line template with 20,000 variables: the cost of loading a large variables file.
        "bigvars": (None, "bigvars/vars.json"),
    }
    for workload, (template, variables) in workloads.items():
        os.makedirs(f"{out}/{workload}", exist_ok=True)
        if template:
            with open(f"{data}/{template}", encoding="utf-8", newline="") as f:
                text = f.read()
            template_path = f"{data}/{template}"
        else:
            text = "#{Name}\n"
            template_path = f"{out}/{workload}/template.octo"
            with open(template_path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        vars_path = f"{data}/{variables}" if variables else None
        raw = {}
        if vars_path:
            with open(vars_path, encoding="utf-8") as f:
                raw = json.load(f)

        def expand(name):
            r = subprocess.run([cuttle, "eval", "--variables", vars_path, "#{" + name + "}"],
                               check=True, capture_output=True, text=True)
            return r.stdout

        if workload == "bigvars":
            ctx = raw  # the peers load the very file cuttle loads; the template uses `Name` only
            context_path = vars_path
        else:
            ctx = nested_context(raw, expand)
            context_path = f"{out}/{workload}/context.json"
            with open(context_path, "w", encoding="utf-8") as f:
                json.dump(ctx, f, ensure_ascii=False)
        nodes = parse_template(text)
        # The measured input: the template, or for bigvars the variables file.
        input_path = vars_path if workload == "bigvars" else template_path
        entry = {"template": template_path, "variables": vars_path, "context": context_path,
                 "bytes": os.path.getsize(input_path), "engines": {}}
        for name, engine in engines.items():
            reason = UNSUPPORTED.get((workload, name))
            if reason is None:
                try:
                    translated = translate(nodes, engine, ctx)
                except Unsupported as e:
                    reason = f"cannot be translated: {e}"
            if reason:
                entry["engines"][name] = reason
                continue
            with open(f"{out}/{workload}/{name}.tmpl", "w", encoding="utf-8", newline="") as f:
                f.write(translated)
            entry["engines"][name] = "ok"
        with open(f"{out}/{workload}/envsubst.env", "w", encoding="utf-8") as f:
            for k, v in (raw.items() if workload == "flat" else ()):
                f.write(f"export {k}={shlex.quote(v)}\n")
        manifest[workload] = entry
    with open(f"{out}/manifest.json", "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
