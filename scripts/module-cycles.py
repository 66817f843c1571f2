#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a circle (issue 16).

Crates are layered by Cargo: a lower crate cannot name a higher one. Within a crate the
compiler allows cycles, so this check keeps the files honest too: it reads every `crate::`,
`super::` and `self::` path outside comments and `#[cfg(test)] mod tests`, maps it to the
file (module) it names, and looks for strongly connected groups among modules that are not
each other's ancestors (a parent declaring its children, and a child using its parent's
types, are how Rust modules work, not a cycle).

Usage: scripts/module-cycles.py [REPO]   (exit 1 and the cycles listed when there are any)
"""
import os
import re
import sys


def module_path(src, path):
    parts = os.path.relpath(path, src)[:-3].split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def crate_cycles(src):
    files = {}
    for dirpath, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                full = os.path.join(dirpath, name)
                files[module_path(src, full)] = full
    modules = set(files)
    edges = {m: set() for m in modules}
    for m, path in files.items():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text = "\n".join(l for l in text.split("\n") if not l.strip().startswith("//"))
        text = re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", text, flags=re.S)
        for found in re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", text):
            parts = found.split("::")
            if parts[0] == "crate":
                base, rest = (), parts[1:]
            elif parts[0] == "self":
                base, rest = m, parts[1:]
            else:
                base = m
                while parts and parts[0] == "super":
                    base, parts = base[:-1], parts[1:]
                rest = parts
            target = base
            for p in rest:
                if target + (p,) not in modules:
                    break
                target = target + (p,)
            if target != m:
                edges[m].add(target)

    def related(a, b):
        return b[: len(a)] == a or a[: len(b)] == b

    graph = {m: {t for t in ts if not related(m, t)} for m, ts in edges.items()}
    # Tarjan's strongly connected components.
    index, low, stack, on_stack, groups, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else "."
    crates = [os.path.join(repo, "src")]
    crates += [os.path.join(repo, "crates", c, "src") for c in sorted(os.listdir(os.path.join(repo, "crates")))]
    bad = 0
    for src in crates:
        if not os.path.isdir(src):
            continue
        for group in crate_cycles(src):
            bad += 1
            names = " <-> ".join("::".join(m) or "(root)" for m in group)
            print(f"{os.path.relpath(src, repo)}: modules import each other: {names}")
    if bad:
        sys.exit(1)
    print(f"module-cycles: no import cycles between files in {len(crates)} crates")


if __name__ == "__main__":
    main()
