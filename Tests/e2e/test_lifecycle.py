"""Lifecycle: SIGTERM shuts the hub down promptly with everything committed; a restart serves the same data."""

import time
import uuid

import pytest

from conftest import SSEClient


def test_sigterm_exits_promptly_and_restart_keeps_the_data(server):
    run = uuid.uuid4().hex[:8]
    acks = []
    for i in range(20):
        r = server.inbound(f"life-{run}-{i % 4}@example.test", f"m{i}", external_id=f"life-{run}-{i}")
        assert r.status_code == 201, r.text
        acks.append(r.json())

    started = time.monotonic()
    status = server.stop(grace=10)
    elapsed = time.monotonic() - started
    shutdown_log = server.log_tail()
    assert status is not None and status >= 0, f"SIGTERM did not end the server within 10s (status {status}):\n{shutdown_log}"
    assert elapsed < 10, f"graceful shutdown took {elapsed:.1f}s"

    server.start()
    conversations = server.paginate("/v1/conversations")
    assert len(conversations) == 4
    stored = set()
    for conversation in conversations:
        stored |= {m["id"] for m in server.paginate(f"/v1/conversations/{conversation['id']}/messages")}
    assert {a["messageId"] for a in acks} == stored

    # restart() is the same stop-and-start, on the same database.
    server.restart()
    r = server.inbound(f"life-{run}-0@example.test", "m0", external_id=f"life-{run}-0")
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") == "true", (r.status_code, dict(r.headers))
    assert r.json()["messageId"] == acks[0]["messageId"]

    # Checked last, so the data checks above run either way.
    assert status == 0, f"graceful shutdown exited with {status}:\n{shutdown_log}"


def test_sigterm_with_an_open_event_stream_exits(server):
    with SSEClient(server, read_timeout=30) as stream:
        assert stream.next_frame() == {"retry": "2000"}
        started = time.monotonic()
        status = server.stop(grace=5)
        elapsed = time.monotonic() - started
    assert status == 0 and elapsed < 5, f"SIGTERM with an open SSE stream: exit status {status} after {elapsed:.1f}s"
