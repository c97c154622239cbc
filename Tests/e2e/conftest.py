"""End-to-end fixtures: a real `switchboard serve` process on a loopback port and a temp database.

The binary is taken from $SWITCHBOARD_BIN (default: .build/debug/switchboard of this repo).
Each test that asks for `server` gets its own process and database; the process is always
killed at teardown, even when the test fails.
"""

import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / ".build" / "debug" / "switchboard"
STARTUP_TIMEOUT = 30.0


def switchboard_bin() -> str:
    path = os.environ.get("SWITCHBOARD_BIN") or str(DEFAULT_BIN)
    if not os.access(path, os.X_OK):
        pytest.fail(f"switchboard binary not found or not executable: {path} (set SWITCHBOARD_BIN)")
    return path


def child_env() -> dict:
    """The environment without SWITCHBOARD_* variables, which the binary would read as configuration."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}


def _die_with_parent():
    """Runs in the child before exec: on Linux, SIGKILL it if the test runner dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args, cwd, timeout=60) -> subprocess.CompletedProcess:
    """Runs `switchboard ARGS…` and returns the finished process (text output)."""
    return subprocess.run(
        [switchboard_bin(), *args],
        cwd=cwd,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1, what: str = "condition"):
    """Calls `predicate` until it returns something truthy, and returns that; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(interval)


def get_message(server, message_id: str) -> dict:
    r = server.get(f"/v1/messages/{message_id}")
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    return r.json()


def get_conversation(server, conversation_id: str) -> dict:
    r = server.get(f"/v1/conversations/{conversation_id}")
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    return r.json()


def messages_of(server, conversation_id: str) -> list:
    """Every message of a conversation, oldest first."""
    return server.paginate(f"/v1/conversations/{conversation_id}/messages")


def wait_state(server, message_id: str, *states: str, timeout: float = 10.0) -> dict:
    """Waits until the message's deliveryState is one of `states` and returns the message."""
    last = {}

    def reached():
        last["message"] = get_message(server, message_id)
        return last["message"] if last["message"]["deliveryState"] in states else None

    try:
        return wait_for(reached, timeout, interval=0.1, what=f"message {message_id} in {states}")
    except AssertionError as error:
        raise AssertionError(f"{error}; last seen: {last.get('message')}\n{server.log_tail(20)}") from None


def staff_token(server, role: str) -> str:
    """A new token of `role` (an agent's acts as a new agent), issued through the API by the admin."""
    body = {"role": role}
    if role == "agent":
        agent = server.post("/v1/agents", json={"name": f"Agent {secrets.token_hex(3)}"})
        assert agent.status_code == 201, agent.text
        body["agentId"] = agent.json()["id"]
    r = server.post("/v1/tokens", json=body)
    assert r.status_code == 201, f"{r.status_code} {r.text}"
    return r.json()["token"]


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, f"no output: {text!r}"
    return lines[-1]


def assert_error(response: requests.Response, status: int, code: str = None) -> dict:
    """Checks the API's one error shape: {"error": {"code": "…", "message": "…"}}."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict), body
    assert isinstance(error.get("code"), str) and error["code"], body
    assert isinstance(error.get("message"), str) and error["message"], body
    if code is not None:
        assert error["code"] == code, body
    return error


class Server:
    """A running `switchboard serve`: its URL, an admin token, its database; restart() and kill9()."""

    def __init__(self, workdir: Path, port: int = None):
        self.workdir = workdir
        self.db_path = str(workdir / "switchboard.sqlite")
        self.log_path = workdir / "server.log"
        self.proc = None
        self.port = None
        self.base_url = None
        self.first_port = port  # the port of the first start when the caller chose it (see make_server)
        self.starts = 0
        result = run_cli("token", "create", "--role", "admin", "--database", self.db_path, cwd=workdir)
        assert result.returncode == 0, f"token create failed: {result.stderr}"
        self.admin_token = last_line(result.stdout).strip()
        self.session = requests.Session()

    # -- process control ----------------------------------------------------------------

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = self.first_port or free_port()
        self.first_port = None
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"\n--- start #{self.starts} on port {self.port} ---\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [switchboard_bin(), "serve", "--port", str(self.port), "--database", self.db_path, "--templates", str(REPO_ROOT / "Templates")],
            cwd=self.workdir,
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        log.close()
        self._wait_healthy()

    def _wait_healthy(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last_error = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"switchboard exited with {self.proc.returncode} during startup:\n{self.log_tail()}")
            try:
                r = requests.get(self.url("/healthz"), timeout=2)
                if r.status_code == 200 and r.json() == {"status": "ok"}:
                    return
                last_error = f"{r.status_code} {r.text}"
            except requests.RequestException as error:
                last_error = error
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"switchboard not healthy after {STARTUP_TIMEOUT}s ({last_error}):\n{self.log_tail()}")

    def kill9(self):
        """SIGKILL: no graceful shutdown, nothing flushed that was not already durable."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.session.close()
        self.session = requests.Session()

    def stop(self, grace: float = 10.0):
        """SIGTERM (a graceful shutdown), then SIGKILL if it has not exited within `grace` seconds.

        Returns the exit status (negative: killed by that signal), or None if it was not running.
        """
        if self.proc is None or self.proc.poll() is not None:
            return None
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=30)

    def restart(self, hard: bool = False):
        """Stops the server (SIGKILL when `hard`, else SIGTERM) and starts it on the same database."""
        if hard:
            self.kill9()
        else:
            self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- HTTP helpers ---------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path

    def headers(self, token: str = None) -> dict:
        return {"Authorization": f"Bearer {token or self.admin_token}"}

    def request(self, method: str, path: str, token: str = None, **kwargs) -> requests.Response:
        headers = {**self.headers(token), **kwargs.pop("headers", {})}
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.url(path), headers=headers, **kwargs)

    def get(self, path, token=None, **kwargs):
        return self.request("GET", path, token, **kwargs)

    def post(self, path, token=None, **kwargs):
        return self.request("POST", path, token, **kwargs)

    def inbound(self, from_: str, text: str, external_id: str = None, name: str = None, token=None, session=None):
        body = {"from": from_, "text": text}
        if external_id is not None:
            body["externalId"] = external_id
        if name is not None:
            body["name"] = name
        http = session or self.session
        return http.post(self.url("/v1/inbound"), json=body, headers=self.headers(token), timeout=30)

    def paginate(self, path: str, token: str = None, limit: int = 200, params: dict = None) -> list:
        """Every item of a list endpoint, following nextCursor; checks the page shape on the way."""
        items, cursor, pages = [], None, 0
        while True:
            query = dict(params or {}, limit=limit)
            if cursor is not None:
                query["cursor"] = cursor
            r = self.get(path, token, params=query)
            assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text}"
            body = r.json()
            assert isinstance(body.get("items"), list), body
            assert len(body["items"]) <= limit, f"page of {len(body['items'])} > limit {limit}"
            items.extend(body["items"])
            pages += 1
            assert pages < 10_000, "pagination does not end"
            cursor = body.get("nextCursor")
            if not cursor:
                return items


def _kill(handle: Server):
    # Always killed, whatever the test did: SIGKILL, so a stuck shutdown cannot stall the suite
    # (graceful shutdown has its own tests in test_lifecycle.py).
    if handle.proc is not None and handle.proc.poll() is None:
        handle.proc.kill()
        handle.proc.wait(timeout=30)
    handle.session.close()


@pytest.fixture
def server(tmp_path):
    handle = Server(tmp_path)
    try:
        handle.start()
        yield handle
    finally:
        _kill(handle)


@pytest.fixture
def make_server(tmp_path):
    """A factory: `make_server(config)` writes `config` as switchboard.json into a fresh working
    directory, then starts a server there (the file is read at startup). Killed at teardown like `server`.

    `config` may also be a function of the port: it is then chosen first and the server's first start
    listens on it, for settings that name the server's own URL (e.g. `sms.publicBaseUrl`). A restart
    picks a new port, as for every server."""
    handles = []

    def make(config=None) -> Server:
        workdir = tmp_path / f"server-{len(handles)}"
        workdir.mkdir()
        port = None
        if callable(config):
            port = free_port()
            config = config(port)
        if config is not None:
            (workdir / "switchboard.json").write_text(json.dumps(config))
        handle = Server(workdir, port=port)
        handles.append(handle)
        handle.start()
        return handle

    try:
        yield make
    finally:
        for handle in handles:
            _kill(handle)

class SSEClient:
    """A minimal Server-Sent Events reader over `requests` (stream=True, iter_lines, a read timeout).

    `next_frame()` returns one dispatched frame as a dict with the fields it had (id, event, data,
    retry); comment lines (`: keep-alive`) are kept in `comments`. A read that takes longer than
    `read_timeout` raises, so a missing event fails the test instead of hanging it.
    """

    def __init__(self, server, token: str = None, last_event_id=None, read_timeout: float = 10.0, params: dict = None):
        headers = {**server.headers(token), "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.response = requests.get(
            server.url("/v1/events"), headers=headers, params=params, stream=True, timeout=(5, read_timeout)
        )
        self.comments = []
        self._lines = None
        if self.response.status_code == 200:
            self._lines = self.response.iter_lines()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.response.close()

    def next_frame(self) -> dict:
        frame, data = {}, []
        for raw in self._lines:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            if line == "":
                if data:
                    frame["data"] = "\n".join(data)
                if frame:
                    return frame
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "data":
                data.append(value)
            else:
                assert name not in frame, f"field {name} twice in one frame"
                frame[name] = value
        raise EOFError("the event stream ended")

    def next_event(self) -> dict:
        """The next frame that carries an event, parsed: {"id": int, "event": str, "json": dict}."""
        while True:
            frame = self.next_frame()
            if "event" not in frame and "data" not in frame:
                continue  # e.g. the `retry:` frame
            assert "id" in frame and "event" in frame and "data" in frame, f"incomplete event frame: {frame}"
            event = {"id": int(frame["id"]), "event": frame["event"], "json": json.loads(frame["data"])}
            assert event["json"]["id"] == event["id"], f"frame id {event['id']} != data id {event['json']['id']}"
            assert event["json"]["type"] == event["event"], f"frame event {event['event']} != data type {event['json']['type']}"
            return event

    def events_until(self, predicate, limit: int = 10_000) -> list:
        """Reads events until one satisfies `predicate` (inclusive) and returns them all."""
        events = []
        while len(events) < limit:
            event = self.next_event()
            events.append(event)
            if predicate(event):
                return events
        raise AssertionError(f"no matching event among {limit}")


# -- mail servers (Tests/e2e/mail_servers.py) --------------------------------------------------------


@pytest.fixture
def smtp_capture():
    """A capturing SMTP relay (aiosmtpd) on 127.0.0.1: `.url`, `.messages()`, `.wait_for_messages(n)`, `.reject(…)`."""
    from mail_servers import SmtpCapture

    with SmtpCapture() as capture:
        yield capture


@pytest.fixture
def imap_server():
    """A private Dovecot IMAP server with one mailbox (user `support`, password `pw`): `.url`, `.deliver(raw)`,
    `.messages()`, `.flags_of_all()`. Stopped and removed at teardown.

    Dovecot that cannot start fails the test when running as root (as CI does, where `scripts/install-deps.sh --test`
    installed it), and skips it, with Dovecot's own explanation, for other users."""
    from mail_servers import DovecotImap, MailServerUnavailable

    imap = DovecotImap()
    try:
        imap.start()
    except MailServerUnavailable as error:
        imap.close()
        if os.geteuid() == 0:
            pytest.fail(f"Dovecot did not start: {error}")
        pytest.skip(f"Dovecot cannot run here as uid {os.geteuid()}: {error}")
    try:
        yield imap
    finally:
        imap.close()
