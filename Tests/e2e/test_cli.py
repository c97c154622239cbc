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
