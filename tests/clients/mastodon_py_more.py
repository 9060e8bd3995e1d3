#!/usr/bin/env python3
"""Drive a running Cascade server with Mastodon.py through the calls beyond the
basic flow: media uploads, polls, scheduled statuses, account notes, featured
tags, announcements and, with a staff token, the admin API.

    python mastodon_py_more.py BASE_URL [ADMIN_TOKEN]

Every JSON body is validated against the community OpenAPI schemas, as in
mastodon_py_flow.py (whose recorder, client set-up and helpers this reuses).
Each step is printed; any failure prints "FAIL: ..." and exits 1.
"""

from __future__ import annotations

import datetime
import io
import secrets
import struct
import sys
import warnings
import zlib
from pathlib import Path

import requests
from mastodon import Mastodon
from mastodon.errors import MastodonError, MastodonWarning

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mastodon_py_flow as flow  # noqa: E402
from mastodon_py_flow import ID, FlowError, client, ensure, poll, register, step  # noqa: E402
from schema_check import SchemaChecker  # noqa: E402

flow.ROUTES.extend(
    [
        ("POST", r"/api/v2/media", "MediaAttachment"),
        ("POST", r"/api/v1/media", "MediaAttachment"),
        ("GET", rf"/api/v1/media/{ID}", "MediaAttachment"),
        ("PUT", rf"/api/v1/media/{ID}", "MediaAttachment"),
        ("GET", rf"/api/v1/polls/{ID}", "Poll"),
        ("POST", rf"/api/v1/polls/{ID}/votes", "Poll"),
        ("GET", r"/api/v1/scheduled_statuses", "ScheduledStatus[]"),
        ("GET", rf"/api/v1/scheduled_statuses/{ID}", "ScheduledStatus"),
        ("POST", rf"/api/v1/accounts/{ID}/note", "Relationship"),
        ("GET", r"/api/v1/featured_tags", "FeaturedTag[]"),
        ("POST", r"/api/v1/featured_tags", "FeaturedTag"),
        ("GET", r"/api/v1/announcements", "Announcement[]"),
        ("GET", r"/api/v[12]/admin/accounts", "AdminAccount[]"),
        ("GET", rf"/api/v1/admin/accounts/{ID}", "AdminAccount"),
        ("POST", rf"/api/v1/admin/accounts/{ID}/unsilence", "AdminAccount"),
        ("POST", rf"/api/v1/admin/accounts/{ID}/action", "{}"),
        ("POST", r"/api/v1/reports", "Report"),
        ("GET", r"/api/v1/admin/reports", "AdminReport[]"),
        ("GET", rf"/api/v1/admin/reports/{ID}", "AdminReport"),
        ("POST", rf"/api/v1/admin/reports/{ID}/(assign_to_self|resolve)", "AdminReport"),
        ("POST", r"/api/v1/admin/ip_blocks", "AdminIpBlock"),
        ("GET", r"/api/v1/admin/ip_blocks", "AdminIpBlock[]"),
        ("POST", r"/api/v1/admin/canonical_email_blocks", "AdminCanonicalEmailBlock"),
        ("POST", r"/api/v1/admin/measures", "AdminMeasure[]"),
        ("POST", r"/api/v1/admin/dimensions", "AdminDimension[]"),
        ("GET", r"/api/v1/custom_emojis", "CustomEmoji[]"),
    ]
)


class Recorder(flow.Recorder):
    """Posting with `scheduled_at` answers a ScheduledStatus, not a Status."""

    def _check(self, response: requests.Response) -> None:
        if (
            response.request.method == "POST"
            and response.request.url.rstrip("/").endswith("/api/v1/statuses")
            and response.status_code < 400
            and "scheduled_at" in response.json()
            and "params" in response.json()
        ):
            self.checker.check("ScheduledStatus", response.json(), what="POST /api/v1/statuses (scheduled)")
            return
        super()._check(response)


def png(width: int, height: int) -> bytes:
    """A small RGB PNG drawn here: a gradient, no file needed."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 128))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def run(recorder: Recorder, base_url: str, admin_token: str | None) -> None:
    suffix = secrets.token_hex(4)
    carol_name, dave_name = f"carol_{suffix}", f"dave_{suffix}"
    client_id, client_secret = Mastodon.create_app(
        "cascade-mastodon-py-more", api_base_url=base_url, session=recorder.session(), request_timeout=flow.REQUEST_TIMEOUT
    )
    carol = client(base_url, recorder, client_id, client_secret)
    dave = client(base_url, recorder, client_id, client_secret)
    register(carol, carol_name)
    register(dave, dave_name)
    dave_me = dave.account_verify_credentials()

    step("media_post: POST /api/v2/media with a PNG and alt text")
    media = carol.media_post(io.BytesIO(png(64, 48)), mime_type="image/png", description="A gradient", synchronous=True)
    ensure(media.type == "image", f"media type is {media.type!r}")
    ensure(media.description == "A gradient", f"description is {media.description!r}")
    ensure(media.meta.original.width == 64 and media.meta.original.height == 48, f"meta is {dict(media.meta)}")

    step("status_post(media_ids=...): the picture attached and served")
    pictured = carol.status_post("A picture for you", media_ids=[media.id], sensitive=True, spoiler_text="colours")
    ensure([m.id for m in pictured.media_attachments] == [media.id], "the attachment is missing")
    served = requests.get(pictured.media_attachments[0].url, timeout=flow.REQUEST_TIMEOUT)
    ensure(served.ok and served.headers.get("Content-Type", "").startswith("image/"), f"media URL answered {served.status_code}")

    step("poll: status_post(poll=make_poll(...)), poll_vote")
    polled = carol.status_post("Tea or coffee?", poll=carol.make_poll(["tea", "coffee"], expires_in=3600))
    ensure(polled.poll is not None and len(polled.poll.options) == 2, "the poll is missing")
    voted = dave.poll_vote(polled.poll.id, [1])
    ensure(voted.voted and voted.own_votes == [1], f"the vote is not recorded: {dict(voted)}")
    ensure(voted.options[1].votes_count == 1, f"coffee has {voted.options[1].votes_count} votes")
    again = carol.poll(polled.poll.id)
    ensure(again.votes_count == 1, f"the poll counts {again.votes_count} votes")

    step("scheduled status: status_post(scheduled_at=...), scheduled_statuses()")
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)
    scheduled = carol.status_post("Later, please", scheduled_at=when)
    listed = carol.scheduled_statuses()
    ensure(any(s.id == scheduled.id for s in listed), "the scheduled status is not listed")

    step("account_note_set: POST /api/v1/accounts/:id/note")
    relationship = carol.account_note_set(dave_me.id, "Met at the tea party")
    ensure(relationship.note == "Met at the tea party", f"note is {relationship.note!r}")

    step("featured tags: featured_tag_create, featured_tags")
    carol.featured_tag_create(f"tea{suffix}")
    ensure(any(t.name == f"tea{suffix}" for t in carol.featured_tags()), "the featured tag is not listed")

    step("announcements: announcements()")
    ensure(isinstance(carol.announcements(), list), "announcements are not a list")

    step("custom_emojis()")
    ensure(isinstance(carol.custom_emojis(), list), "custom emojis are not a list")

    if admin_token:
        admin(recorder, base_url, admin_token, carol, dave_me)


def admin(recorder: Recorder, base_url: str, token: str, carol: Mastodon, dave_me) -> None:
    staff = Mastodon(
        access_token=token, api_base_url=base_url, session=recorder.session(), request_timeout=flow.REQUEST_TIMEOUT
    )
    staff.retrieve_mastodon_version(fail_hard=True)
    staff.version_check_mode = "created"

    step("admin_accounts_v2: GET /api/v2/admin/accounts")
    accounts = staff.admin_accounts_v2(origin="local", status="active")
    ensure(any(a.id == dave_me.id for a in accounts), "dave is not listed")

    step("admin_account_moderate(silence) with a warning, admin_account_unsilence")
    staff.admin_account_moderate(dave_me.id, "silence", text="Please slow down")
    ensure(staff.admin_account(dave_me.id).silenced, "dave is not silenced")
    ensure(not staff.admin_account_unsilence(dave_me.id).silenced, "dave is still silenced")

    step("admin_reports: a report filed by carol, assigned and resolved")
    report = carol.report(dave_me.id, comment="test report", category="other")
    listed = staff.admin_reports()
    ensure(any(r.id == report.id for r in listed), "the report is not listed")
    ensure(staff.admin_report_assign(report.id).assigned_account is not None, "the report is not assigned")
    ensure(staff.admin_report_resolve(report.id).action_taken, "the report is not resolved")

    step("admin_create_ip_block, admin_ip_blocks, admin_create_canonical_email_block")
    block = staff.admin_create_ip_block("198.51.100.0/24", "sign_up_block", comment="test")
    ensure(block.ip == "198.51.100.0/24", f"ip is {block.ip!r}")
    ensure(any(b.id == block.id for b in staff.admin_ip_blocks()), "the IP block is not listed")
    email = staff.admin_create_canonical_email_block(email="some.one+x@example.org")
    ensure(len(email.canonical_email_hash) == 64, "the canonical hash is missing")

    step("admin_measures, admin_dimensions")
    now = datetime.datetime.now(datetime.timezone.utc)
    week = now - datetime.timedelta(days=6)
    measures = staff.admin_measures(week, now, new_users=True, interactions=True)
    ensure([m.key for m in measures] == ["new_users", "interactions"], f"measures are {[m.key for m in measures]}")
    ensure(int(measures[0].total) >= 2, f"new users total {measures[0].total}")
    dimensions = staff.admin_dimensions(week, now, languages=True, software_versions=True)
    ensure(len(dimensions) == 2, "the dimensions are missing")


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    warnings.filterwarnings("error", category=MastodonWarning)
    warnings.filterwarnings("error", category=UserWarning, module=r"mastodon(\.|$)")
    try:
        recorder = Recorder(SchemaChecker())
    except (OSError, RuntimeError) as e:
        print(f"FAIL: cannot load the OpenAPI schemas: {e}", file=sys.stderr, flush=True)
        return 1
    try:
        run(recorder, argv[1].rstrip("/"), argv[2] if len(argv) == 3 else None)
    except (FlowError, MastodonError, requests.RequestException, Warning) as e:
        reason: BaseException = recorder.failure or e
        print(f"FAIL: {type(reason).__name__}: {reason}", file=sys.stderr, flush=True)
        return 1
    print("PASS: Mastodon.py (media, poll, scheduled, note, featured tags, announcements, admin)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
