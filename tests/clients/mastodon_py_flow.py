#!/usr/bin/env python3
"""Drive a running Cascade server with the real Mastodon.py client.

    python mastodon_py_flow.py BASE_URL [ADMIN_TOKEN]

BASE_URL is e.g. http://127.0.0.1:PORT. The flow: create an app, register
alice_<rand> and bob_<rand>, bob follows alice, alice posts, the post reaches
bob's home timeline (fan-out is asynchronous, so this polls), bob favourites,
reblogs and quotes it, and alice's post then counts one of each.

Every JSON body the server sends back, to Mastodon.py or to the raw `requests`
calls made here, is seen raw by a response hook on the HTTP session and
validated against the community OpenAPI schemas (schema_check.py, which finds
the document through CASCADE_OPENAPI or ../shared/ beside the repo).

ADMIN_TOKEN (optional; also read from CASCADE_ADMIN_TOKEN) is a user token of
an administrator. When given, its verify_credentials is fetched and validated
as a CredentialAccount too; the flow itself needs no admin rights.

Each step is printed; any failure prints "FAIL: ..." and exits 1.
"""

from __future__ import annotations

import inspect
import os
import re
import secrets
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import requests
from mastodon import Mastodon
from mastodon.errors import MastodonError, MastodonWarning

sys.path.insert(0, str(Path(__file__).resolve().parent))
from schema_check import SchemaChecker, SchemaError  # noqa: E402

REQUEST_TIMEOUT = 30
POLL_SECONDS = 10.0
MIN_VERSION = "4.5.0"  # quote posts arrived in Mastodon 4.5

ID = r"[^/]+"
# (method, path regex, entity name in components/schemas) for every JSON
# response this flow can receive. Error bodies (status >= 400) are checked
# against Error instead.
ROUTES: list[tuple[str, str, str]] = [
    ("POST", r"/api/v1/apps", "CredentialApplication"),
    ("GET", r"/api/v1/apps/verify_credentials", "Application"),
    ("POST", r"/oauth/token", "Token"),
    ("POST", r"/api/v1/accounts", "Token"),
    ("GET", r"/api/v1/instance", "V1Instance"),
    ("GET", r"/api/v2/instance", "Instance"),
    ("GET", r"/api/v1/accounts/verify_credentials", "CredentialAccount"),
    ("GET", r"/api/v1/accounts/relationships", "Relationship[]"),
    ("GET", rf"/api/v1/accounts/{ID}", "Account"),
    ("POST", rf"/api/v1/accounts/{ID}/follow", "Relationship"),
    ("POST", r"/api/v1/statuses", "Status"),
    ("GET", rf"/api/v1/statuses/{ID}", "Status"),
    ("POST", rf"/api/v1/statuses/{ID}/favourite", "Status"),
    ("POST", rf"/api/v1/statuses/{ID}/reblog", "Status"),
    ("GET", r"/api/v1/timelines/home", "Status[]"),
]


class FlowError(Exception):
    pass


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def ensure(condition: bool, message: str) -> None:
    if not condition:
        raise FlowError(message)


class Recorder:
    """A response hook that validates every JSON body against its schema."""

    def __init__(self, checker: SchemaChecker):
        self.checker = checker
        self.checked: dict[str, int] = {}
        # Mastodon.py rewraps anything raised inside a request as a network
        # error, so the real reason is kept here for the final message.
        self.failure: FlowError | None = None

    def session(self) -> requests.Session:
        session = requests.Session()
        session.hooks["response"].append(self.hook)
        return session

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        try:
            self._check(response)
        except FlowError as e:
            self.failure = self.failure or e
            raise

    def _check(self, response: requests.Response) -> None:
        method = response.request.method or "GET"
        path = urlsplit(response.request.url or "").path.rstrip("/") or "/"
        where = f"{method} {path} -> {response.status_code}"
        if response.is_redirect:
            return
        if response.status_code >= 400:
            entity = "Error"
        else:
            entity = next(
                (e for m, p, e in ROUTES if m == method and re.fullmatch(p, path)), None
            )
            if entity is None:
                raise FlowError(f"{where}: the flow has no schema for this endpoint")
        try:
            body = response.json()
        except ValueError:
            raise FlowError(
                f"{where}: expected a JSON {entity}, got "
                f"{response.headers.get('Content-Type')!r}: {response.text[:300]!r}"
            ) from None
        try:
            self.checker.check(entity, body, what=where)
        except SchemaError as e:
            raise FlowError(f"schema check failed: {e}") from None
        self.checked[entity] = self.checked.get(entity, 0) + 1


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


def client(base_url: str, recorder: Recorder, client_id: str, client_secret: str) -> Mastodon:
    api = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=base_url,
        session=recorder.session(),
        ratelimit_method="throw",
        request_timeout=REQUEST_TIMEOUT,
    )
    # Read the version from /api/v1/instance/ and /api/v2/instance/ (note the
    # trailing slashes), then let Mastodon.py refuse endpoints newer than it:
    # a real test of the version string the server reports. Passing
    # version_check_mode="created" to the constructor instead would do the same,
    # but Mastodon.py 2.3.3 recurses forever there when the instance endpoints fail.
    api.retrieve_mastodon_version(fail_hard=True)
    api.version_check_mode = "created"
    return api


def register(api: Mastodon, username: str) -> str:
    password = secrets.token_urlsafe(18)
    token, error = api.create_account(
        username,
        password,
        f"{username}@example.com",
        agreement=True,
        locale="en",
        return_detailed_error=True,
    )
    ensure(token is not None, f"registration of {username} was refused: {dict(error or {})}")
    return token


def run(recorder: Recorder, base_url: str, admin_token: str | None) -> None:
    raw = recorder.session()
    suffix = secrets.token_hex(4)
    alice_name, bob_name = f"alice_{suffix}", f"bob_{suffix}"

    step("instance: GET /api/v2/instance (raw)")
    instance = raw.get(f"{base_url}/api/v2/instance", timeout=REQUEST_TIMEOUT)
    ensure(instance.ok, f"GET /api/v2/instance answered {instance.status_code}")
    print(f"    version {instance.json().get('version')!r}")

    step("create app: POST /api/v1/apps")
    client_id, client_secret = Mastodon.create_app(
        "cascade-mastodon-py-flow",
        api_base_url=base_url,
        session=recorder.session(),
        request_timeout=REQUEST_TIMEOUT,
    )

    step("connect Mastodon.py and check the reported version: GET /api/v1/instance/, /api/v2/instance/")
    alice = client(base_url, recorder, client_id, client_secret)
    version = ".".join(map(str, (alice.mastodon_major, alice.mastodon_minor, alice.mastodon_patch)))
    print(f"    Mastodon.py sees version {version}, API version {alice.mastodon_api_version}")
    ensure(
        alice.verify_minimum_version(MIN_VERSION, cached=True),
        f"server reports version {version}, below {MIN_VERSION} (needed for quotes)",
    )
    bob = client(base_url, recorder, client_id, client_secret)

    step(f"register {alice_name} and {bob_name}: POST /oauth/token, POST /api/v1/accounts")
    register(alice, alice_name)
    register(bob, bob_name)

    step("verify credentials: GET /api/v1/accounts/verify_credentials")
    alice_me = alice.account_verify_credentials()
    bob_me = bob.account_verify_credentials()
    ensure(alice_me.username == alice_name, f"alice is {alice_me.username!r}")
    ensure(bob_me.username == bob_name, f"bob is {bob_me.username!r}")
    ensure(alice_me.acct == alice_name, f"local acct should be the bare username, got {alice_me.acct!r}")

    step("app credentials: GET /api/v1/apps/verify_credentials")
    app = bob.app_verify_credentials()
    ensure(app.name == "cascade-mastodon-py-flow", f"app name is {app.name!r}")

    step("account, unauthenticated: GET /api/v1/accounts/:id (raw)")
    account = raw.get(f"{base_url}/api/v1/accounts/{alice_me.id}", timeout=REQUEST_TIMEOUT)
    ensure(account.ok, f"GET /api/v1/accounts/{alice_me.id} answered {account.status_code}")
    ensure(account.json()["id"] == str(alice_me.id), "account lookup returned another account")

    if admin_token:
        step("admin credentials: GET /api/v1/accounts/verify_credentials (raw)")
        admin = raw.get(
            f"{base_url}/api/v1/accounts/verify_credentials",
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=REQUEST_TIMEOUT,
        )
        ensure(admin.ok, f"the admin token was refused ({admin.status_code})")

    step(f"{bob_name} follows {alice_name}: POST /api/v1/accounts/:id/follow")
    relationship = bob.account_follow(alice_me.id)
    ensure(relationship.id == alice_me.id, "relationship is about another account")
    ensure(relationship.following, f"bob is not following alice: {dict(relationship)}")

    step(f"{alice_name} posts: POST /api/v1/statuses")
    post = alice.status_post(
        f"Hello from {alice_name}, via Mastodon.py",
        visibility="public",
        quote_approval_policy="public",
    )
    ensure(post.account.id == alice_me.id, "the new status has another author")
    ensure(post.visibility == "public", f"visibility is {post.visibility!r}")

    step(f"{bob_name}'s home timeline shows it: GET /api/v1/timelines/home (polling)")

    def in_home() -> bool:
        return any(s.id == post.id for s in bob.timeline_home())

    poll("alice's post in bob's home timeline", in_home)

    step(f"{bob_name} favourites it: POST /api/v1/statuses/:id/favourite")
    favourited = bob.status_favourite(post.id)
    ensure(favourited.id == post.id, "favourite returned another status")
    ensure(favourited.favourited is True, "the favourited status says favourited != true")

    step(f"{bob_name} reblogs it: POST /api/v1/statuses/:id/reblog")
    reblog = bob.status_reblog(post.id)
    ensure(reblog.reblog is not None and reblog.reblog.id == post.id,
           "reblog did not return a status wrapping alice's post")
    ensure(reblog.reblog.reblogged is True, "the reblogged status says reblogged != true")

    step(f"{bob_name} quotes it: POST /api/v1/statuses with quoted_status_id")
    ensure(
        "quoted_status_id" in inspect.signature(Mastodon.status_post).parameters,
        "this Mastodon.py has no quoted_status_id: pin the version in requirements.txt",
    )
    quote_post = bob.status_post(f"{bob_name} quoting {alice_name}", quoted_status_id=post.id)
    quote = quote_post.get("quote")
    ensure(quote is not None, "the quoting status has no `quote`")
    if quote.get("state") == "pending":
        # A server may approve quotes in the background; wait for it.
        def accepted() -> Any:
            q = bob.status(quote_post.id).get("quote")
            return q if q and q.get("state") != "pending" else None

        quote = poll("the quote to leave the pending state", accepted)
    ensure(quote.get("state") == "accepted", f"quote state is {quote.get('state')!r}")
    quoted = quote.get("quoted_status")
    ensure(quoted is not None and quoted.id == post.id,
           f"quote.quoted_status is not alice's post: {quoted and quoted.id}")

    step(f"{alice_name}'s post counts 1 favourite, 1 reblog, 1 quote: GET /api/v1/statuses/:id")

    def counted() -> Any:
        s = alice.status(post.id)
        counts = (s.favourites_count, s.reblogs_count, s.get("quotes_count"))
        return s if counts == (1, 1, 1) else None

    try:
        poll("favourites_count, reblogs_count, quotes_count == 1, 1, 1", counted)
    except FlowError:
        s = alice.status(post.id)
        raise FlowError(
            f"counts on alice's post: favourites_count={s.favourites_count}, "
            f"reblogs_count={s.reblogs_count}, quotes_count={s.get('quotes_count')}; "
            "expected 1, 1, 1"
        ) from None

    step(f"{bob_name}'s view of it: favourited and reblogged")
    seen = bob.status(post.id)
    ensure(seen.favourited is True and seen.reblogged is True,
           f"bob sees favourited={seen.favourited}, reblogged={seen.reblogged}")

    for name in ("V1Instance", "Instance", "CredentialApplication", "Application", "Token",
                 "CredentialAccount", "Account", "Relationship", "Status", "Status[]"):
        ensure(name in recorder.checked, f"the flow never validated a {name}")
    checked = ", ".join(f"{n} x{c}" for n, c in sorted(recorder.checked.items()))
    print(f"schema-checked: {checked}")


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    base_url = argv[1].rstrip("/")
    admin_token = argv[2] if len(argv) == 3 else os.environ.get("CASCADE_ADMIN_TOKEN")
    # Mastodon.py warns (rather than fails) about a missing API version, a
    # deprecated endpoint and the like; for a compatibility test those are failures.
    warnings.filterwarnings("error", category=MastodonWarning)
    warnings.filterwarnings("error", category=UserWarning, module=r"mastodon(\.|$)")
    try:
        recorder = Recorder(SchemaChecker())
    except (OSError, RuntimeError) as e:
        print(f"FAIL: cannot load the OpenAPI schemas: {e}", file=sys.stderr, flush=True)
        return 1
    try:
        run(recorder, base_url, admin_token or None)
    except (FlowError, MastodonError, requests.RequestException, Warning) as e:
        reason: BaseException = recorder.failure or e
        cause = f" (caused by {type(reason.__cause__).__name__}: {reason.__cause__})" if reason.__cause__ else ""
        print(f"FAIL: {type(reason).__name__}: {reason}{cause}", file=sys.stderr, flush=True)
        return 1
    print("PASS: Mastodon.py flow (register, follow, post, home, favourite, reblog, quote)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
