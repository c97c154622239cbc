"""Realtime: GET /v1/events is SSE, and a client that reconnects with Last-Event-ID gets exactly what it missed."""

import uuid

from conftest import SSEClient, assert_error


def ack(response) -> dict:
    assert response.status_code == 201, f"{response.status_code} {response.text}"
    return response.json()


def is_message_created(message_id):
    return lambda e: e["event"] == "message.created" and e["json"]["data"]["id"] == message_id


def assert_first_frame_is_retry(stream: SSEClient):
    assert stream.response.status_code == 200, stream.response.text
    assert stream.response.headers["Content-Type"].startswith("text/event-stream"), stream.response.headers
    assert stream.next_frame() == {"retry": "2000"}


def assert_strictly_increasing(events):
    ids = [e["id"] for e in events]
    assert ids == sorted(set(ids)), f"ids not strictly increasing / duplicated: {ids}"


def test_resume_with_last_event_id_delivers_exactly_the_missed_events(server):
    run = uuid.uuid4().hex[:8]
    alice = f"alice-{run}@example.test"

    # 1. Connected: a first inbound message from a new customer.
    with SSEClient(server) as stream:
        assert_first_frame_is_retry(stream)
        first = ack(server.inbound(alice, "hello", external_id=f"rt-{run}-1", name="Alice"))
        seen = stream.events_until(is_message_created(first["messageId"]))
    assert_strictly_increasing(seen)
    tail = seen[-3:]
    assert [e["event"] for e in tail] == ["customer.created", "conversation.created", "message.created"], seen
    assert [e["id"] for e in tail] == list(range(tail[0]["id"], tail[0]["id"] + 3)), tail
    assert tail[0]["json"]["customerId"] == first["customerId"]
    assert tail[1]["json"]["conversationId"] == first["conversationId"]
    assert tail[2]["json"]["conversationId"] == first["conversationId"]
    assert tail[2]["json"]["data"]["externalId"] == f"rt-{run}-1"
    last_id = seen[-1]["id"]

    # 2. Disconnected: three more messages (one continues Alice's conversation, two from new customers).
    missed = [
        ack(server.inbound(alice, "again", external_id=f"rt-{run}-2")),
        ack(server.inbound(f"bob-{run}@example.test", "hi", external_id=f"rt-{run}-3", name="Bob")),
        ack(server.inbound(f"carol-{run}@example.test", "hey", external_id=f"rt-{run}-4", name="Carol")),
    ]
    expected = [
        ("message.created", missed[0]),
        ("customer.created", missed[1]),
        ("conversation.created", missed[1]),
        ("message.created", missed[1]),
        ("customer.created", missed[2]),
        ("conversation.created", missed[2]),
        ("message.created", missed[2]),
    ]

    # 3. Reconnected with Last-Event-ID: the missed events, in order, then live ones.
    with SSEClient(server, last_event_id=last_id) as stream:
        assert_first_frame_is_retry(stream)
        resumed = stream.events_until(is_message_created(missed[2]["messageId"]))
        # A sentinel posted now proves nothing else (no duplicate, no stray event) sits between.
        sentinel = ack(server.inbound(alice, "sentinel", external_id=f"rt-{run}-5"))
        after = stream.events_until(is_message_created(sentinel["messageId"]))

    assert_strictly_increasing(resumed + after)
    assert resumed[0]["id"] == last_id + 1, f"resumed at {resumed[0]['id']}, expected {last_id + 1}"
    ids = [e["id"] for e in resumed]
    assert ids == list(range(last_id + 1, last_id + 1 + len(expected))), f"ids not contiguous for admin: {ids}"
    assert [e["event"] for e in resumed] == [t for t, _ in expected], [e["event"] for e in resumed]
    for event, (event_type, result) in zip(resumed, expected):
        body = event["json"]
        if event_type == "customer.created":
            assert body["customerId"] == result["customerId"], body
            assert body["data"]["id"] == result["customerId"], body
        elif event_type == "conversation.created":
            assert body["conversationId"] == result["conversationId"], body
            assert body["data"]["id"] == result["conversationId"], body
        else:
            assert body["conversationId"] == result["conversationId"], body
            assert body["data"]["id"] == result["messageId"], body
            assert body["data"]["direction"] == "inbound", body
        assert isinstance(body["createdAt"], str) and body["createdAt"], body
    assert [e["id"] for e in after] == [ids[-1] + 1], after
    assert after[0]["event"] == "message.created"

    # The `?after=` query is the same cursor as the header.
    with SSEClient(server, params={"after": last_id}) as stream:
        assert_first_frame_is_retry(stream)
        again = stream.events_until(is_message_created(sentinel["messageId"]))
    assert [(e["id"], e["event"]) for e in again] == [(e["id"], e["event"]) for e in resumed + after]


def test_resume_is_scoped_to_the_agents_visible_events(server):
    """An agent's stream skips other teams' conversations: ids still strictly increase, the first is the next visible one."""
    run = uuid.uuid4().hex[:8]
    team = server.post("/v1/teams", json={"name": f"Team {run}"})
    assert team.status_code == 201, team.text
    agent = server.post("/v1/agents", json={"name": f"Agent {run}", "teamIds": [team.json()["id"]]})
    assert agent.status_code == 201, agent.text
    token = server.post("/v1/tokens", json={"role": "agent", "agentId": agent.json()["id"]})
    assert token.status_code == 201, token.text
    agent_token = token.json()["token"]

    hidden = ack(server.inbound(f"hidden-{run}@example.test", "not yours", external_id=f"sc-{run}-1"))
    mine = ack(server.inbound(f"mine-{run}@example.test", "yours", external_id=f"sc-{run}-2"))
    assigned = server.post(f"/v1/conversations/{mine['conversationId']}/assign", json={"teamId": team.json()["id"]})
    assert assigned.status_code == 200, assigned.text

    def is_assignment(e):
        return e["event"] == "conversation.updated" and e["json"]["conversationId"] == mine["conversationId"]

    with SSEClient(server, token=agent_token) as stream:
        assert_first_frame_is_retry(stream)
        seen = stream.events_until(is_assignment)
    assert_strictly_increasing(seen)
    visible_conversations = {e["json"].get("conversationId") for e in seen} - {None}
    assert visible_conversations == {mine["conversationId"]}, seen
    last_id = seen[-1]["id"]

    invisible = ack(server.inbound(f"hidden-{run}@example.test", "still not yours", external_id=f"sc-{run}-3"))
    visible = ack(server.inbound(f"mine-{run}@example.test", "yours again", external_id=f"sc-{run}-4"))
    assert invisible["conversationId"] == hidden["conversationId"]
    assert visible["conversationId"] == mine["conversationId"]

    with SSEClient(server, token=agent_token, last_event_id=last_id) as stream:
        assert_first_frame_is_retry(stream)
        resumed = stream.events_until(is_message_created(visible["messageId"]))
    assert_strictly_increasing(resumed)
    assert [e["event"] for e in resumed] == ["message.created"], resumed
    # The hidden conversation's message.created took last_id + 1: the agent resumes at the next visible id.
    assert resumed[0]["id"] == last_id + 2, (last_id, resumed)


def test_events_require_a_token_and_a_valid_cursor(server):
    r = server.session.get(server.url("/v1/events"), timeout=10)
    assert_error(r, 401, "unauthorized")
    r = server.get("/v1/events", headers={"Last-Event-ID": "not-a-number"}, timeout=10)
    assert_error(r, 422)
    integration = server.post("/v1/tokens", json={"role": "integration"})
    assert integration.status_code == 201, integration.text
    r = server.get("/v1/events", token=integration.json()["token"], timeout=10)
    assert_error(r, 403, "forbidden")
