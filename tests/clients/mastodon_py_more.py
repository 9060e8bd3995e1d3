#!/usr/bin/env python3
"""Drive a running Cascade server with Mastodon.py through the calls beyond the
basic flow: media uploads, polls, scheduled statuses, account notes, featured
tags and announcements.

    python mastodon_py_more.py BASE_URL

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


def run(recorder: Recorder, base_url: str) -> None:
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


def main(argv: list[str]) -> int:
    if len(argv) != 2:
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
        run(recorder, argv[1].rstrip("/"))
    except (FlowError, MastodonError, requests.RequestException, Warning) as e:
        reason: BaseException = recorder.failure or e
        print(f"FAIL: {type(reason).__name__}: {reason}", file=sys.stderr, flush=True)
        return 1
    print("PASS: Mastodon.py (media, poll, scheduled, note, featured tags, announcements)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
