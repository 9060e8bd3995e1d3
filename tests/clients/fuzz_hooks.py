"""schemathesis checks of Cascade's own (loaded through SCHEMATHESIS_HOOKS by fuzz.py)."""

import json
import schemathesis

# Operations whose client is a browser: their errors are pages, as in Mastodon.
BROWSER_PAGES = {"/oauth/authorize"}


@schemathesis.check
def json_error(ctx, response, case):
    """Every error is a Mastodon-style JSON object with an `error` string, but where a
    browser is the client (the OAuth authorization page answers with an HTML page)."""
    if response.status_code < 400:
        return None
    html = response.headers.get("content-type", [""])
    html = (html[0] if isinstance(html, list) else html).startswith("text/html")
    if html and case.operation.path in BROWSER_PAGES:
        return None
    try:
        body = json.loads(response.content or b"")
    except ValueError:
        raise AssertionError(f"{response.status_code} without a JSON body: {response.content[:200]!r}")
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        raise AssertionError(f"{response.status_code} body is not {{\"error\": ...}}: {str(body)[:200]}")
    return None
