"""minqing's OpenAPI document, checked by tools written elsewhere (tests/openapi.rs, make fuzz).

    fuzz.py validate DOC.json
        Validates the document with openapi-spec-validator as OpenAPI 3.1; prints
        {"valid": true, "openapi": "3.1.0", "paths": N} or exits 1 with the error.

    fuzz.py run --base URL --roles ROLES.json --out DIR [--max-examples N] [--max-time S]
                [--findings FILE] [--seed N] [--workers N]
        Runs Schemathesis (`st run`) once per role against a running server, every operation
        of BASE/api/v1/openapi.json, with the role's token (ROLES.json: {"role": token or
        null for anonymous}). Checks: not_a_server_error, status_code_conformance,
        content_type_conformance, response_schema_conformance and, from fuzz_hooks.py,
        error_shape (a 4xx/5xx JSON answer under /api/v1 is {"error": {"code", "message"}}).
        Phases: examples, coverage, fuzzing and stateful (the document's links: a report to
        its case and transitions, a draft to its operations, publish, rebase and abandon);
        at most N cases per operation and S seconds per role. Prints one JSON line: {"cases", "seconds", "roles": {role: {cases, seconds,
        failures, errors}}, "failures": [...], "errors": [...]} and writes them to FILE
        (Markdown) when given. Errors are requests that got no answer (connection reset,
        time-out) or Schemathesis's own.

The event stream (GET /api/v1/stream) never ends for a caller who may open it, and
Schemathesis reads whole bodies: it is fuzzed only for the roles whose every answer is final
(anonymous: 401, reporter: 403, and the 400s of both); tests/openapi.rs checks the 200 of the
stream (status, content type) itself.
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "error_shape",
]
# Roles whose stream answer is always final (a 4xx): they fuzz the stream too.
STREAM_ROLES = {"anonymous", "reporter"}


def validate(path):
    from openapi_spec_validator import OpenAPIV31SpecValidator
    from openapi_spec_validator.readers import read_from_filename

    spec, _ = read_from_filename(path)
    if not str(spec.get("openapi", "")).startswith("3.1"):
        print(json.dumps({"valid": False, "error": f"openapi is {spec.get('openapi')!r}"}))
        return 1
    errors = [str(e) for e in OpenAPIV31SpecValidator(spec).iter_errors()]
    if errors:
        print(json.dumps({"valid": False, "errors": errors[:20]}))
        return 1
    print(json.dumps({"valid": True, "openapi": spec["openapi"], "paths": len(spec["paths"])}))
    return 0


def text_of(content, limit=600):
    if not content:
        return ""
    if isinstance(content, dict) and "$base64" in content:
        raw = base64.b64decode(content["$base64"])
    elif isinstance(content, str):
        raw = content.encode()
    else:
        raw = json.dumps(content).encode()
    s = raw[:limit].decode("utf-8", "replace")
    return s + ("…" if len(raw) > limit else "")


def failures_of(ndjson, role):
    """Cases run, the failed checks and the errors (requests that got no answer, or the
    tool's own), from Schemathesis's NDJSON events."""
    cases, found, errors = 0, [], []
    seen = set()
    with open(ndjson, encoding="utf-8") as f:
        for line in f:
            event = json.loads(line)
            error = event.get("NonFatalError")
            if error:
                value = error.get("value") or {}
                errors.append(
                    {
                        "role": role,
                        "operation": error.get("label"),
                        "phase": error.get("phase"),
                        "type": value.get("type"),
                        "message": (value.get("message") or "")[:500],
                    }
                )
            done = event.get("ScenarioFinished")
            if not done:
                continue
            rec = done.get("recorder") or {}
            cases += len(rec.get("cases") or {})
            for cid, checks in (rec.get("checks") or {}).items():
                for c in checks:
                    if c.get("status") != "failure":
                        continue
                    info = (c.get("failure_info") or {}).get("failure") or {}
                    inter = (rec.get("interactions") or {}).get(cid) or {}
                    req, resp = inter.get("request") or {}, inter.get("response") or {}
                    key = (rec.get("label"), c["name"], info.get("title"), resp.get("status_code"))
                    if key in seen:
                        continue
                    seen.add(key)
                    headers = resp.get("headers") or {}
                    found.append(
                        {
                            "role": role,
                            "operation": rec.get("label"),
                            "check": c["name"],
                            "title": info.get("title"),
                            "message": info.get("message"),
                            "request": {
                                "method": req.get("method"),
                                "uri": req.get("uri"),
                                "body": text_of(req.get("body"), 400),
                            },
                            "response": {
                                "status": resp.get("status_code"),
                                "content_type": (headers.get("content-type") or [None])[0],
                                "body": text_of(resp.get("content")),
                            },
                        }
                    )
    return cases, found, errors


def run(args):
    roles = json.loads(Path(args.roles).read_text())
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    st = Path(sys.executable).parent / "st"
    schema = f"{args.base}/api/v1/openapi.json"
    env = dict(os.environ, SCHEMATHESIS_HOOKS=str(HERE / "fuzz_hooks.py"), NO_COLOR="1")
    summary = {"cases": 0, "seconds": 0.0, "roles": {}, "failures": [], "errors": []}
    started = time.monotonic()
    for role, token in roles.items():
        report = out / f"{role}.ndjson"
        report.unlink(missing_ok=True)
        cmd = [
            str(st), "run", schema,
            "--url", args.base,
            "--checks", ",".join(CHECKS),
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(args.max_examples),
            "--max-time", str(args.max_time),
            "--workers", str(args.workers),
            "--seed", str(args.seed),
            "--generation-with-security-parameters", "false",
            "--generation-database", "none",
            "--request-timeout", "30",
            "--suppress-health-check", "all",
            "--continue-on-failure",
            "--no-color",
            "--warnings", "off",
            "--report", "ndjson",
            "--report-ndjson-path", str(report),
        ]
        if token:
            cmd += ["--header", f"Authorization: Bearer {token}"]
        if role not in STREAM_ROLES:
            cmd += ["--exclude-path", "/api/v1/stream"]
        t0 = time.monotonic()
        log = out / f"{role}.log"
        with open(log, "w", encoding="utf-8") as f:
            # In the output folder: Schemathesis keeps a cache (.schemathesis/) where it runs.
            rc = subprocess.run(
                cmd, env=env, cwd=out, stdout=f, stderr=subprocess.STDOUT, check=False
            ).returncode
        seconds = time.monotonic() - t0
        if not report.exists():
            print(log.read_text()[-3000:], file=sys.stderr)
            raise SystemExit(f"schemathesis wrote no report for {role} (exit {rc})")
        cases, failures, errors = failures_of(report, role)
        if rc not in (0, 1):
            print(log.read_text()[-3000:], file=sys.stderr)
            raise SystemExit(f"schemathesis failed to run for {role} (exit {rc})")
        summary["roles"][role] = {
            "cases": cases,
            "seconds": round(seconds, 1),
            "failures": len(failures),
            "errors": len(errors),
        }
        summary["cases"] += cases
        summary["failures"] += failures
        summary["errors"] += errors
        print(
            f"{role}: {cases} cases in {seconds:.0f} s, {len(failures)} failures, {len(errors)} errors",
            file=sys.stderr,
        )
    summary["seconds"] = round(time.monotonic() - started, 1)
    if args.findings:
        write_findings(Path(args.findings), summary)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def write_findings(path, summary):
    lines = [
        "# Schemathesis findings",
        "",
        f"{summary['cases']} cases in {summary['seconds']} s; "
        + ", ".join(f"{r}: {v['cases']} cases, {v['failures']} failures" for r, v in summary["roles"].items()),
        "",
    ]
    if not summary["failures"]:
        lines.append("No failures.")
    if summary["errors"]:
        lines += ["", "## Errors (no answer, or Schemathesis's own)", ""]
        lines += [
            f"- {e['operation']} ({e['phase']}, role {e['role']}): {e['type']}: {e['message']}"
            for e in summary["errors"]
        ]
        lines.append("")
    for i, f in enumerate(summary["failures"], 1):
        req, resp = f["request"], f["response"]
        lines += [
            f"## {i}. {f['operation']} — {f['title']} ({f['check']}, role {f['role']})",
            "",
            f"- request: `{req['method']} {req['uri']}`" + (f" body `{req['body']}`" if req["body"] else ""),
            f"- response: {resp['status']} `{resp['content_type']}` `{resp['body']}`",
            f"- what: {(f['message'] or '').strip()}",
            "",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate")
    v.add_argument("doc")
    r = sub.add_parser("run")
    r.add_argument("--base", required=True)
    r.add_argument("--roles", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--max-examples", type=int, default=10)
    r.add_argument("--max-time", type=int, default=60)
    # One worker: with two, CPython 3.11's regex compiler sometimes fails in Schemathesis's
    # threads ("AST constructor recursion depth mismatch"), and the operation goes untested.
    r.add_argument("--workers", type=int, default=1)
    r.add_argument("--seed", type=int, default=20261202)
    r.add_argument("--findings")
    a = p.parse_args()
    return validate(a.doc) if a.command == "validate" else run(a)


if __name__ == "__main__":
    sys.exit(main())
