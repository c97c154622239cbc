"""Durability: an acknowledged inbound message survives `kill -9`, exactly once, and replays idempotently."""

import threading
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed

import requests

N = 300
WORKERS = 16
SENDERS = 30  # N messages spread over this many customers, so there are several conversations to page through


def make_bodies(run: str, n: int = N) -> list:
    return [
        {
            "from": f"durability-{run}-{i % SENDERS}@example.test",
            "name": f"Sender {i % SENDERS}",
            "text": f"message {i} of run {run}",
            "externalId": f"dur-{run}-{i:04d}",
        }
        for i in range(n)
    ]


class ThreadSessions:
    """One requests.Session per worker thread (a Session is not meant to be shared across threads)."""

    def __init__(self):
        self.local = threading.local()
        self.all = []
        self.lock = threading.Lock()

    def get(self) -> requests.Session:
        session = getattr(self.local, "session", None)
        if session is None:
            session = requests.Session()
            self.local.session = session
            with self.lock:
                self.all.append(session)
        return session

    def close(self):
        for session in self.all:
            session.close()


def post_all(server, bodies, on_ack=None) -> dict:
    """POSTs every body to /v1/inbound from a pool of WORKERS threads.

    Returns {externalId: (status, json or None, Idempotent-Replayed header or None)}; a
    request that failed at the connection level is recorded as status None.
    """
    sessions = ThreadSessions()
    results = {}

    def send(body):
        session = sessions.get()
        try:
            r = session.post(server.url("/v1/inbound"), json=body, headers=server.headers(), timeout=60)
        except requests.RequestException as error:
            return body["externalId"], (None, str(error), None)
        try:
            payload = r.json()
        except ValueError:
            payload = r.text
        return body["externalId"], (r.status_code, payload, r.headers.get("Idempotent-Replayed"))

    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = [pool.submit(send, body) for body in bodies]
            for future in as_completed(futures):
                external_id, outcome = future.result()
                results[external_id] = outcome
                if on_ack is not None and outcome[0] == 201:
                    on_ack(external_id)
    finally:
        sessions.close()
    return results


def stored_inbound(server) -> dict:
    """Walks every conversation and every message with small pages: {externalId: [message, …]}.

    Also checks that the walk itself is consistent (no conversation or message listed twice).
    """
    conversations = server.paginate("/v1/conversations", limit=7)
    conversation_ids = [c["id"] for c in conversations]
    assert len(conversation_ids) == len(set(conversation_ids)), "a conversation was listed twice"
    found = defaultdict(list)
    message_ids = set()
    for conversation in conversations:
        messages = server.paginate(f"/v1/conversations/{conversation['id']}/messages", limit=4)
        for message in messages:
            assert message["id"] not in message_ids, f"message {message['id']} listed twice"
            message_ids.add(message["id"])
            assert message["conversationId"] == conversation["id"], message
            if message["direction"] == "inbound":
                found[message.get("externalId")].append(message)
    return found


def check_exactly_once(found: dict, acks: dict):
    """Every acknowledged externalId is stored once, under the messageId and conversation it was acknowledged with."""
    missing = [eid for eid in acks if eid not in found]
    assert not missing, f"{len(missing)} acknowledged messages lost after kill -9, e.g. {missing[:5]}"
    duplicated = {eid: len(msgs) for eid, msgs in found.items() if len(msgs) != 1}
    assert not duplicated, f"stored more than once: {dict(list(duplicated.items())[:5])}"
    for eid, ack in acks.items():
        message = found[eid][0]
        assert message["id"] == ack["messageId"], (eid, message["id"], ack)
        assert message["conversationId"] == ack["conversationId"], (eid, message, ack)


def test_acknowledged_messages_survive_kill9_and_replay_idempotently(server):
    run = uuid.uuid4().hex[:8]
    bodies = make_bodies(run)

    results = post_all(server, bodies)
    # The moment the last acknowledgement is in: no graceful shutdown, no chance to flush.
    server.kill9()

    failures = {eid: r for eid, r in results.items() if r[0] != 201}
    assert not failures, f"{len(failures)} inbound requests not acknowledged with 201, e.g. {list(failures.items())[:3]}"
    assert len(results) == N
    acks = {eid: payload for eid, (status, payload, replayed) in results.items()}
    for eid, (status, payload, replayed) in results.items():
        assert set(payload) >= {"messageId", "conversationId", "customerId"}, payload
        assert replayed is None, f"first delivery of {eid} answered Idempotent-Replayed: {replayed}"
    assert len({a["messageId"] for a in acks.values()}) == N, "two acknowledgements share a messageId"
    assert len({a["conversationId"] for a in acks.values()}) == SENDERS
    assert len({a["customerId"] for a in acks.values()}) == SENDERS

    server.start()

    found = stored_inbound(server)
    check_exactly_once(found, acks)
    assert sum(len(m) for m in found.values()) == N, "messages stored that were never sent"
    assert len(server.paginate("/v1/conversations")) == SENDERS

    # Replay every externalId: the same ids, flagged as replays, nothing stored twice.
    replays = post_all(server, bodies)
    assert len(replays) == N
    for eid, (status, payload, replayed) in replays.items():
        assert status == 201, (eid, status, payload)
        assert replayed == "true", f"replay of {eid} lacks Idempotent-Replayed: true (got {replayed!r})"
        assert payload["messageId"] == acks[eid]["messageId"], (eid, payload, acks[eid])
        assert payload["conversationId"] == acks[eid]["conversationId"], (eid, payload, acks[eid])
        assert payload["customerId"] == acks[eid]["customerId"], (eid, payload, acks[eid])

    found_after_replay = stored_inbound(server)
    check_exactly_once(found_after_replay, acks)
    assert sum(len(m) for m in found_after_replay.values()) == N, "the replay stored messages again"


def test_kill9_mid_load_loses_no_acknowledged_message(server):
    """SIGKILL while requests are still in flight: whatever was acknowledged is there once; the rest can be resent."""
    run = uuid.uuid4().hex[:8]
    bodies = make_bodies(run)
    acked_before_kill = []
    killed = threading.Event()
    lock = threading.Lock()

    def on_ack(external_id):
        with lock:
            if killed.is_set():
                return
            acked_before_kill.append(external_id)
            if len(acked_before_kill) >= N // 2:
                killed.set()
                server.kill9()

    results = post_all(server, bodies, on_ack=on_ack)
    assert killed.is_set(), "the server was never killed (fewer than N/2 acknowledgements)"
    if server.proc.poll() is None:
        server.kill9()

    # Every 201 the client received, before or racing with the kill, was a promise.
    acks = {eid: payload for eid, (status, payload, _) in results.items() if status == 201}
    assert len(acks) >= N // 2
    for eid, (status, payload, _) in results.items():
        assert status in (201, None), f"{eid}: unexpected answer {status} {payload}"

    server.start()
    found = stored_inbound(server)
    check_exactly_once(found, acks)
    assert set(found) <= {b["externalId"] for b in bodies}, "stored a message that was never sent"

    # Resend all N: the acknowledged ones are replays with their ids; the others are stored now or were already.
    resent = post_all(server, bodies)
    for eid, (status, payload, replayed) in resent.items():
        assert status == 201, (eid, status, payload)
        if eid in acks:
            assert replayed == "true", (eid, replayed)
            assert payload["messageId"] == acks[eid]["messageId"], (eid, payload, acks[eid])
        elif eid in found:
            assert replayed == "true", (eid, replayed)
            assert payload["messageId"] == found[eid][0]["id"], (eid, payload, found[eid])
        else:
            assert replayed is None, (eid, replayed)

    final = stored_inbound(server)
    final_acks = {eid: payload for eid, (status, payload, _) in resent.items()}
    check_exactly_once(final, final_acks)
    assert sorted(final) == sorted(b["externalId"] for b in bodies)
    assert sum(len(m) for m in final.values()) == N
