"""The CLI: `token create` and `agent add` print their result alone on the last line, usable against a running server."""

import re

from conftest import assert_error, last_line, run_cli

TOKEN_LINE = re.compile(r"^\S{16,200}$")


def test_token_create_prints_a_working_token_on_the_last_line(server):
    for role in ("admin", "integration"):
        result = run_cli("token", "create", "--role", role, "--database", server.db_path, cwd=server.workdir)
        assert result.returncode == 0, result.stderr
        assert result.stdout.endswith("\n"), repr(result.stdout)
        token = result.stdout.splitlines()[-1]
        assert token == token.strip() and TOKEN_LINE.match(token), f"last line is not a bare token: {token!r}"
        if role == "admin":
            r = server.get("/v1/conversations", token=token)
            assert r.status_code == 200, r.text
            assert "items" in r.json()
        else:
            r = server.inbound("cli@example.test", "from a CLI token", external_id="cli-1", token=token)
            assert r.status_code == 201, r.text
            assert_error(server.get("/v1/conversations", token=token), 403, "forbidden")

    # Another token is not the one printed.
    assert_error(server.get("/v1/conversations", token=token + "x"), 401, "unauthorized")


def test_token_create_works_before_the_server_first_starts(tmp_path):
    database = str(tmp_path / "fresh.sqlite")
    result = run_cli("token", "create", "--role", "admin", "--database", database, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert TOKEN_LINE.match(last_line(result.stdout))


def test_token_create_rejects_an_unknown_role(tmp_path):
    result = run_cli("token", "create", "--role", "emperor", "--database", str(tmp_path / "x.sqlite"), cwd=tmp_path)
    assert result.returncode != 0
    assert "role" in (result.stderr + result.stdout)


def test_agent_add_prints_the_id_and_agent_tokens_act_as_it(server):
    result = run_cli("agent", "add", "--name", "CLI Agent", "--database", server.db_path, cwd=server.workdir)
    assert result.returncode == 0, result.stderr
    agent_id = last_line(result.stdout)
    r = server.get(f"/v1/agents/{agent_id}")
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "CLI Agent" and r.json()["role"] == "agent"

    result = run_cli("token", "create", "--role", "agent", "--agent", agent_id, "--database", server.db_path, cwd=server.workdir)
    assert result.returncode == 0, result.stderr
    token = last_line(result.stdout)
    r = server.get(f"/v1/agents/{agent_id}", token=token)
    assert r.status_code == 200, r.text
    assert_error(server.post("/v1/tokens", token=token, json={"role": "admin"}), 403, "forbidden")


CUSTOMERS_CSV = """externalId,name,email,phone,timeZone,tags,tier,emailMarketing,smsMarketing,lastOrderAt,orders,revenue,loyaltyCard
C1,Ana Lima,ana@Example.com,+15551230001,America/Sao_Paulo,gold;early,,opted_in,,2026-10-01,12,5400.50,LC-1
C2,Bo Chen,bo@example.com,,Asia/Shanghai,,,opted_out,,2026-01-05,2,80,
C3,Bad Zone,c3@example.com,,Mars/Base,,,,,,,,
C4,"Quote, Inc",c4@example.com,+15551230004,,,blocklisted,,opted_in,2026-11-01,100,99999,
C5,Not a number,c5@example.com,12345,,,,,,,,,
"""


def test_customers_import_reports_bad_lines_imports_the_rest_and_exports_them_back(tmp_path):
    """Bad lines are reported with their line numbers (exit 2) while good lines import; a dry run keeps nothing;
    importing again changes nothing; the export reads back as the same customers."""
    db = str(tmp_path / "hub.sqlite")
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS_CSV)

    dry = run_cli("customers", "import", str(source), "--dry-run", "--database", db, cwd=tmp_path)
    assert dry.returncode == 2, dry.stderr
    assert "dry run, nothing kept" in dry.stdout and "3 created" in dry.stdout, dry.stdout
    first = run_cli("customers", "import", str(source), "--database", db, cwd=tmp_path)
    assert first.returncode == 2, first.stderr
    assert re.search(r"^line 4: timeZone: 'Mars/Base'", first.stdout, re.M), first.stdout
    assert re.search(r"^line 6: phone: ", first.stdout, re.M), first.stdout
    assert "3 created, 0 updated, 0 unchanged, 2 not imported" in last_line(first.stdout), first.stdout

    again = run_cli("customers", "import", str(source), "--database", db, cwd=tmp_path)
    assert "0 created, 0 updated, 3 unchanged" in last_line(again.stdout), again.stdout

    exported = run_cli("customers", "export", "--database", db, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    lines = exported.stdout.splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["externalId", "name", "email"] and "loyaltyCard" in header, header
    rows = {line.split(",")[0]: line for line in lines[1:]}
    assert set(rows) == {"C1", "C2", "C4"}, rows
    assert "ana@example.com" in rows["C1"] and "gold;early" in rows["C1"] and "opted_in" in rows["C1"]
    assert '"Quote, Inc"' in rows["C4"] and "blocklisted" in rows["C4"]

    # What was exported imports into a fresh hub as the same customers.
    copy = tmp_path / "export.csv"
    copy.write_text(exported.stdout)
    fresh = run_cli("customers", "import", str(copy), "--database", str(tmp_path / "fresh.sqlite"), cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "3 created" in last_line(fresh.stdout), fresh.stdout
    reexported = run_cli("customers", "export", "--database", str(tmp_path / "fresh.sqlite"), cwd=tmp_path)
    assert sorted(reexported.stdout.splitlines()) == sorted(lines)


def test_customers_import_refuses_a_file_without_external_ids(tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text("name,email\nAna,ana@example.com\n")
    result = run_cli("customers", "import", str(source), "--database", str(tmp_path / "hub.sqlite"), cwd=tmp_path)
    assert result.returncode != 0 and "externalId" in result.stderr, result.stderr
