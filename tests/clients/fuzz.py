"""Fuzzes a running Cascade with schemathesis, from the community OpenAPI description of
the Mastodon API, restricted to the operations Cascade routes.

    python fuzz.py BASE_URL TOKEN MAX_EXAMPLES

Checks: no 5xx (`not_a_server_error`) and every error a JSON `{"error": ...}`
(`json_error`, in fuzz_hooks.py). Exits non-zero when a check fails. The Rust test
`fuzz.rs` starts the server, runs this, and then checks the server still answers.
"""

import os
import re
import subprocess
import tempfile
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
API = REPO / "crates" / "cascade-server" / "src" / "api"
METHODS = ("get", "post", "put", "patch", "delete")


def spec_path() -> Path:
    """The OpenAPI description, found as schema_check.py finds it."""
    from schema_check import spec_path as checked  # noqa: PLC0415 (the sibling module)

    return checked()


# Streams answer with a response that never ends: a fuzzer would wait on each until its
# request timeout. Their parameters are covered by the black-box streaming tests.
SKIPPED = ("/api/v1/streaming",)


def routes():
    """(method, path) of every route in the API layer's source, but the streams."""
    found = set()
    for source in API.rglob("*.rs"):
        text = source.read_text()
        for match in re.finditer(r"\.route\(\s*\"([^\"]+)\"\s*,", text):
            depth, i = 1, match.end()
            while i < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[i], 0)
                i += 1
            handlers = text[match.end() : i]
            if match.group(1).startswith(SKIPPED):
                continue
            for method in re.findall(r"\b(" + "|".join(METHODS) + r")\(", handlers):
                found.add((method.upper(), match.group(1)))
    return found


def include_expression(found) -> str:
    """A regex over `METHOD /path` that matches the routed operations, whatever the
    path parameters are called in the OpenAPI description."""
    alternatives = []
    for method, path in sorted(found):
        pattern = re.sub(r"\\\{[^}]+\\\}", r"\\{[^}]+\\}", re.escape(path))
        alternatives.append(f"{method} {pattern}")
    return "^(" + "|".join(alternatives) + ")$"


def main() -> int:
    base, token, examples = sys.argv[1], sys.argv[2], sys.argv[3]
    sys.path.insert(0, str(HERE))
    found = routes()
    if len(found) < 50:
        print(f"only {len(found)} routes found in {API}: the route parser is broken")
        return 2
    env = dict(os.environ, PYTHONPATH=str(HERE), SCHEMATHESIS_HOOKS="fuzz_hooks")
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(spec_path()),
        "--url", base,
        "--header", f"Authorization: Bearer {token}",
        "--checks", "not_a_server_error,json_error",
        "--max-examples", examples,
        "--phases", "coverage,fuzzing",
        "--include-name-regex", include_expression(found),
        "--seed", "20261207",
        "--generation-database", "none",
        "--request-timeout", "30",
        "--workers", "2",
        "--no-color",
    ]
    print(f"fuzzing {len(found)} routed operations at {base}", flush=True)
    # schemathesis keeps a cache in its working folder: a temporary one, not the repo.
    with tempfile.TemporaryDirectory() as scratch:
        return subprocess.run(command, env=env, cwd=scratch).returncode


if __name__ == "__main__":
    sys.exit(main())
