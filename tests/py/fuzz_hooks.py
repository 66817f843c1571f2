"""Schemathesis hooks of tests/py/fuzz.py (loaded through SCHEMATHESIS_HOOKS).

One check of our own beside Schemathesis's: every 4xx or 5xx answer under /api/v1 with a JSON
body has the error shape of the REST API, {"error": {"code": "…", "message": "…"}}.
"""

import json

import schemathesis


@schemathesis.check
def error_shape(ctx, response, case):
    """A 4xx/5xx JSON answer under /api/v1 is {"error": {"code", "message"}}."""
    if response.status_code < 400 or not case.path.startswith("/api/v1/"):
        return None
    kind = (response.headers.get("content-type") or [""])[0]
    if isinstance(kind, bytes):
        kind = kind.decode("latin-1")
    if "json" not in kind.lower():
        raise AssertionError(
            f"error {response.status_code} under /api/v1 is {kind or 'untyped'}, not JSON"
        )
    try:
        body = json.loads(response.content)
    except ValueError as e:
        raise AssertionError(f"error {response.status_code}: body is not JSON ({e})") from None
    err = body.get("error") if isinstance(body, dict) else None
    if not (
        isinstance(err, dict)
        and isinstance(err.get("code"), str)
        and err["code"]
        and isinstance(err.get("message"), str)
        and err["message"]
    ):
        raise AssertionError(
            f'error {response.status_code}: not {{"error": {{"code", "message"}}}}: '
            f"{response.content[:300]!r}"
        )
    return None
