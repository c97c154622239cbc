"""Web chat: the visitor API under /webchat and its WebSocket, against a real server.

WebSocket parts run with `asyncio.run(...)` inside plain test functions; every read has a
timeout, so a frame that never comes fails the test instead of hanging it.
"""

import asyncio
import hashlib
import hmac
import inspect
import json
import threading
import time
import uuid

import requests
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import SSEClient, assert_error, get_conversation, messages_of, wait_for

INJECTION = "<img src=x onerror=alert(1)>"
WS_TIMEOUT = 5.0

# websockets >= 15 routes through $HTTP(S)_PROXY by default; a loopback test must not.
_NO_PROXY = {"proxy": None} if "proxy" in inspect.signature(connect.__init__).parameters else {}


# -- the visitor's HTTP side ------------------------------------------------------------------


def client_id() -> str:
    return uuid.uuid4().hex


def visitor_request(server, method: str, path: str, token: str = None, headers: dict = None, **kwargs) -> requests.Response:
    """A call as the widget makes it: the visitor token (or none), never the admin token."""
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    kwargs.setdefault("timeout", 10)
    return server.session.request(method, server.url(path), headers=all_headers, **kwargs)


def start_session(server, headers: dict = None, **fields) -> requests.Response:
    return visitor_request(server, "POST", "/webchat/v1/sessions", json={"site": "default", **fields}, headers=headers)


def new_visitor(server, **fields) -> dict:
    r = start_session(server, **fields)
    assert r.status_code == 201, f"{r.status_code} {r.text}"
    session = r.json()
    assert session["token"].startswith("vt_"), session
    assert session["visitorId"].startswith("vis_"), session
    assert session["site"] == "default", session
    assert isinstance(session["agentsOnline"], bool), session
    return session


def send(server, token: str, text: str, cid: str = None) -> requests.Response:
    """POSTs a message as the widget does: JSON.stringify keeps non-ASCII as raw UTF-8 (requests' json= would escape it)."""
    body = json.dumps({"text": text, "clientId": cid or client_id()}, ensure_ascii=False).encode("utf-8")
    return visitor_request(server, "POST", "/webchat/v1/messages", token, data=body, headers={"Content-Type": "application/json"})


def sent(server, token: str, text: str, cid: str = None) -> dict:
    """Sends a message and checks the answer is the stored VisitorMessage."""
    cid = cid or client_id()
    r = send(server, token, text, cid)
    assert r.status_code == 201, f"{r.status_code} {r.text}"
    message = r.json()
    assert message["id"].startswith("msg_"), message
    assert message["conversationId"].startswith("conv_"), message
    assert message["from"] == "visitor", message
    assert message["text"] == text, message
    assert message["clientId"] == cid, message
    assert isinstance(message["createdAt"], str) and message["createdAt"], message
    return message


def transcript(server, token: str, after: str = None) -> list:
    params = {} if after is None else {"after": after}
    r = visitor_request(server, "GET", "/webchat/v1/messages", token, params=params)
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    items = r.json()["items"]
    ids = [m["id"] for m in items]
    assert ids == sorted(set(ids)), f"transcript not oldest first / duplicated: {ids}"
    return items


def visible(message: dict) -> tuple:
    """What the widget shows of a message (createdAt may be re-encoded at another precision after a reload)."""
    return (message["id"], message["conversationId"], message["from"], message["text"], message.get("clientId"))


def assert_bad_request(r: requests.Response):
    """Bad input is refused as everywhere in the API: 400 invalid_body for a body that cannot be read,
    422 invalid_<field> for a field that is refused."""
    error = assert_error(r, r.status_code)
    if r.status_code == 400:
        assert error["code"] == "invalid_body", error
    else:
        assert r.status_code == 422 and error["code"].startswith("invalid_"), error


# -- the agent's side (the inbox API with the admin token) ------------------------------------


def inbound(server, conversation_id: str) -> list:
    return [m for m in messages_of(server, conversation_id) if m["direction"] == "inbound"]


def webchat_conversations(server) -> list:
    return server.paginate("/v1/conversations", params={"channel": "webchat"})


def reply(server, conversation_id: str, text: str, private: bool = False) -> dict:
    body = {"text": text, "private": True} if private else {"text": text}
    r = server.post(f"/v1/conversations/{conversation_id}/messages", json=body, timeout=10)
    assert r.status_code == 202, f"{r.status_code} {r.text}"
    return r.json()


def agent_typing(server, conversation_id: str):
    r = server.post(f"/v1/conversations/{conversation_id}/typing", timeout=10)
    assert r.status_code == 204, f"{r.status_code} {r.text}"


# -- the visitor's WebSocket ------------------------------------------------------------------


def ws_url(server) -> str:
    return server.base_url.replace("http://", "ws://", 1) + "/webchat/v1/ws"


async def ws_connect(server, origin: str = None):
    return await connect(ws_url(server), origin=origin, open_timeout=WS_TIMEOUT, close_timeout=2, compression=None, **_NO_PROXY)


class VisitorSocket:
    """An open, authenticated visitor WebSocket: `hello` sent, `ready` received; every frame kept in `frames`."""

    def __init__(self, ws):
        self.ws = ws
        self.ready = None
        self.frames = []

    @classmethod
    async def open(cls, server, token: str, after: str = None, origin: str = None) -> "VisitorSocket":
        sock = cls(await ws_connect(server, origin))
        try:
            await sock.send({"type": "hello", "token": token, "after": after})
            sock.ready = await sock.next()
            assert sock.ready["type"] == "ready", sock.ready
            assert isinstance(sock.ready["agentsOnline"], bool), sock.ready
        except BaseException:
            await sock.close()
            raise
        return sock

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        try:
            await asyncio.wait_for(self.ws.close(), 3)
        except Exception:
            pass

    async def send(self, frame: dict):
        await self.ws.send(json.dumps(frame))

    async def next(self, timeout: float = WS_TIMEOUT) -> dict:
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no frame within {timeout}s; frames so far: {self.frames}") from None
        frame = json.loads(raw)
        self.frames.append(frame)
        return frame

    async def until(self, predicate, timeout: float = WS_TIMEOUT) -> list:
        """Frames up to and including the first that satisfies `predicate`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        got = []
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no matching frame within {timeout}s; got {got}")
            try:
                frame = await self.next(remaining)
            except AssertionError:
                raise AssertionError(f"no matching frame within {timeout}s; got {got}") from None
            got.append(frame)
            if predicate(frame):
                return got

    async def post(self, text: str, cid: str = None) -> dict:
        """Sends a `message` frame and waits until both its ack and its `message` frame arrived; returns the ack."""
        cid = cid or client_id()
        await self.send({"type": "message", "text": text, "clientId": cid})
        ack = (await self.until(lambda f: f["type"] == "ack" and f["clientId"] == cid))[-1]
        message = ack["message"]
        assert message["from"] == "visitor" and message["text"] == text and message["clientId"] == cid, ack
        if not any(is_message(message["id"])(f) for f in self.frames):
            await self.until(is_message(message["id"]))
        return ack

    def message_ids(self) -> list:
        return [f["message"]["id"] for f in self.frames if f["type"] == "message"]


def is_message(message_id: str):
    return lambda f: f["type"] == "message" and f["message"]["id"] == message_id


def run(coroutine, timeout: float = 20.0):
    """Runs one test's async part with an overall timeout."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def hmac_hex(secret: str, identifier: str) -> str:
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


# -- sessions ----------------------------------------------------------------------------------


def test_session_token_authenticates_and_an_unknown_token_is_refused(server):
    """A session's token opens GET /session (same shape minus the token); unknown tokens get 401, and a WebSocket 4401."""
    session = new_visitor(server, name="Ana", email="ana@example.com")
    assert session["name"] == "Ana" and session["email"] == "ana@example.com", session

    r = visitor_request(server, "GET", "/webchat/v1/session", session["token"])
    assert r.status_code == 200, r.text
    again = r.json()
    assert "token" not in again, again
    assert again == {k: v for k, v in session.items() if k != "token"}, (again, session)

    for token in (f"vt_{uuid.uuid4().hex}", server.admin_token, ""):
        assert_error(visitor_request(server, "GET", "/webchat/v1/session", token), 401, "unauthorized")
        assert_error(visitor_request(server, "GET", "/webchat/v1/messages", token), 401, "unauthorized")
    assert_error(visitor_request(server, "GET", "/webchat/v1/session"), 401, "unauthorized")
    assert_error(send(server, f"vt_{uuid.uuid4().hex}", "hello?"), 401, "unauthorized")

    async def unknown_token_closes_4401():
        ws = await ws_connect(server)
        try:
            await ws.send(json.dumps({"type": "hello", "token": f"vt_{uuid.uuid4().hex}", "after": None}))
            try:
                frame = await asyncio.wait_for(ws.recv(), WS_TIMEOUT)
            except ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 4401, closed
            else:
                raise AssertionError(f"an unknown token got a frame instead of close 4401: {frame}")
        finally:
            await ws.close()

    run(unknown_token_closes_4401())


# -- messages ----------------------------------------------------------------------------------


def test_message_is_stored_once_per_client_id_and_reaches_the_inbox(server):
    """The same clientId twice stores one message (the replay says so); it is an inbound message of a webchat conversation."""
    visitor = new_visitor(server, name="Ana")
    cid = client_id()
    r = send(server, visitor["token"], "Where is my order?", cid)
    assert r.status_code == 201, r.text
    assert r.headers.get("Idempotent-Replayed") is None, dict(r.headers)
    first = r.json()

    replay = send(server, visitor["token"], "Where is my order?", cid)
    assert replay.status_code == 201, replay.text
    assert replay.headers.get("Idempotent-Replayed") == "true", dict(replay.headers)
    assert replay.json()["id"] == first["id"], (replay.json(), first)

    # A client id is the visitor's own: another visitor using the same one stores its own message.
    other = new_visitor(server)
    theirs = sent(server, other["token"], "Where is my order?", cid)
    assert theirs["id"] != first["id"] and theirs["conversationId"] != first["conversationId"]

    assert [(m["id"], m["text"], m["from"]) for m in transcript(server, visitor["token"])] == [
        (first["id"], "Where is my order?", "visitor")
    ]

    conversations = {c["id"]: c for c in webchat_conversations(server)}
    assert first["conversationId"] in conversations, conversations
    assert conversations[first["conversationId"]]["channel"] == "webchat"
    assert all(c["channel"] == "webchat" for c in conversations.values()), conversations
    messages = messages_of(server, first["conversationId"])
    assert [(m["id"], m["direction"], m["kind"], m["text"]) for m in messages] == [
        (first["id"], "inbound", "message", "Where is my order?")
    ], messages


def test_markup_comes_back_literal_from_both_apis(server):
    """Visitor text with markup is stored and returned byte for byte, to the visitor and to the inbox; so is an agent's."""
    visitor = new_visitor(server)
    texts = [INJECTION, "</script><script>alert(1)</script> &amp; & \"q\" 'a' \\ \u00e9\u4f60\u597d \U0001F600"]
    stored = [sent(server, visitor["token"], text) for text in texts]
    conversation_id = stored[0]["conversationId"]
    agent_text = "<b>bold</b> &lt;not a tag&gt; <script>x</script>"
    answer = reply(server, conversation_id, agent_text)

    items = transcript(server, visitor["token"])
    assert [(m["from"], m["text"]) for m in items] == [("visitor", t) for t in texts] + [("agent", agent_text)], items
    assert items[-1]["id"] == answer["id"]

    inbox = messages_of(server, conversation_id)
    assert [m["text"] for m in inbox if m["direction"] == "inbound"] == texts, inbox
    assert [m["text"] for m in inbox if m["direction"] == "outbound"] == [agent_text], inbox
    assert [m["id"] for m in inbox if m["direction"] == "inbound"] == [m["id"] for m in stored], inbox


def test_agent_reply_reaches_the_socket_and_a_private_note_never_does(server):
    """An agent reply arrives live as a from=agent `message` frame; a note posted just before it never reaches the visitor."""
    visitor = new_visitor(server)
    first = sent(server, visitor["token"], "Anyone there?")
    conversation_id = first["conversationId"]
    note_text = f"internal note {uuid.uuid4().hex}: do not show"

    async def scenario():
        async with await VisitorSocket.open(server, visitor["token"], after=first["id"]) as sock:
            note = await asyncio.to_thread(reply, server, conversation_id, note_text, True)
            started = time.monotonic()
            answer = await asyncio.to_thread(reply, server, conversation_id, "Hello from an agent")
            frames = await sock.until(is_message(answer["id"]))
            elapsed = time.monotonic() - started
            return note, answer, frames, elapsed, list(sock.frames)

    note, answer, frames, elapsed, all_frames = run(scenario())
    assert note["kind"] == "note", note
    message = frames[-1]["message"]
    assert message["from"] == "agent" and message["text"] == "Hello from an agent", message
    assert message["conversationId"] == conversation_id, message
    assert elapsed < 5, f"reply took {elapsed:.2f}s to reach the socket"
    # The note was stored first: had it been sent, it would have come before the reply.
    assert note_text not in json.dumps(all_frames), all_frames
    assert note["id"] not in json.dumps(all_frames), all_frames

    items = transcript(server, visitor["token"])
    assert [(m["id"], m["from"]) for m in items] == [(first["id"], "visitor"), (answer["id"], "agent")], items
    assert note_text not in json.dumps(items)
    # The note exists for agents, so its absence above means something.
    assert [m["kind"] for m in messages_of(server, conversation_id) if m["text"] == note_text] == ["note"]


def test_resume_after_an_id_delivers_only_later_messages_once(server):
    """hello with `after` = the first message: the backlog is exactly the later messages, then live ones, none twice."""
    visitor = new_visitor(server)
    m1, m2, m3 = (sent(server, visitor["token"], f"message {i}") for i in (1, 2, 3))
    conversation_id = m1["conversationId"]
    assert m2["conversationId"] == m3["conversationId"] == conversation_id
    a1 = reply(server, conversation_id, "first answer")

    async def scenario():
        async with await VisitorSocket.open(server, visitor["token"], after=m1["id"]) as sock:
            await sock.until(is_message(a1["id"]))
            backlog = sock.message_ids()
            ack = await sock.post("sent over the socket")
            a2 = await asyncio.to_thread(reply, server, conversation_id, "second answer")
            await sock.until(is_message(a2["id"]))
            resumed = sock.message_ids()
        async with await VisitorSocket.open(server, visitor["token"], after=None) as sock:
            await sock.until(is_message(a2["id"]))
            everything = sock.message_ids()
        return backlog, ack, a2, resumed, everything

    backlog, ack, a2, resumed, everything = run(scenario())
    assert backlog == [m2["id"], m3["id"], a1["id"]], backlog
    assert resumed == [m2["id"], m3["id"], a1["id"], ack["message"]["id"], a2["id"]], resumed
    assert resumed == sorted(set(resumed)), f"not increasing / duplicated: {resumed}"
    assert everything == [m1["id"]] + resumed, everything
    assert [m["id"] for m in transcript(server, visitor["token"], after=m1["id"])] == resumed


def test_long_poll_holds_then_answers_with_the_reply(server):
    """GET /messages?wait= holds while nothing is new and answers as soon as an agent replies."""
    visitor = new_visitor(server)
    first = sent(server, visitor["token"], "hello over long poll")

    started = time.monotonic()
    r = visitor_request(server, "GET", "/webchat/v1/messages", visitor["token"], params={"after": first["id"], "wait": 1})
    held = time.monotonic() - started
    assert r.status_code == 200 and r.json() == {"items": []}, r.text
    assert 0.8 <= held < 4, f"wait=1 held {held:.2f}s"

    result = {}

    def poll():
        t0 = time.monotonic()
        result["response"] = visitor_request(
            server, "GET", "/webchat/v1/messages", visitor["token"], params={"after": first["id"], "wait": 10}, timeout=15
        )
        result["elapsed"] = time.monotonic() - t0

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.5)
    answer = reply(server, first["conversationId"], "answer to the long poll")
    poller.join(15)
    assert not poller.is_alive(), "the long poll did not answer"
    assert result["response"].status_code == 200, result["response"].text
    assert [m["id"] for m in result["response"].json()["items"]] == [answer["id"]], result["response"].text
    assert result["elapsed"] < 4, f"the long poll answered {result['elapsed']:.2f}s after it started"


def test_agent_typing_reaches_the_visitor(server):
    """POST /v1/conversations/{id}/typing arrives as {"type":"typing","from":"agent"}; visitor typing and ping are accepted."""
    visitor = new_visitor(server)
    first = sent(server, visitor["token"], "typing test")

    async def scenario():
        async with await VisitorSocket.open(server, visitor["token"], after=first["id"]) as sock:
            await asyncio.to_thread(agent_typing, server, first["conversationId"])
            typing = (await sock.until(lambda f: f["type"] == "typing"))[-1]
            await sock.send({"type": "typing"})
            await sock.send({"type": "ping"})
            between = await sock.until(lambda f: f["type"] == "pong")
            return typing, between

    typing, between = run(scenario())
    assert typing == {"type": "typing", "from": "agent"}, typing
    assert [f for f in between if f["type"] == "error"] == [], between

    r = visitor_request(server, "POST", "/webchat/v1/typing", visitor["token"])
    assert r.status_code == 204, r.text
    assert [m["id"] for m in transcript(server, visitor["token"])] == [first["id"]], "typing stored a message"


# -- origins, limits, bad input ----------------------------------------------------------------


def test_only_allowed_origins_may_call_or_open_a_socket(make_server):
    """allowedOrigins: a foreign Origin gets 403 and no socket; the allowed one gets CORS headers and a preflight."""
    server = make_server({"webchat": {"allowedOrigins": ["https://shop.example"]}})
    shop, evil = "https://shop.example", "https://evil.example"

    r = start_session(server, headers={"Origin": evil})
    assert_error(r, 403, "origin_not_allowed")
    assert r.headers.get("Access-Control-Allow-Origin") not in (evil, "*"), dict(r.headers)

    r = start_session(server, headers={"Origin": shop})
    assert r.status_code == 201, r.text
    assert r.headers.get("Access-Control-Allow-Origin") == shop, dict(r.headers)
    token = r.json()["token"]

    # The hub's own origin (the demo page) and calls without Origin (curl, servers) are allowed.
    assert start_session(server, headers={"Origin": server.base_url}).status_code == 201
    assert start_session(server).status_code == 201

    preflight = server.session.options(
        server.url("/webchat/v1/messages"),
        headers={
            "Origin": shop,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
        timeout=10,
    )
    assert preflight.status_code == 204, f"{preflight.status_code} {preflight.text}"
    assert preflight.headers.get("Access-Control-Allow-Origin") == shop, dict(preflight.headers)
    methods = {m.strip().upper() for m in preflight.headers.get("Access-Control-Allow-Methods", "").split(",")}
    assert {"GET", "POST"} <= methods, dict(preflight.headers)
    allowed_headers = {h.strip().lower() for h in preflight.headers.get("Access-Control-Allow-Headers", "").split(",")}
    assert {"authorization", "content-type"} <= allowed_headers, dict(preflight.headers)

    evil_preflight = server.session.options(
        server.url("/webchat/v1/messages"),
        headers={"Origin": evil, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert evil_preflight.headers.get("Access-Control-Allow-Origin") not in (evil, "*"), dict(evil_preflight.headers)

    # A valid token does not help a foreign page.
    r = visitor_request(server, "POST", "/webchat/v1/messages", token, headers={"Origin": evil}, json={"text": "hi", "clientId": client_id()})
    assert_error(r, 403, "origin_not_allowed")
    r = visitor_request(server, "POST", "/webchat/v1/messages", token, headers={"Origin": shop}, json={"text": "hi", "clientId": client_id()})
    assert r.status_code == 201, r.text
    assert r.headers.get("Access-Control-Allow-Origin") == shop, dict(r.headers)

    async def sockets():
        try:
            ws = await ws_connect(server, origin=evil)
        except InvalidStatus as refused:
            status = refused.response.status_code
        else:
            await ws.close()
            raise AssertionError("a WebSocket from a foreign origin was opened")
        async with await VisitorSocket.open(server, token, origin=shop) as sock:
            ready = sock.ready
        return status, ready

    status, ready = run(sockets())
    # The upgrade is refused before any socket exists; the server's WebSocket layer answers 400.
    assert 400 <= status < 500, status
    assert ready["type"] == "ready"


def test_visitor_rate_limit(make_server):
    """visitorMessagesPerMinute 5: the 6th quick message is 429 rate_limited with Retry-After and stores nothing; a socket gets an error frame and stays open."""
    server = make_server({"webchat": {"visitorMessagesPerMinute": 5}})
    visitor = new_visitor(server)
    stored = [sent(server, visitor["token"], f"quick {i}") for i in range(5)]
    conversation_id = stored[0]["conversationId"]

    r = send(server, visitor["token"], "one too many")
    assert_error(r, 429, "rate_limited")
    retry_after = r.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1, dict(r.headers)

    async def over_the_socket():
        async with await VisitorSocket.open(server, visitor["token"], after=stored[-1]["id"]) as sock:
            await sock.send({"type": "message", "text": "also too many", "clientId": client_id()})
            error = (await sock.until(lambda f: f["type"] in ("error", "ack")))[-1]
            await sock.send({"type": "ping"})
            await sock.until(lambda f: f["type"] == "pong")
            return error

    error = run(over_the_socket())
    assert error["type"] == "error" and error["error"]["code"] == "rate_limited", error
    assert isinstance(error["error"]["message"], str) and error["error"]["message"], error

    assert [m["text"] for m in inbound(server, conversation_id)] == [f"quick {i}" for i in range(5)]
    assert [m["id"] for m in transcript(server, visitor["token"])] == [m["id"] for m in stored]


def test_oversized_empty_and_malformed_messages_store_nothing(server):
    """413 for a 20 KiB body, 422 for >4000 characters, empty text or a bad clientId, 400 for bad JSON; none is stored."""
    visitor = new_visitor(server)
    token = visitor["token"]
    first = sent(server, token, "the only good one so far")
    conversation_id = first["conversationId"]

    r = visitor_request(server, "POST", "/webchat/v1/messages", token, json={"text": "a" * (20 * 1024), "clientId": client_id()})
    assert_error(r, 413)
    assert_bad_request(send(server, token, "a" * 4001))
    assert_bad_request(send(server, token, ""))
    assert_bad_request(send(server, token, "  \n\t "))
    for raw in (b'{"text": "unterminated', b"not json", b"[]", b'{"clientId": "abc"}', b'{"text": 42}'):
        r = visitor_request(server, "POST", "/webchat/v1/messages", token, data=raw, headers={"Content-Type": "application/json"})
        assert_bad_request(r)
    assert_error(
        visitor_request(server, "POST", "/webchat/v1/messages", token, data=b"{oops", headers={"Content-Type": "application/json"}),
        400,
        "invalid_body",
    )
    for bad_id in ("has space", "x" * 65, "semi;colon", "\u00e9t\u00e9"):
        assert_bad_request(send(server, token, "bad client id", bad_id))

    # The limit is in characters: 4000 two-byte characters (8000 bytes) are fine.
    boundary = sent(server, token, "\u00e9" * 4000)

    assert [m["id"] for m in transcript(server, token)] == [first["id"], boundary["id"]]
    assert [m["id"] for m in inbound(server, conversation_id)] == [first["id"], boundary["id"]]
    assert [c["id"] for c in webchat_conversations(server)] == [conversation_id]


# -- identity, presence, contact ---------------------------------------------------------------


def test_verified_identity_joins_sessions_to_one_customer(make_server):
    """Two sessions signed for the same identifier write as the same customer; a bad signature is 403 invalid_signature."""
    server = make_server({"webchat": {"identitySecret": "s3cret"}})
    signature = hmac_hex("s3cret", "user-42")

    first = new_visitor(server, identifier="user-42", signature=signature, name="Ana")
    m1 = sent(server, first["token"], "first visit")
    second = new_visitor(server, identifier="user-42", signature=signature)
    assert second["token"] != first["token"]
    m2 = sent(server, second["token"], "second visit")
    anonymous = new_visitor(server)
    m3 = sent(server, anonymous["token"], "just looking")

    customer_1 = get_conversation(server, m1["conversationId"])["customerId"]
    customer_2 = get_conversation(server, m2["conversationId"])["customerId"]
    customer_3 = get_conversation(server, m3["conversationId"])["customerId"]
    assert customer_1 == customer_2, (customer_1, customer_2)
    assert customer_3 != customer_1
    assert {c["customerId"] for c in webchat_conversations(server)} == {customer_1, customer_3}

    for bad in (
        {"identifier": "user-42", "signature": hmac_hex("wrong", "user-42")},
        {"identifier": "user-42", "signature": hmac_hex("s3cret", "user-43")},
        {"identifier": "user-43", "signature": signature},
        {"identifier": "user-42", "signature": ""},
        {"identifier": "user-42"},
    ):
        assert_error(start_session(server, **bad), 403, "invalid_signature")


def identify(server, token: str, identifier: str, signature: str) -> requests.Response:
    return visitor_request(server, "POST", "/webchat/v1/identify", token, json={"identifier": identifier, "signature": signature})


def test_an_anonymous_visitor_who_signs_in_is_merged_into_the_known_customer(make_server):
    """POST /identify: the chat of an anonymous visitor joins the customer the signed identifier names (one
    customer.merged event, reason verified_identity); a session already signed in as someone else gets 409."""
    server = make_server({"webchat": {"identitySecret": "s3cret"}})
    known = new_visitor(server, identifier="user-42", signature=hmac_hex("s3cret", "user-42"), name="Ana")
    assert known["verified"] is True, known
    earlier = sent(server, known["token"], "my parcel is late")
    known_customer = get_conversation(server, earlier["conversationId"])["customerId"]

    visitor = new_visitor(server)
    assert visitor["verified"] is False, visitor
    now = sent(server, visitor["token"], "hello, anyone?")
    anonymous_customer = get_conversation(server, now["conversationId"])["customerId"]
    assert anonymous_customer != known_customer
    for bad in (hmac_hex("wrong", "user-42"), "", hmac_hex("s3cret", "user-43")):
        assert_error(identify(server, visitor["token"], "user-42", bad), 403, "invalid_signature")
    assert_error(identify(server, None, "user-42", hmac_hex("s3cret", "user-42")), 401, "unauthorized")
    assert get_conversation(server, now["conversationId"])["customerId"] == anonymous_customer, "a refused call changed something"

    r = identify(server, visitor["token"], "user-42", hmac_hex("s3cret", "user-42"))
    assert r.status_code == 200, r.text
    assert r.json()["verified"] is True and r.json()["visitorId"] == visitor["visitorId"], r.json()
    assert get_conversation(server, now["conversationId"])["customerId"] == known_customer
    assert server.get(f"/v1/customers/{anonymous_customer}").status_code == 404
    # The widget now shows the customer's whole history; what the visitor writes next is the known customer's.
    assert [m["text"] for m in transcript(server, visitor["token"])] == ["my parcel is late", "hello, anyone?"]
    later = sent(server, visitor["token"], "thanks")
    assert get_conversation(server, later["conversationId"])["customerId"] == known_customer
    with SSEClient(server, params={"after": 0}) as stream:
        events = stream.events_until(lambda e: e["event"] == "message.created" and e["json"]["data"]["id"] == later["id"])
    merges = [e["json"]["data"] for e in events if e["event"] == "customer.merged"]
    assert len(merges) == 1, merges
    merge = merges[0]
    assert merge["reason"] == "verified_identity" and merge["mergedId"] == anonymous_customer, merge
    assert merge["evidence"] == "webchat:user:user-42" and merge["customer"]["id"] == known_customer, merge

    # Another person on the same browser: a session signed in as user-42 never becomes user-7.
    other = identify(server, known["token"], "user-7", hmac_hex("s3cret", "user-7"))
    assert_error(other, 409, "identity_conflict")


def test_agents_online_follows_presence_and_offline_contact(server):
    """No available agent: agentsOnline false; an agent going available flips it (live `agents` frame too); contact takes an email."""
    visitor = new_visitor(server)
    assert visitor["agentsOnline"] is False, visitor
    first = sent(server, visitor["token"], "is anybody there?")

    agent = server.post("/v1/agents", json={"name": "Olivia Online"})
    assert agent.status_code == 201, agent.text
    agent_id = agent.json()["id"]

    def presence(value):
        r = server.post(f"/v1/agents/{agent_id}/presence", json={"presence": value}, timeout=10)
        assert r.status_code == 200, r.text

    async def scenario():
        async with await VisitorSocket.open(server, visitor["token"], after=first["id"]) as sock:
            assert sock.ready["agentsOnline"] is False, sock.ready
            await asyncio.to_thread(presence, "available")
            online = (await sock.until(lambda f: f["type"] == "agents"))[-1]
            fresh = await asyncio.to_thread(new_visitor, server)
            await asyncio.to_thread(presence, "away")
            offline = (await sock.until(lambda f: f["type"] == "agents"))[-1]
            await asyncio.to_thread(presence, "available")
            back = (await sock.until(lambda f: f["type"] == "agents"))[-1]
            return online, fresh, offline, back

    online, fresh, offline, back = run(scenario())
    assert online == {"type": "agents", "online": True, "closed": False}, online
    assert fresh["agentsOnline"] is True, fresh
    assert offline == {"type": "agents", "online": False, "closed": False}, offline
    assert back == {"type": "agents", "online": True, "closed": False}, back
    r = visitor_request(server, "GET", "/webchat/v1/session", visitor["token"])
    assert r.status_code == 200 and r.json()["agentsOnline"] is True, r.text

    r = visitor_request(server, "POST", "/webchat/v1/contact", visitor["token"], json={"email": "ana@example.com"})
    assert r.status_code == 204, f"{r.status_code} {r.text}"
    session = visitor_request(server, "GET", "/webchat/v1/session", visitor["token"]).json()
    assert session["email"] == "ana@example.com", session
    for bad in ({"email": "not-an-email"}, {"email": ""}, {}):
        r = visitor_request(server, "POST", "/webchat/v1/contact", visitor["token"], json=bad)
        assert_bad_request(r)
    assert_error(visitor_request(server, "POST", "/webchat/v1/contact", json={"email": "x@example.com"}), 401, "unauthorized")


# -- leaving ------------------------------------------------------------------------------------


def test_unanswered_chat_is_abandoned_after_the_visitor_leaves(make_server):
    """abandonAfterSeconds 1: a socket closed without an answer marks the conversation abandoned; an answered one is not."""
    server = make_server({"webchat": {"abandonAfterSeconds": 1}})
    waiting, answered = new_visitor(server), new_visitor(server)

    async def scenario():
        left = await VisitorSocket.open(server, waiting["token"])
        helped = await VisitorSocket.open(server, answered["token"])
        try:
            left_ack = await left.post("hello? I will not wait long")
            helped_ack = await helped.post("I need help")
            answer = await asyncio.to_thread(reply, server, helped_ack["message"]["conversationId"], "Here to help")
            await helped.until(is_message(answer["id"]))
            # Connected for longer than abandonAfterSeconds: not abandoned while the visitor is still there.
            await asyncio.sleep(1.5)
            still_there = await asyncio.to_thread(get_conversation, server, left_ack["message"]["conversationId"])
        finally:
            await helped.close()
            await left.close()
        return left_ack["message"]["conversationId"], helped_ack["message"]["conversationId"], still_there

    left_id, helped_id, still_there = run(scenario())
    assert still_there.get("abandonedAt") is None, still_there
    abandoned = wait_for(
        lambda: get_conversation(server, left_id).get("abandonedAt"), timeout=6, interval=0.2, what="abandonedAt of the unanswered chat"
    )
    assert isinstance(abandoned, str), abandoned
    time.sleep(0.5)
    assert get_conversation(server, helped_id).get("abandonedAt") is None, get_conversation(server, helped_id)


def test_leave_marks_an_unanswered_chat_abandoned_at_once(server):
    """POST /webchat/v1/leave: an unanswered conversation is abandoned by the time the 204 arrives; an answered one is not."""
    alone = new_visitor(server)
    m1 = sent(server, alone["token"], "bye")
    r = visitor_request(server, "POST", "/webchat/v1/leave", alone["token"])
    assert r.status_code == 204, f"{r.status_code} {r.text}"
    assert isinstance(get_conversation(server, m1["conversationId"]).get("abandonedAt"), str)

    helped = new_visitor(server)
    m2 = sent(server, helped["token"], "thanks in advance")
    reply(server, m2["conversationId"], "You're welcome")
    r = visitor_request(server, "POST", "/webchat/v1/leave", helped["token"])
    assert r.status_code == 204, f"{r.status_code} {r.text}"
    assert get_conversation(server, m2["conversationId"]).get("abandonedAt") is None


# -- durability ---------------------------------------------------------------------------------


def test_acknowledged_visitor_message_survives_kill9(server):
    """A 201 message is in the transcript after kill -9 and a restart, with the same token; a resend replays it."""
    visitor = new_visitor(server, name="Durable Dana")
    cid = client_id()
    message = sent(server, visitor["token"], "please do not lose me", cid)

    server.kill9()
    server.start()

    r = visitor_request(server, "GET", "/webchat/v1/session", visitor["token"])
    assert r.status_code == 200, r.text
    assert r.json()["visitorId"] == visitor["visitorId"]
    assert [visible(m) for m in transcript(server, visitor["token"])] == [visible(message)]
    replay = send(server, visitor["token"], "please do not lose me", cid)
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true", (replay.status_code, dict(replay.headers))
    assert replay.json()["id"] == message["id"]
    assert [m["id"] for m in inbound(server, message["conversationId"])] == [message["id"]]
