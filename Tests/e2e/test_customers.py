"""Customers through the API: profile completeness against the required fields, and merging two profiles of
one person (supervisors and admins only)."""

from conftest import assert_error, staff_token


def inbound(server, from_: str, text: str, name: str = None) -> dict:
    r = server.inbound(from_, text, name=name)
    assert r.status_code == 201, f"{r.status_code} {r.text}"
    return r.json()


def test_completeness_per_customer_and_overall(make_server):
    """With required fields name, email and company: a customer with a name and an email is 66 %, missing
    company; the report averages every profile and says how many are complete."""
    hub = make_server({"customers": {"requiredFields": ["name", "email", "company"]}})
    ana = inbound(hub, "ana", "hello", name="Ana")
    r = hub.post(f"/v1/customers/{ana['customerId']}/identities", json={"channel": "email", "address": "ana@example.com"})
    assert r.status_code == 201, r.text
    score = hub.get(f"/v1/customers/{ana['customerId']}/completeness").json()
    assert score == {"customerId": ana["customerId"], "percent": 66, "missing": ["company"]}, score
    assert hub.request("PATCH", f"/v1/customers/{ana['customerId']}", json={"attributes": {"company": "Acme"}}).status_code == 200
    inbound(hub, "bob", "hi")
    report = hub.get("/v1/reports/completeness").json()
    assert report["customers"] == 2 and report["complete"] == 1, report
    assert report["averagePercent"] == 50 and report["filled"]["company"] == 0.5, report
    assert_error(hub.get("/v1/customers/cus_missing/completeness"), 404)


def test_merging_two_profiles_of_one_person(server):
    """The profile in the path remains and keeps its values; the other's identities and conversations move to it
    and it is gone. Agents may not merge (403); merging into itself is 422; an unknown customer 404."""
    mail = inbound(server, "ana@example.com", "by mail", name="Ana")
    chat = inbound(server, "ana-crm-7", "by the CRM", name="Ana Lima")
    assert_error(server.post(f"/v1/customers/{mail['customerId']}/merge", token=staff_token(server, "agent"),
                             json={"customerId": chat["customerId"]}), 403)
    r = server.post(f"/v1/customers/{mail['customerId']}/merge", token=staff_token(server, "supervisor"), json={"customerId": chat["customerId"]})
    assert r.status_code == 200, r.text
    assert r.json()["customer"]["name"] == "Ana" and r.json()["mergedId"] == chat["customerId"], r.json()
    identities = server.get(f"/v1/customers/{mail['customerId']}/identities").json()["items"]
    assert sorted(i["address"] for i in identities) == ["ana-crm-7", "ana@example.com"], identities
    assert server.get(f"/v1/conversations/{chat['conversationId']}").json()["customerId"] == mail["customerId"]
    assert_error(server.get(f"/v1/customers/{chat['customerId']}"), 404)
    assert_error(server.post(f"/v1/customers/{mail['customerId']}/merge", json={"customerId": mail["customerId"]}), 422)
    assert_error(server.post(f"/v1/customers/{mail['customerId']}/merge", json={"customerId": "cus_missing"}), 404)
