"""Roles: an agent sees and answers only its teams' conversations, and cannot manage tokens or agents."""

import uuid

from conftest import assert_error


def created(response) -> dict:
    assert response.status_code == 201, f"{response.status_code} {response.text}"
    return response.json()


def test_agents_see_only_their_teams_conversations(server):
    run = uuid.uuid4().hex[:8]
    team_a = created(server.post("/v1/teams", json={"name": f"Team A {run}"}))
    team_b = created(server.post("/v1/teams", json={"name": f"Team B {run}"}))
    agent_a = created(server.post("/v1/agents", json={"name": "Agent A", "teamIds": [team_a["id"]]}))
    agent_b = created(server.post("/v1/agents", json={"name": "Agent B", "teamIds": [team_b["id"]]}))
    assert agent_a["teamIds"] == [team_a["id"]]
    assert agent_b["teamIds"] == [team_b["id"]]

    token_a = created(server.post("/v1/tokens", json={"role": "agent", "agentId": agent_a["id"]}))
    token_b = created(server.post("/v1/tokens", json={"role": "agent", "agentId": agent_b["id"]}))
    for issued, agent in ((token_a, agent_a), (token_b, agent_b)):
        assert issued["role"] == "agent" and issued["agentId"] == agent["id"], issued
        assert isinstance(issued["token"], str) and issued["token"], issued
    token_a, token_b = token_a["token"], token_b["token"]

    message = created(server.inbound(f"customer-{run}@example.test", "I need help", external_id=f"roles-{run}", name="Cus"))
    conversation_id = message["conversationId"]
    assigned = server.post(f"/v1/conversations/{conversation_id}/assign", json={"teamId": team_b["id"]})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["teamId"] == team_b["id"]

    # Agent A: another team's conversation does not exist for it.
    assert_error(server.get(f"/v1/conversations/{conversation_id}", token=token_a), 404)
    assert_error(server.get(f"/v1/conversations/{conversation_id}/messages", token=token_a), 404)
    assert_error(server.post(f"/v1/conversations/{conversation_id}/messages", token=token_a, json={"text": "nope"}), 404)
    assert_error(server.get(f"/v1/messages/{message['messageId']}", token=token_a), 404)
    listed_a = server.paginate("/v1/conversations", token=token_a)
    assert conversation_id not in {c["id"] for c in listed_a}
    # …and it may not issue tokens or create agents.
    assert_error(server.post("/v1/tokens", token=token_a, json={"role": "admin"}), 403, "forbidden")
    assert_error(server.post("/v1/tokens", token=token_a, json={"role": "agent", "agentId": agent_a["id"]}), 403, "forbidden")
    assert_error(server.post("/v1/agents", token=token_a, json={"name": "Mallory", "teamIds": [team_b["id"]]}), 403, "forbidden")
    assert_error(server.post("/v1/teams", token=token_a, json={"name": f"Rogue {run}"}), 403, "forbidden")

    # Agent B: its team's conversation is readable and answerable.
    r = server.get(f"/v1/conversations/{conversation_id}", token=token_b)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == conversation_id and r.json()["teamId"] == team_b["id"]
    listed_b = server.paginate("/v1/conversations", token=token_b)
    assert conversation_id in {c["id"] for c in listed_b}
    messages = server.paginate(f"/v1/conversations/{conversation_id}/messages", token=token_b)
    assert message["messageId"] in {m["id"] for m in messages}
    reply = server.post(f"/v1/conversations/{conversation_id}/messages", token=token_b, json={"text": "On it."})
    assert reply.status_code == 202, reply.text
    body = reply.json()
    assert body["conversationId"] == conversation_id
    assert body["direction"] == "outbound" and body["text"] == "On it."
    assert body["authorId"] == agent_b["id"]
    messages = server.paginate(f"/v1/conversations/{conversation_id}/messages", token=token_b)
    assert body["id"] in {m["id"] for m in messages}

    # The admin still sees everything; agent A still does not see the reply.
    assert conversation_id in {c["id"] for c in server.paginate("/v1/conversations")}
    assert_error(server.get(f"/v1/messages/{body['id']}", token=token_a), 404)


def test_authentication_and_role_errors_have_one_shape(server):
    run = uuid.uuid4().hex[:8]
    # No token, a malformed header, an unknown token.
    assert_error(server.session.get(server.url("/v1/conversations"), timeout=10), 401, "unauthorized")
    assert_error(server.session.get(server.url("/v1/conversations"), headers={"Authorization": "Basic eDp5"}, timeout=10), 401)
    assert_error(server.get("/v1/conversations", token="sb_not_a_real_token"), 401, "unauthorized")

    # An integration token ingests but reads nothing.
    integration = created(server.post("/v1/tokens", json={"role": "integration", "name": "crm"}))["token"]
    ingested = created(server.inbound(f"int-{run}@example.test", "via integration", external_id=f"int-{run}", token=integration))
    assert_error(server.get("/v1/conversations", token=integration), 403, "forbidden")
    assert_error(server.get(f"/v1/conversations/{ingested['conversationId']}", token=integration), 403, "forbidden")
    assert_error(server.post("/v1/tokens", token=integration, json={"role": "admin"}), 403, "forbidden")

    # An agent token may not ingest.
    agent = created(server.post("/v1/agents", json={"name": "Solo"}))
    agent_token = created(server.post("/v1/tokens", json={"role": "agent", "agentId": agent["id"]}))["token"]
    assert_error(server.inbound(f"x-{run}@example.test", "no", token=agent_token), 403, "forbidden")

    # Validation and unknown ids answer in the same shape.
    assert_error(server.post("/v1/tokens", json={"role": "agent"}), 422)
    assert_error(server.post("/v1/tokens", json={"role": "emperor"}), 400)
    assert_error(server.get("/v1/conversations/conv_does_not_exist"), 404)
    assert_error(server.get("/v1/conversations", params={"limit": 201}), 422)
    assert_error(server.get("/v1/conversations", params={"limit": 0}), 422)
    assert_error(server.post("/v1/inbound", data="{not json", headers={"Content-Type": "application/json"}), 400)
    assert_error(server.post("/v1/inbound", json={"text": "no sender"}), 400)
    assert_error(server.post("/v1/inbound", json={"from": "   ", "text": "blank sender"}), 422)
    assert_error(server.get("/v1/no-such-route"), 404)
