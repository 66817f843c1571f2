"""Independent checks of minqing's Open311 answers (tests/open311.rs).

Reads a manifest on stdin:
  {"schemas": DIR, "checks": [{"name": NAME, "schema": FILE RELATIVE TO DIR (optional),
    "json": DOCUMENT (optional), "xml": TEXT (optional), "root": XML ROOT TAG,
    "lists": [TAGS OF COLLECTION ELEMENTS]}]}
For each check:
- the JSON document is validated against the schema with Python jsonschema (draft-04 for
  the published files, which have no $schema; the $schema of ours/*.json otherwise), every
  file of DIR registered under its file:// URI so that relative $refs resolve, with
  date-time and uri formats asserted;
- the XML is parsed with xml.etree, its root tag checked, and it is mapped to JSON by the
  Spark convention (root dropped, collections in "lists" become arrays, empty elements
  null), which must equal the JSON document (XML text compared with JSON scalars).
Prints {NAME: [problem, ...]}; a check passed when its list is empty.
"""

import datetime
import json
import pathlib
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def format_checker():
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time")
    def date_time(value):
        if not isinstance(value, str):
            return True
        if not RFC3339.match(value):
            return False
        datetime.datetime.fromisoformat(value.replace("z", "Z"))
        return True

    @checker.checks("uri")
    def uri(value):
        if not isinstance(value, str):
            return True
        u = urllib.parse.urlsplit(value)
        return bool(u.scheme) and " " not in value

    return checker


def registry(root):
    reg = Registry()
    for path in sorted(root.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        reg = reg.with_resource(
            path.as_uri(), Resource.from_contents(doc, default_specification=DRAFT4)
        )
    return reg


def validate(root, reg, checker, schema, doc):
    path = root / schema
    target = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(target, default=jsonschema.Draft4Validator)
    v = cls({"$ref": path.as_uri()}, registry=reg, format_checker=checker)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]


def spark(el, lists, problems, where):
    children = list(el)
    if el.tag in lists:
        tags = {c.tag for c in children}
        if len(tags) > 1:
            problems.append(f"{where}: collection <{el.tag}> mixes {sorted(tags)}")
        return [spark(c, lists, problems, f"{where}/{c.tag}") for c in children]
    if not children:
        return el.text if el.text else None
    if (el.text or "").strip():
        problems.append(f"{where}: mixed content")
    out = {}
    for c in children:
        if c.tag in out:
            problems.append(f"{where}: <{c.tag}> repeated outside a collection")
        out[c.tag] = spark(c, lists, problems, f"{where}/{c.tag}")
    return out


def same(x, j, where, problems):
    if isinstance(j, dict):
        if not isinstance(x, dict) or set(x) != set(j):
            problems.append(f"{where}: XML {x!r} vs JSON {j!r}")
            return
        for k in j:
            same(x[k], j[k], f"{where}/{k}", problems)
    elif isinstance(j, list):
        if not isinstance(x, list) or len(x) != len(j):
            problems.append(f"{where}: XML {x!r} vs JSON {j!r}")
            return
        for i, (a, b) in enumerate(zip(x, j)):
            same(a, b, f"{where}/{i}", problems)
    elif j is None:
        if x is not None:
            problems.append(f"{where}: XML {x!r} vs JSON null")
    elif isinstance(j, bool):
        if x != ("true" if j else "false"):
            problems.append(f"{where}: XML {x!r} vs JSON {j!r}")
    elif isinstance(j, (int, float)):
        try:
            ok = float(x) == float(j)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            problems.append(f"{where}: XML {x!r} vs JSON {j!r}")
    elif x != j:
        problems.append(f"{where}: XML {x!r} vs JSON {j!r}")


def main():
    manifest = json.load(sys.stdin)
    root = pathlib.Path(manifest["schemas"]).resolve()
    reg = registry(root)
    checker = format_checker()
    out = {}
    for c in manifest["checks"]:
        problems = []
        if "schema" in c:
            problems += validate(root, reg, checker, c["schema"], c["json"])
        if "xml" in c:
            try:
                el = ET.fromstring(c["xml"].encode("utf-8"))
            except ET.ParseError as e:
                problems.append(f"XML does not parse: {e}")
            else:
                if el.tag != c["root"]:
                    problems.append(f"root <{el.tag}>, expected <{c['root']}>")
                mapped = spark(el, set(c.get("lists", [])), problems, el.tag)
                if "json" in c:
                    same(mapped, c["json"], el.tag, problems)
        out[c["name"]] = problems
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
