#!/usr/bin/env python3
"""Drive a running Cascade server with the real `toot` CLI (PyPI `toot`).

    python toot_flow.py BASE_URL

BASE_URL is e.g. http://127.0.0.1:PORT.

toot logs in through the browser (`toot login`) or with the password grant
(`toot login_cli`), which Cascade does not offer. So the login is done here
with toot's own library code instead, in a throwaway config directory
(XDG_CONFIG_HOME and XDG_CACHE_HOME point into a temporary folder):
toot.auth.get_or_create_app (GET /api/v1/instance, POST /api/v1/apps, saved
to toot's config.json), toot.api.register_account (client_credentials token,
then POST /api/v1/accounts) and toot.auth.create_user (verify_credentials,
saved to config.json as toot's login does). Everything after that runs the
real `toot` command (`python -m toot`) as a subprocess, switching accounts with
`toot --as USER@INSTANCE`: instance, auth, whoami, follow, post, timelines
home and account (paged through the Link header), the deprecated
`timeline`, favourite, reblog, status. Pagination is also checked through
toot's own generators (toot.api.*_timeline_generator, toot.http.get_paged).

Each step is printed; any failure prints "FAIL: ..." and exits 1.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

REQUEST_TIMEOUT = 30
COMMAND_TIMEOUT = 60
POLL_SECONDS = 10.0

# `toot follow ACCOUNT` finds the account with GET /api/v2/search
# (q=ACCOUNT, type=accounts, resolve=true), then follows it.


class FlowError(Exception):
    pass


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def ensure(condition: bool, message: str) -> None:
    if not condition:
        raise FlowError(message)


def poll(what: str, probe: Callable[[], Any]) -> Any:
    """Call probe until it returns something truthy, for up to POLL_SECONDS."""
    deadline = time.monotonic() + POLL_SECONDS
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise FlowError(f"timed out after {POLL_SECONDS:.0f} s waiting for {what}")
        time.sleep(0.25)


class Toot:
    """Runs the installed toot CLI against the temporary config directory."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def run(self, *args: str, as_user: str | None = None, ok: bool = True) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "toot", "--no-color"]
        if as_user:
            cmd += ["--as", as_user]
        cmd += list(args)
        shown = " ".join(["toot", *(["--as", as_user] if as_user else []), *args])
        try:
            result = subprocess.run(
                cmd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise FlowError(f"`{shown}` did not finish within {COMMAND_TIMEOUT} s") from None
        print(f"    $ {shown}  -> exit {result.returncode}", flush=True)
        if ok and result.returncode != 0:
            raise FlowError(
                f"`{shown}` exited {result.returncode}\n"
                f"--- stdout\n{result.stdout.rstrip()}\n--- stderr\n{result.stderr.rstrip()}"
            )
        return result

    def json(self, *args: str, as_user: str | None = None) -> Any:
        result = self.run(*args, "--json", as_user=as_user)
        try:
            return json.loads(result.stdout)
        except ValueError:
            raise FlowError(f"`toot {' '.join(args)} --json` printed no JSON: {result.stdout[:300]!r}") from None


def expect_in(text: str, needle: str, what: str) -> None:
    ensure(needle in text, f"{what}: {needle!r} not in the output:\n{text}")


def run(base_url: str, toot: Toot) -> None:
    # Imported only now, so that toot reads the temporary XDG directories.
    from toot import api, auth, config, http
    from toot.exceptions import NotFoundError

    suffix = secrets.token_hex(4)
    alice_name, bob_name = f"alice_{suffix}", f"bob_{suffix}"

    step("toot instance BASE_URL: GET /api/v1/instance, parsed into toot's Instance")
    out = toot.run("instance", base_url).stdout
    ensure(out.strip() != "", "toot instance printed nothing")

    step("toot's login, minus the browser: toot.auth.get_or_create_app (GET /api/v1/instance, POST /api/v1/apps)")
    app = auth.get_or_create_app(base_url)
    ensure(app.base_url == base_url, f"toot's app has base_url {app.base_url!r}")
    print(f"    instance {app.instance!r}, client_id {app.client_id[:8]}...")

    step(f"register {alice_name} and {bob_name}: toot.api.register_account (POST /oauth/token, POST /api/v1/accounts)")
    users = {}
    for name in (alice_name, bob_name):
        registered = api.register_account(app, name, f"{name}@example.com", secrets.token_urlsafe(18))
        ensure(isinstance(registered, dict) and registered.get("access_token"),
               f"registration of {name} gave no access_token: {registered!r}")
        # toot's login ends with this: verify_credentials, then save the user.
        user = auth.create_user(app, registered["access_token"])
        ensure(user.username == name, f"verify_credentials says {user.username!r}, expected {name!r}")
        users[name] = user
    alice_id, bob_id = (config.user_id(users[n]) for n in (alice_name, bob_name))

    path = config.get_config_file_path()
    ensure(path.startswith(os.environ["XDG_CONFIG_HOME"]), f"toot's config is at {path}, outside the temp dir")
    with open(path) as f:
        saved = json.load(f)
    ensure(app.instance in saved.get("apps", {}), f"config.json has no app for {app.instance}: {saved.get('apps')}")
    ensure({alice_id, bob_id} <= set(saved.get("users", {})), f"config.json users: {list(saved.get('users', {}))}")

    step("toot auth: both accounts are logged in")
    out = toot.run("auth").stdout
    expect_in(out, alice_id, "toot auth")
    expect_in(out, bob_id, "toot auth")

    step("toot whoami: GET /api/v1/accounts/verify_credentials")
    out = toot.run("whoami", as_user=alice_id).stdout
    expect_in(out, f"@{alice_name}", "toot whoami")
    me = toot.json("whoami", as_user=bob_id)
    ensure(me.get("username") == bob_name and me.get("acct") == bob_name,
           f"whoami --json: username={me.get('username')!r}, acct={me.get('acct')!r}")

    step(f"toot follow {alice_name} (as {bob_name}): GET /api/v2/search, POST /api/v1/accounts/:id/follow")
    followed = toot.run("follow", alice_name, as_user=bob_id)
    expect_in(followed.stdout, f"following {alice_name}", "toot follow")
    alice_account = api.lookup(app, users[bob_name], alice_name).json()
    relationship = api.get_relationship(app, users[bob_name], alice_account["id"])
    ensure(relationship and relationship.get("following") is True,
           f"GET /api/v1/accounts/relationships says {relationship!r}")

    step(f"toot post, twice (as {alice_name}): POST /api/v1/statuses")
    first_text = f"Hello from {alice_name}, via toot"
    first = toot.json("post", first_text, "--visibility", "public", as_user=alice_id)
    ensure(first.get("id") and first.get("account", {}).get("username") == alice_name,
           f"toot post --json returned {first!r}")
    second_text = f"A second toot from {alice_name}"
    out = toot.run("post", second_text, as_user=alice_id).stdout
    expect_in(out, "Toot posted: http", "toot post")

    step(f"toot timelines account {alice_name}: GET /api/v1/accounts/lookup, /api/v1/accounts/:id/statuses")
    statuses = toot.json("timelines", "account", alice_name, "--limit", "5", as_user=bob_id)
    texts = [s.get("content", "") for s in statuses]
    ensure(len(statuses) == 2 and second_text in texts[0] and first_text in texts[1],
           f"alice's statuses, newest first, are not the two posts: {texts}")
    second_id = statuses[0]["id"]

    step(f"toot timelines home (as {bob_name}): GET /api/v1/timelines/home, polling")
    poll("alice's post in bob's home timeline",
         lambda: any(s.get("id") == first["id"] for s in toot.json("timelines", "home", as_user=bob_id)))
    out = toot.run("timelines", "home", "--no-pager", "--no-clear", as_user=bob_id).stdout
    expect_in(out, first_text, "toot timelines home")
    out = toot.run("timeline", "--once", "--count", "5", as_user=bob_id).stdout
    expect_in(out, first_text, "toot timeline (deprecated)")

    step(f"toot favourite, toot reblog (as {bob_name}): POST /api/v1/statuses/:id/favourite, /reblog")
    expect_in(toot.run("favourite", first["id"], as_user=bob_id).stdout, "Status favourited", "toot favourite")
    expect_in(toot.run("reblog", first["id"], as_user=bob_id).stdout, "Status reblogged", "toot reblog")

    step(f"toot status (as {alice_name}): 1 favourite, 1 reblog; GET /api/v1/statuses/:id")

    def counted() -> Any:
        s = toot.json("status", first["id"], as_user=alice_id)
        return s if (s.get("favourites_count"), s.get("reblogs_count")) == (1, 1) else None

    try:
        poll("favourites_count, reblogs_count == 1, 1", counted)
    except FlowError:
        s = toot.json("status", first["id"], as_user=alice_id)
        raise FlowError(f"counts on alice's post: favourites_count={s.get('favourites_count')}, "
                        f"reblogs_count={s.get('reblogs_count')}; expected 1, 1") from None
    out = toot.run("status", first["id"], as_user=bob_id).stdout
    expect_in(out, first_text, "toot status")
    seen = toot.json("status", first["id"], as_user=bob_id)
    ensure(seen.get("favourited") is True and seen.get("reblogged") is True,
           f"bob sees favourited={seen.get('favourited')}, reblogged={seen.get('reblogged')}")

    step(f"toot timelines account {alice_name} --pager --limit 1: toot follows Link rel=next to the older post")
    # (Not the public timeline: --pager reads every page there is, and a live server has many.)
    out = toot.run("timelines", "account", alice_name, "--pager", "--no-clear", "--limit", "1", as_user=bob_id).stdout
    expect_in(out, second_text, "toot timelines account --pager --limit 1, page 1")
    expect_in(out, first_text, "toot timelines account --pager --limit 1, page 2")

    step("toot's own paginators, two pages of limit=1: toot.api.*_timeline_generator, toot.http.get_paged")
    bob = users[bob_name]
    generators = {
        "api.public_timeline_generator": api.public_timeline_generator(app, bob, limit=1),
        "api.account_timeline_generator_by_id": api.account_timeline_generator_by_id(
            app, bob, alice_account["id"], limit=1),
        "http.get_paged /api/v1/timelines/public": (
            r.json() for r in http.get_paged(app, bob, "/api/v1/timelines/public", {"limit": 1})),
    }
    for what, pages in generators.items():
        page1 = next(pages, None)
        page2 = next(pages, None)
        ensure(page1 is not None and len(page1) == 1, f"{what}: page 1 is {page1!r}")
        ensure(page2 is not None,
               f"{what}: no page 2; toot found no rel=\"next\" in the first response's Link header "
               "(toot.api's generators need the next link to come first in the header)")
        ensure(len(page2) == 1, f"{what}: page 2 has {len(page2)} statuses")
        ensure(page1[0]["id"] != page2[0]["id"], f"{what}: both pages hold status {page1[0]['id']}")
        ensure([page1[0]["id"], page2[0]["id"]] == [second_id, first["id"]],
               f"{what}: pages are {page1[0]['id']}, {page2[0]['id']}; expected {second_id}, {first['id']}")
        print(f"    {what}: {page1[0]['id']}, {page2[0]['id']}")

    try:
        api.fetch_status(app, bob, "0")
        raise FlowError("GET /api/v1/statuses/0 should be a 404")
    except NotFoundError:
        pass


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    base_url = argv[1].rstrip("/")
    with tempfile.TemporaryDirectory(prefix="cascade-toot-") as tmp:
        # toot reads these on every call; they must be set before it is used.
        os.environ["XDG_CONFIG_HOME"] = os.path.join(tmp, "config")
        os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")
        for name in [n for n in os.environ if n.startswith("TOOT_")]:
            del os.environ[name]  # click reads TOOT_* as option defaults
        env = dict(os.environ)
        # Wide, tall "terminal": no wrapping surprises, and `--pager` never has to
        # stop and ask for a key press with this few statuses.
        env.update({"COLUMNS": "120", "LINES": "10000", "PYTHONIOENCODING": "utf-8"})
        try:
            run(base_url, Toot(env))
        except Exception as e:  # toot raises its own ApiError/ConsoleError, requests its own
            print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
            return 1
    print("PASS: toot flow (register, whoami, follow, post, home, favourite, reblog, counts, pagination)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
