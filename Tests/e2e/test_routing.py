"""Routing: the router assigns waiting conversations to available agents within their capacity,
returns them to the queue when an agent leaves, and follows transfers, tiers and its configuration.

The server runs the standard configuration (one queue `general`, no skills). The router is
asynchronous, driven by the event log: every expectation about its work is polled with `wait_for`.
Agents start offline, so nothing is assigned before a test makes one available.
"""

import copy
import re
import threading
import time
import uuid

import requests

from conftest import assert_error, get_conversation, wait_for

ROUTER_TIMEOUT = 5.0
# How long to watch that the router does NOT do something (assign over capacity, assign without skills).
QUIET = 0.5


def created(response) -> dict:
    assert response.status_code == 201, f"{response.status_code} {response.text}"
    return response.json()


def ok(response) -> dict:
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    return response.json()


def run_id() -> str:
    return uuid.uuid4().hex[:8]


def make_agent(server, name: str, available: bool = True, **fields) -> dict:
    agent = created(server.post("/v1/agents", json={"name": name, **fields}))
    assert agent["presence"] == "offline", agent
    if available:
        set_presence(server, agent["id"], "available")
    return agent


def set_presence(server, agent_id: str, presence: str) -> dict:
    agent = ok(server.post(f"/v1/agents/{agent_id}/presence", json={"presence": presence}))
    assert agent["presence"] == presence, agent
    return agent


def inbound(server, customer: str, text: str = "Hello, I need help.", session=None) -> dict:
    return created(server.inbound(customer, text, external_id=f"ext-{uuid.uuid4().hex}", session=session))


def assigned_to(server, conversation_id: str, agent_id: str):
    """For wait_for: the conversation once it is assigned to `agent_id`."""
    body = get_conversation(server, conversation_id)
    return body if body.get("assigneeId") == agent_id else None


def queued_in(server, conversation_id: str, queue_id: str):
    """For wait_for: the conversation once the router has placed it in `queue_id` (and it waits)."""
    body = get_conversation(server, conversation_id)
    return body if body.get("queueId") == queue_id and "waitingSince" in body else None


def routing(server, conversation_id: str) -> list:
    body = ok(server.get(f"/v1/conversations/{conversation_id}/routing"))
    assert set(body) == {"items"}, body
    return body["items"]


def live_queue(server, queue_id: str) -> dict:
    body = ok(server.get("/v1/routing/queues"))
    assert set(body) == {"items", "occupancy"}, body
    assert 0 <= body["occupancy"] <= 1, body
    matches = [q for q in body["items"] if q["queueId"] == queue_id]
    assert len(matches) == 1, body
    return matches[0]


def patch(server, path: str, **kwargs) -> requests.Response:
    return server.request("PATCH", path, **kwargs)


# -- assignment --------------------------------------------------------------------------------


def test_router_assigns_within_capacity_and_explains_why(server):
    run = run_id()
    agent = make_agent(server, "Ada", capacity={"api": 1})
    assert agent["capacity"]["api"] == 1, agent

    first = inbound(server, f"first-{run}@example.test")["conversationId"]
    wait_for(lambda: assigned_to(server, first, agent["id"]), ROUTER_TIMEOUT, what="first conversation assigned to the agent")
    body = get_conversation(server, first)
    assert body["queueId"] == "general", body
    assert body["status"] == "open", body
    for field in ("waitingSince", "assignedAt", "slaDueAt"):
        assert field in body, (field, body)

    # The agent is at capacity: the second one waits in the queue.
    second = inbound(server, f"second-{run}@example.test")["conversationId"]
    waiting = wait_for(lambda: queued_in(server, second, "general"), ROUTER_TIMEOUT, what="second conversation queued")
    time.sleep(QUIET)
    waiting = get_conversation(server, second)
    assert "assigneeId" not in waiting, f"assigned over capacity: {waiting}"
    assert live_queue(server, "general")["depth"] == 1

    # Resolving the first frees the agent: the router gives them the second.
    resolved = ok(server.post(f"/v1/conversations/{first}/resolve"))
    assert resolved["status"] == "resolved", resolved
    wait_for(lambda: assigned_to(server, second, agent["id"]), ROUTER_TIMEOUT, what="second conversation assigned after the first was resolved")
    assert live_queue(server, "general")["depth"] == 0

    records = routing(server, second)
    kinds = [r["kind"] for r in records]
    assert kinds and kinds[-1] == "assigned", kinds
    assert kinds[0] == "queued", kinds
    last = records[-1]
    assert last["conversationId"] == second, last
    assert last["agentId"] == agent["id"], last
    assert last["queueId"] == "general", last
    assert isinstance(last["reason"], str) and last["reason"].strip(), last
    assert last["candidates"], last
    assert last["candidates"][0]["agentId"] == agent["id"], last
    assert last["eligibleCount"] >= 1, last
    assert [r["id"] for r in records] == sorted(r["id"] for r in records), records

    first_records = routing(server, first)
    assert [r["kind"] for r in first_records][-1] == "assigned", first_records
    assert first_records[-1]["agentId"] == agent["id"], first_records


def test_never_over_capacity_under_concurrent_inbound(server):
    run = run_id()
    agents = [make_agent(server, f"Agent {i}", capacity={"api": 2}) for i in range(2)]
    agent_ids = {a["id"] for a in agents}

    results, errors = [None] * 10, []

    def post(i):
        try:
            with requests.Session() as session:
                results[i] = inbound(server, f"burst-{run}-{i}@example.test", f"Message {i}", session=session)
        except BaseException as error:  # reported below, on the test's thread
            errors.append(error)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    ids = [r["conversationId"] for r in results]
    assert len(set(ids)) == 10, ids

    def states():
        return [get_conversation(server, cid) for cid in ids]

    def settled():
        current = states()
        placed = [c for c in current if c.get("queueId") == "general"]
        assigned = [c for c in current if "assigneeId" in c]
        return current if len(placed) == 10 and len(assigned) == 4 else None

    wait_for(settled, ROUTER_TIMEOUT, what="4 of 10 conversations assigned")
    time.sleep(QUIET)
    current = states()
    assigned = [c for c in current if "assigneeId" in c]
    assert len(assigned) == 4, [c.get("assigneeId") for c in current]
    per_agent = {agent_id: sum(1 for c in assigned if c["assigneeId"] == agent_id) for agent_id in agent_ids}
    assert set(c["assigneeId"] for c in assigned) <= agent_ids, assigned
    assert all(count <= 2 for count in per_agent.values()), per_agent
    assert per_agent == {agent_id: 2 for agent_id in agent_ids}, per_agent

    queue = live_queue(server, "general")
    assert queue["depth"] == 6, queue
    assert queue["name"] == "General", queue
    assert "oldestWaitingSince" in queue and queue["oldestWaitSeconds"] >= 0, queue
    body = ok(server.get("/v1/routing/queues"))
    assert body["occupancy"] == 1, body


def test_agent_going_offline_returns_conversations_to_the_queue(server):
    run = run_id()
    agent = make_agent(server, "Leaving", capacity={"api": 2})
    ids = [inbound(server, f"offline-{run}-{i}@example.test")["conversationId"] for i in range(2)]
    before = {}
    for cid in ids:
        before[cid] = wait_for(lambda: assigned_to(server, cid, agent["id"]), ROUTER_TIMEOUT, what=f"{cid} assigned")

    set_presence(server, agent["id"], "offline")

    def back_in_queue(cid):
        body = get_conversation(server, cid)
        return body if "assigneeId" not in body else None

    for cid in ids:
        body = wait_for(lambda: back_in_queue(cid), ROUTER_TIMEOUT, what=f"{cid} back in the queue")
        assert body["status"] == "open", body
        assert body["queueId"] == "general", body
        assert body["waitingSince"] == before[cid]["waitingSince"], (before[cid], body)
        assert "assignedAt" not in body, body
        assert body.get("lastAssigneeId") == agent["id"], body
        kinds = [r["kind"] for r in routing(server, cid)]
        assert kinds[-1] == "requeued", kinds
    assert live_queue(server, "general")["depth"] == 2


# -- transfer ----------------------------------------------------------------------------------


def test_transfer_to_a_queue_and_its_errors(server):
    run = run_id()
    cid = inbound(server, f"transfer-{run}@example.test")["conversationId"]
    wait_for(lambda: queued_in(server, cid, "general"), ROUTER_TIMEOUT, what="conversation queued")

    r = server.post(f"/v1/conversations/{cid}/transfer", json={"queueId": "general", "note": "Customer asks for a refund."})
    body = ok(r)
    assert body["id"] == cid, body
    assert body["pinnedQueueId"] == "general", body
    assert "assigneeId" not in body, body
    records = routing(server, cid)
    assert records[-1]["kind"] == "transferred", records
    messages = server.paginate(f"/v1/conversations/{cid}/messages")
    assert any(m.get("kind") == "note" and m.get("text") == "Customer asks for a refund." for m in messages), messages

    path = f"/v1/conversations/{cid}/transfer"
    assert_error(server.post(path, json={}), 422)
    assert_error(server.post(path, json={"note": "no target"}), 422)
    assert_error(server.post(path, json={"queueId": "general", "teamId": "team_x"}), 422)
    assert_error(server.post(path, json={"queueId": "no-such-queue"}), 422, "unknown_queue")
    assert_error(server.post(path, json={"agentId": "agt_does_not_exist"}), 422, "unknown_agent")
    assert_error(server.post(path, json={"teamId": "team_does_not_exist"}), 422, "unknown_team")
    assert_error(server.post(path, json={"queueId": "general", "note": "x" * 10_001}), 422)
    assert_error(server.post(path, json={"queueId": 7}), 400)
    assert_error(server.post(path, data="{not json", headers={"Content-Type": "application/json"}), 400)
    assert_error(server.post("/v1/conversations/conv_does_not_exist/transfer", json={"queueId": "general"}), 404)

    # An offline agent cannot take it; a resolved conversation cannot move.
    offline = make_agent(server, "Away", available=False)
    assert_error(server.post(path, json={"agentId": offline["id"]}), 409, "agent_unavailable")
    ok(server.post(f"/v1/conversations/{cid}/resolve"))
    assert_error(server.post(path, json={"queueId": "general"}), 409, "conversation_resolved")


def test_transfer_to_an_agent(server):
    run = run_id()
    first_agent = make_agent(server, "First", capacity={"api": 1})
    cid = inbound(server, f"direct-{run}@example.test")["conversationId"]
    wait_for(lambda: assigned_to(server, cid, first_agent["id"]), ROUTER_TIMEOUT, what="assigned to the first agent")

    # Nothing waits, so the router leaves the second agent idle; the transfer hands the conversation over.
    second_agent = make_agent(server, "Second", capacity={"api": 1})
    body = ok(server.post(f"/v1/conversations/{cid}/transfer", json={"agentId": second_agent["id"], "note": "Over to you."}))
    assert body["assigneeId"] == second_agent["id"], body
    assert body["lastAssigneeId"] == first_agent["id"], body
    last = routing(server, cid)[-1]
    assert last["kind"] == "transferred" and last["agentId"] == second_agent["id"], last

    # The first agent is free again and takes the next one; the second has no room left.
    other = inbound(server, f"direct2-{run}@example.test")["conversationId"]
    wait_for(lambda: assigned_to(server, other, first_agent["id"]), ROUTER_TIMEOUT, what="next one to the first agent")
    assert_error(server.post(f"/v1/conversations/{other}/transfer", json={"agentId": second_agent["id"]}), 409, "agent_at_capacity")
    time.sleep(QUIET)
    assert get_conversation(server, cid)["assigneeId"] == second_agent["id"]


# -- customers: tier and account manager ----------------------------------------------------------


def test_customer_tier_and_account_manager(server):
    run = run_id()
    manager = make_agent(server, "Manager", available=False)
    customer_id = inbound(server, f"vip-{run}@example.test")["customerId"]

    body = ok(patch(server, f"/v1/customers/{customer_id}", json={"tier": "vip", "accountManagerId": manager["id"]}))
    assert body["tier"] == "vip" and body["accountManagerId"] == manager["id"], body
    body = ok(server.get(f"/v1/customers/{customer_id}"))
    assert body["tier"] == "vip" and body["accountManagerId"] == manager["id"], body

    assert_error(patch(server, f"/v1/customers/{customer_id}", json={"accountManagerId": "agt_does_not_exist"}), 422, "unknown_agent")
    assert_error(patch(server, f"/v1/customers/{customer_id}", json={"tier": "platinum"}), 400)
    body = ok(server.get(f"/v1/customers/{customer_id}"))
    assert body["accountManagerId"] == manager["id"], body

    # "" clears the account manager; other tiers are accepted.
    body = ok(patch(server, f"/v1/customers/{customer_id}", json={"tier": "low", "accountManagerId": ""}))
    assert body["tier"] == "low" and "accountManagerId" not in body, body
    assert_error(patch(server, "/v1/customers/cus_does_not_exist", json={"tier": "vip"}), 404)


def test_conversation_of_a_vip_goes_to_the_account_manager(server):
    run = run_id()
    manager = make_agent(server, "Manager", capacity={"api": 5}, available=False)
    other = make_agent(server, "Other", capacity={"api": 5})
    first = inbound(server, f"am-{run}@example.test")
    customer_id = first["customerId"]
    wait_for(lambda: assigned_to(server, first["conversationId"], other["id"]), ROUTER_TIMEOUT, what="first to the only available agent")
    ok(server.post(f"/v1/conversations/{first['conversationId']}/resolve"))
    ok(patch(server, f"/v1/customers/{customer_id}", json={"tier": "vip", "accountManagerId": manager["id"]}))
    set_presence(server, manager["id"], "available")

    second = created(server.inbound(f"am-{run}@example.test", "Back again", external_id=f"am2-{run}"))["conversationId"]
    body = wait_for(lambda: get_conversation(server, second).get("assigneeId") and get_conversation(server, second), ROUTER_TIMEOUT, what="assigned")
    assert body["assigneeId"] == manager["id"], body
    assert body["tier"] == "vip", body
    last = routing(server, second)[-1]
    assert last["kind"] == "assigned" and last["agentId"] == manager["id"], last
    assert last["candidates"][0]["sticky"] is True, last


# -- configuration -----------------------------------------------------------------------------


def test_configuration_validation_and_skill_based_queue(server):
    run = run_id()
    standard = ok(server.get("/v1/routing/configuration"))
    assert [q["id"] for q in standard["queues"]] == ["general"], standard
    assert standard["defaultQueueId"] == "general", standard

    invalid = copy.deepcopy(standard)
    invalid["queues"] = []
    assert_error(server.request("PUT", "/v1/routing/configuration", json=invalid), 422)
    dangling = copy.deepcopy(standard)
    dangling["defaultQueueId"] = "nowhere"
    assert_error(server.request("PUT", "/v1/routing/configuration", json=dangling), 422)
    missing = copy.deepcopy(standard)
    del missing["queues"]
    assert_error(server.request("PUT", "/v1/routing/configuration", json=missing), 400)
    # Left-out fields take their defaults: without "rules" the document is the standard one again.
    lean = copy.deepcopy(standard)
    del lean["rules"]
    assert ok(server.request("PUT", "/v1/routing/configuration", json=lean)) == standard
    assert ok(server.get("/v1/routing/configuration")) == standard

    config = copy.deepcopy(standard)
    config["queues"].append({
        "id": "billing", "name": "Billing", "teamIds": [], "requiredSkills": [{"name": "billing", "minLevel": 5}],
        "priority": 0, "sla": [{"seconds": 600, "goalPercent": 80}], "escalation": [], "businessTimeOnly": False,
    })
    config["rules"] = [{"id": "invoices", "match": {"keywords": ["invoice"]}, "queueId": "billing"}]
    stored = ok(server.request("PUT", "/v1/routing/configuration", json=config))
    assert stored == config, stored
    # Read your writes: once PUT has answered, GET shows the new configuration (not only once the router has caught up).
    assert ok(server.get("/v1/routing/configuration")) == config
    wait_for(lambda: any(q["queueId"] == "billing" for q in ok(server.get("/v1/routing/queues"))["items"]),
             ROUTER_TIMEOUT, what="the router uses the new configuration")

    generalist = make_agent(server, "Generalist", skills=[{"name": "billing", "level": 2}])
    cid = inbound(server, f"billing-{run}@example.test", "Question about my invoice")["conversationId"]
    wait_for(lambda: queued_in(server, cid, "billing"), ROUTER_TIMEOUT, what="conversation in the billing queue")
    time.sleep(QUIET)
    body = get_conversation(server, cid)
    assert "assigneeId" not in body, f"assigned without the skill: {body}"
    assert live_queue(server, "billing")["depth"] == 1
    queued = routing(server, cid)[0]
    assert queued["kind"] == "queued" and queued["queueId"] == "billing" and queued.get("ruleId") == "invoices", queued

    specialist = make_agent(server, "Specialist", skills=[{"name": "billing", "level": 6}])
    wait_for(lambda: assigned_to(server, cid, specialist["id"]), ROUTER_TIMEOUT, what="assigned to the billing specialist")
    assert generalist["id"] not in {c["agentId"] for c in routing(server, cid)[-1]["candidates"]}

    # Other conversations still go to the default queue.
    other = inbound(server, f"general-{run}@example.test", "Where is my parcel?")["conversationId"]
    wait_for(lambda: assigned_to(server, other, generalist["id"]) or assigned_to(server, other, specialist["id"]),
             ROUTER_TIMEOUT, what="general conversation assigned")
    assert get_conversation(server, other)["queueId"] == "general"


def test_routing_permissions(server):
    agent = make_agent(server, "Reader", available=False)
    token = created(server.post("/v1/tokens", json={"role": "agent", "agentId": agent["id"]}))["token"]
    assert ok(server.get("/v1/routing/configuration", token=token))["defaultQueueId"] == "general"
    assert ok(server.get("/v1/routing/queues", token=token))["items"]
    standard = ok(server.get("/v1/routing/configuration"))
    assert_error(server.request("PUT", "/v1/routing/configuration", token=token, json=standard), 403, "forbidden")
    assert_error(server.get("/v1/routing/kpis", token=token), 403, "forbidden")
    integration = created(server.post("/v1/tokens", json={"role": "integration", "name": "crm"}))["token"]
    assert_error(server.get("/v1/routing/queues", token=integration), 403, "forbidden")

    # An agent does not see the routing of a conversation outside its work.
    cid = inbound(server, f"hidden-{run_id()}@example.test")["conversationId"]
    assert_error(server.get(f"/v1/conversations/{cid}/routing", token=token), 404)
    assert_error(server.post(f"/v1/conversations/{cid}/transfer", token=token, json={"queueId": "general"}), 404)
    assert_error(server.get("/v1/conversations/conv_does_not_exist/routing"), 404)


# -- KPIs --------------------------------------------------------------------------------------


def test_kpis(server):
    run = run_id()
    cid = inbound(server, f"kpi-{run}@example.test")["conversationId"]
    wait_for(lambda: queued_in(server, cid, "general"), ROUTER_TIMEOUT, what="conversation queued")

    # The live queue on /metrics too, for wallboards and alerts.
    def depth_on_metrics():
        found = re.search(r'^sb_routing_queue_depth\{queue="general"\} (\S+)$', server.get("/metrics").text, re.M)
        return found is not None and float(found.group(1)) >= 1
    wait_for(depth_on_metrics, ROUTER_TIMEOUT, what="the queue depth on /metrics")
    assert "sb_routing_occupancy_ratio" in server.get("/metrics").text

    report = ok(server.get("/v1/routing/kpis"))
    assert set(report) == {"since", "until", "items", "queues", "occupancy"}, report
    entries = [k for k in report["items"] if k["queueId"] == "general"]
    assert entries, report
    entry = entries[0]
    assert entry["channel"] == "api" and entry["tier"] == "normal", entry
    assert entry["offered"] >= 1 and entry["answered"] == 0, entry
    assert entry["targetSeconds"] > 0 and 0 <= entry["goalPercent"] <= 100, entry
    assert [q["queueId"] for q in report["queues"]] == ["general"], report

    window = ok(server.get("/v1/routing/kpis", params={"since": "2020-01-01T00:00:00Z", "until": "2020-01-02T00:00:00Z"}))
    assert window["since"] == "2020-01-01T00:00:00Z" and window["until"] == "2020-01-02T00:00:00Z", window
    assert window["items"] == [], window

    assert_error(server.get("/v1/routing/kpis", params={"since": "nonsense"}), 422)
    assert_error(server.get("/v1/routing/kpis", params={"until": "yesterday"}), 422)
    assert_error(server.get("/v1/routing/kpis", params={"since": "2020-01-02T00:00:00Z", "until": "2020-01-01T00:00:00Z"}), 422)
    assert_error(server.get("/v1/routing/kpis", params={"since": "2020-01-01T00:00:00Z", "until": "2020-01-01T00:00:00Z"}), 422)
