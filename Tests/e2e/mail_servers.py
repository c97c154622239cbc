"""Real mail servers on loopback for the email end-to-end tests.

`SmtpCapture` is the hub's SMTP relay: an aiosmtpd server in a background thread (its own event loop) that
keeps every envelope it accepted (`Received`: mail_from, rcpt_tos, the raw bytes, and the message parsed with
`email.policy.default`) and every attempt it saw (`Attempt`: one per RCPT TO and per DATA, with the reply it
gave). Replies are programmable per recipient: `reject(address, "550 5.1.1 user unknown")` refuses for good,
`reject(address, "451 4.3.0 try later", times=2)` refuses the next two attempts and then accepts,
`stage="data"` refuses at the end of DATA instead of at RCPT TO. `require_auth=(user, password)` makes the
server demand AUTH (PLAIN/LOGIN, allowed without TLS on loopback).

`DovecotImap` is the center's mailbox: a private Dovecot 2.3 instance in its own temporary directory
(`base_dir`, `state_dir`, `log_path` and `instance_name` all its own, so it never touches the system's
Dovecot), one user with a `{PLAIN}` password in a passwd-file, a static userdb, a Maildir under the user's
home, plain IMAP without TLS on 127.0.0.1 at a free port. `deliver(raw)` drops a message into
`Maildir/new/` the way an MDA does (written in `tmp/`, renamed into `new/`, owned by the mail user);
`messages()` / `flags_of_all()` read the mailbox back over IMAP with `imaplib`. As root the mail user is
`dovecot` and logins run as `dovenull`; as another user everything runs as that user (Dovecot's rootless
mode). If Dovecot is missing or cannot start, `MailServerUnavailable` says why, with Dovecot's log.

Nothing here imports the hub's code: these are the real protocols, so a hub that speaks them wrongly cannot
agree with this file by accident.
"""

import contextlib
import ctypes
import email
import email.policy
import imaplib
import os
import pwd
import grp
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage

SMTP_WAIT = 10.0
DOVECOT_START_TIMEOUT = 20.0


class MailServerUnavailable(RuntimeError):
    """A mail server could not be started on this machine (missing binary, no permission); the message says why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    """Runs in a child before exec: on Linux, SIGKILL it if the test runner dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def parse_message(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


# -- SMTP ------------------------------------------------------------------------------------------


@dataclass
class Received:
    """One message the capture server accepted (after the final `250` to DATA)."""

    mail_from: str
    rcpt_tos: list
    raw: bytes
    message: EmailMessage
    peer: tuple
    time: float
    auth_login: str = None


@dataclass
class Attempt:
    """One RCPT TO or DATA the server answered, accepted or not."""

    stage: str  # "rcpt" | "data"
    mail_from: str
    rcpt: str  # the recipient (for "data": each recipient of the envelope gets its own entry)
    reply: str  # the full reply line, e.g. "250 OK" or "451 4.3.0 try later"
    time: float

    @property
    def code(self) -> int:
        return int(self.reply[:3])

    @property
    def accepted(self) -> bool:
        return self.reply.startswith("2")


@dataclass
class _Rule:
    reply: str
    stage: str
    remaining: int = None  # None: for ever


def _address_key(address: str) -> str:
    return address.strip().strip("<>").lower()


class _CaptureHandler:
    """aiosmtpd handler hooks; they run on the controller's event loop thread."""

    def __init__(self, capture: "SmtpCapture"):
        self.capture = capture

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.capture._answer("rcpt", envelope.mail_from, address)
        if reply is None:
            envelope.rcpt_tos.append(address)
            return "250 OK"
        return reply

    async def handle_DATA(self, server, session, envelope):
        replies = [self.capture._answer("data", envelope.mail_from, rcpt) for rcpt in envelope.rcpt_tos]
        refused = [r for r in replies if r is not None]
        if refused:
            return refused[0]
        raw = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        login = getattr(session, "auth_data", None) if getattr(session, "authenticated", False) else None
        if isinstance(login, bytes):
            login = login.decode("utf-8", "replace")
        self.capture._store(Received(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            raw=bytes(raw),
            message=parse_message(bytes(raw)),
            peer=session.peer,
            time=time.monotonic(),
            auth_login=login,
        ))
        return "250 2.0.0 OK: queued"


class SmtpCapture:
    """A capturing SMTP relay on 127.0.0.1 (see the module docstring). Use as a context manager or start()/close()."""

    def __init__(self, require_auth: tuple = None, hostname: str = "relay.example.test", starttls: tuple = None):
        self.require_auth = require_auth
        self.starttls = starttls  # (certfile, keyfile): offer STARTTLS and refuse mail before it
        self.hostname = hostname
        self.host = "127.0.0.1"
        self.port = None
        self._controller = None
        self._lock = threading.Condition()
        self._messages = []
        self._attempts = []
        self._rules = {}  # address key -> [_Rule]
        self._sessions = 0

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> "SmtpCapture":
        from aiosmtpd.controller import Controller  # a test dependency (scripts/install-deps.sh --test)

        kwargs = dict(enable_SMTPUTF8=True, decode_data=False, server_hostname=self.hostname, ident="capture")
        if self.require_auth is not None:
            user, password = self.require_auth

            def authenticator(server, session, envelope, mechanism, auth_data):
                from aiosmtpd.smtp import AuthResult, LoginPassword

                ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode()
                return AuthResult(success=ok, auth_data=user if ok else None)

            kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=False)
        if self.starttls is not None:
            import ssl

            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self.starttls)
            kwargs.update(tls_context=context, require_starttls=True)
        last_error = None
        for _ in range(5):  # the free port may be taken between choosing it and binding it
            self.port = free_port()
            controller = Controller(_CaptureHandler(self), hostname=self.host, port=self.port, ready_timeout=10, **kwargs)
            try:
                controller.start()
            except Exception as error:  # noqa: BLE001 - retried with another port, reported below
                last_error = error
                continue
            self._controller = controller
            return self
        raise MailServerUnavailable(f"the SMTP capture server did not start: {last_error}")

    def close(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    # -- programmable replies -----------------------------------------------------------------------

    def reject(self, address: str, reply: str, times: int = None, stage: str = "rcpt"):
        """Answers `reply` (e.g. "550 5.1.1 <x@y>: user unknown") to the next `times` attempts for `address`
        (all of them when None) at RCPT TO (`stage="rcpt"`) or after DATA (`stage="data"`), then accepts."""
        assert stage in ("rcpt", "data"), stage
        assert re.fullmatch(r"[45]\d\d[ -].+", reply), f"not an SMTP error reply: {reply!r}"
        with self._lock:
            self._rules.setdefault(_address_key(address), []).append(_Rule(reply, stage, times))

    def accept_all(self):
        with self._lock:
            self._rules.clear()

    def _answer(self, stage: str, mail_from: str, address: str):
        """The scripted refusal for this attempt, or None to accept; every attempt is recorded."""
        with self._lock:
            reply = None
            rules = self._rules.get(_address_key(address), [])
            for rule in rules:
                if rule.stage == stage:
                    reply = rule.reply
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            rules.remove(rule)
                    break
            self._attempts.append(Attempt(stage, mail_from, address, reply or "250 OK", time.monotonic()))
            self._lock.notify_all()
            return reply

    def _store(self, received: Received):
        with self._lock:
            self._messages.append(received)
            self._lock.notify_all()

    # -- what arrived -------------------------------------------------------------------------------

    def messages(self, to: str = None) -> list:
        """Accepted messages in arrival order, optionally only those with `to` among the envelope recipients."""
        with self._lock:
            found = list(self._messages)
        if to is not None:
            key = _address_key(to)
            found = [m for m in found if key in {_address_key(r) for r in m.rcpt_tos}]
        return found

    def attempts(self, to: str = None, stage: str = None) -> list:
        with self._lock:
            found = list(self._attempts)
        return [a for a in found if (to is None or _address_key(a.rcpt) == _address_key(to)) and (stage is None or a.stage == stage)]

    def wait_for_messages(self, n: int, timeout: float = SMTP_WAIT, to: str = None, where=None) -> list:
        """Waits until at least `n` accepted messages match (`to`, and `where(received)` when given) and returns
        them; fails with what did arrive after `timeout` seconds."""
        deadline = time.monotonic() + timeout

        def matching():
            return [m for m in self.messages(to) if where is None or where(m)]

        with self._lock:
            while True:
                found = matching()
                if len(found) >= n:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(m.rcpt_tos, m.message.get("Subject")) for m in self._messages]
                    attempts = [(a.stage, a.rcpt, a.reply) for a in self._attempts]
                    raise AssertionError(f"{len(found)} of {n} messages to {to or 'anyone'} within {timeout}s; "
                                         f"accepted: {seen}; attempts: {attempts}")
                self._lock.wait(min(left, 0.2))

    def wait_for_attempts(self, n: int, timeout: float = SMTP_WAIT, to: str = None, stage: str = "rcpt") -> list:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = self.attempts(to, stage)
                if len(found) >= n:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(found)} of {n} {stage} attempts to {to or 'anyone'} within {timeout}s: {found}")
                self._lock.wait(min(left, 0.2))


# -- IMAP (Dovecot) --------------------------------------------------------------------------------


def dovecot_binary() -> str:
    return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)), None)


@dataclass
class MailboxEntry:
    uid: int
    flags: frozenset
    message_id: str = None
    subject: str = None


@dataclass
class _Accounts:
    """Who Dovecot runs as: its internal user, its login user, and the owner of the mail."""

    internal: str
    login: str
    mail_uid: int
    mail_gid: int
    rootless: bool = False


def _accounts() -> _Accounts:
    if os.geteuid() == 0:
        try:
            mail = pwd.getpwnam("dovecot")
            pwd.getpwnam("dovenull")
        except KeyError as error:
            raise MailServerUnavailable(f"the system users dovecot/dovenull are missing ({error}): is dovecot-imapd installed?") from None
        return _Accounts("dovecot", "dovenull", mail.pw_uid, mail.pw_gid)
    me = pwd.getpwuid(os.getuid())
    return _Accounts(me.pw_name, me.pw_name, me.pw_uid, os.getgid(), rootless=True)


class DovecotImap:
    """A private Dovecot IMAP server with one mailbox (see the module docstring). Context manager or start()/stop()."""

    def __init__(self, user: str = "support", password: str = "pw"):
        self.user = user
        self.password = password
        self.host = "127.0.0.1"
        self.port = None
        self.proc = None
        self.dir = None
        self._accounts = None
        self._sequence = 0
        self._sequence_lock = threading.Lock()

    # -- paths --------------------------------------------------------------------------------------

    @property
    def base_dir(self) -> str:
        return os.path.join(self.dir, "run")

    @property
    def log_path(self) -> str:
        return os.path.join(self.dir, "dovecot.log")

    @property
    def config_path(self) -> str:
        return os.path.join(self.dir, "dovecot.conf")

    @property
    def maildir(self) -> str:
        return os.path.join(self.dir, "home", self.user, "Maildir")

    @property
    def url(self) -> str:
        return f"imap://{self.host}:{self.port}/INBOX"

    def log(self, lines: int = 60) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "\n".join(f.read().splitlines()[-lines:])
        except OSError:
            return "(no dovecot log)"

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> "DovecotImap":
        binary = dovecot_binary()
        if binary is None:
            raise MailServerUnavailable("dovecot is not installed (scripts/install-deps.sh --test installs dovecot-imapd)")
        self._accounts = _accounts()
        if self.dir is None:
            self._prepare()
        last_error = None
        for _ in range(3):  # a free port can be taken between choosing it and Dovecot binding it
            self.port = free_port()
            self._write_config()
            try:
                self._launch(binary)
                return self
            except MailServerUnavailable as error:
                last_error = error
                if "in use" not in str(error).lower():
                    break
        self.close()
        raise last_error

    def _prepare(self):
        # Not under pytest's tmp_path: its root is private to the runner (0700), and Dovecot's mail processes
        # run as the mail user, who must be able to walk down to the Maildir. Short, too: unix socket paths
        # under base_dir must stay under 108 bytes.
        self.dir = tempfile.mkdtemp(prefix="sb-imap-")
        os.chmod(self.dir, 0o755)
        uid, gid = self._accounts.mail_uid, self._accounts.mail_gid
        home = os.path.join(self.dir, "home", self.user)
        for path in (os.path.join(self.dir, "home"), home, self.maildir, *(os.path.join(self.maildir, d) for d in ("cur", "new", "tmp"))):
            os.makedirs(path, exist_ok=True)
        for path in (home, self.maildir, *(os.path.join(self.maildir, d) for d in ("cur", "new", "tmp"))):
            os.chown(path, uid, gid)
            os.chmod(path, 0o700)
        os.chmod(os.path.join(self.dir, "home"), 0o755)
        os.makedirs(os.path.join(self.dir, "state"), exist_ok=True)
        users = os.path.join(self.dir, "users")
        with open(users, "w") as f:
            f.write(f"{self.user}:{{PLAIN}}{self.password}\n")
        os.chmod(users, 0o644)

    def _write_config(self):
        a = self._accounts
        rootless = ""
        if a.rootless:
            # Without root nothing can chroot, and every service runs as the invoking user.
            rootless = "\n".join([
                "service imap-login {\n  chroot =\n}",
                "service anvil {\n  chroot =\n}",
                "service auth {\n  user = $default_internal_user\n}",
                "service auth-worker {\n  user = $default_internal_user\n}",
            ])
            rootless += f"\ndefault_internal_group = {grp.getgrgid(a.mail_gid).gr_name}\n"
        config = f"""# A private Dovecot for Switchboard's end-to-end tests (Tests/e2e/mail_servers.py).
instance_name = sb-e2e-{secrets.token_hex(4)}
base_dir = {self.base_dir}
state_dir = {os.path.join(self.dir, "state")}
log_path = {self.log_path}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
default_login_user = {a.login}
default_internal_user = {a.internal}
first_valid_uid = {a.mail_uid}
last_valid_uid = {a.mail_uid}
first_valid_gid = {a.mail_gid}
last_valid_gid = {a.mail_gid}
mail_location = maildir:~/Maildir
mail_fsync = always
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {os.path.join(self.dir, "users")}
}}
userdb {{
  driver = static
  args = uid={a.mail_uid} gid={a.mail_gid} home={os.path.join(self.dir, "home")}/%u
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{rootless}
"""
        with open(self.config_path, "w") as f:
            f.write(config)
        os.chmod(self.config_path, 0o644)

    def _launch(self, binary: str):
        with open(self.log_path, "ab") as log:
            log.write(f"--- starting on port {self.port} ---\n".encode())
        self.proc = subprocess.Popen(
            [binary, "-F", "-c", self.config_path],
            stdin=subprocess.DEVNULL,
            stdout=open(os.path.join(self.dir, "dovecot.out"), "ab"),
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + DOVECOT_START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise MailServerUnavailable(f"dovecot exited with {code} during startup:\n{self._startup_output()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=2) as s:
                    s.settimeout(2)
                    greeting = s.recv(512)
                    if greeting.startswith(b"* OK"):
                        return
                    last = greeting
            except OSError as error:
                last = error
            time.sleep(0.05)
        self._terminate()
        raise MailServerUnavailable(f"dovecot did not accept IMAP connections on port {self.port} within "
                                    f"{DOVECOT_START_TIMEOUT}s ({last}):\n{self._startup_output()}")

    def _startup_output(self) -> str:
        log = self.log()
        try:
            with open(os.path.join(self.dir, "dovecot.out"), errors="replace") as f:
                out = [line for line in f.read().splitlines() if line.strip() and line not in log]
        except OSError:
            out = []
        return "\n".join(out + [log])

    def _terminate(self, timeout: float = 10.0):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            pid = self.proc.pid
            try:
                with open(os.path.join(self.base_dir, "master.pid")) as f:
                    pid = int(f.read().strip() or pid)
            except (OSError, ValueError):
                pass
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def stop(self):
        """Stops Dovecot (SIGTERM to the pid in base_dir/master.pid, then waits); the mailbox stays for a restart."""
        self._terminate()

    def restart(self):
        self.stop()
        binary = dovecot_binary()
        self._write_config()
        self._launch(binary)

    def close(self):
        """Stops Dovecot and removes its directory."""
        self._terminate()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- the mailbox --------------------------------------------------------------------------------

    def deliver(self, raw, flags: str = "") -> str:
        """Puts one message into INBOX as a local delivery agent does: written under tmp/, then renamed into new/
        (or into cur/ with Maildir `flags` such as "S" for \\Seen), owned by the mail user. Returns the file name."""
        if isinstance(raw, EmailMessage):
            raw = raw.as_bytes()
        with self._sequence_lock:
            self._sequence += 1
            sequence = self._sequence
        now = time.time()
        name = f"{int(now)}.M{int(now * 1e6) % 1_000_000}P{os.getpid()}Q{sequence}R{secrets.token_hex(4)}.sb-e2e"
        temporary = os.path.join(self.maildir, "tmp", name)
        with open(temporary, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chown(temporary, self._accounts.mail_uid, self._accounts.mail_gid)
        os.chmod(temporary, 0o600)
        if flags:
            final = os.path.join(self.maildir, "cur", f"{name}:2,{''.join(sorted(flags))}")
        else:
            final = os.path.join(self.maildir, "new", name)
        os.rename(temporary, final)
        return os.path.basename(final)

    @contextlib.contextmanager
    def session(self, readonly: bool):
        """A logged-in IMAP client with INBOX selected, and its message count; logged out afterwards."""
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(self.user, self.password)
        try:
            status, data = client.select("INBOX", readonly=readonly)
            assert status == "OK", data
            yield client, int(data[0])
        finally:
            try:
                client.logout()
            except Exception:  # noqa: BLE001
                pass

    def messages(self) -> list:
        """Every message in INBOX (read-only, nothing marked): [MailboxEntry(uid, flags, message_id, subject)] by UID."""
        with self.session(readonly=True) as (client, count):
            if count == 0:
                return []
            status, data = client.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID SUBJECT)])")
            assert status == "OK", data
        entries = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            meta, headers = item
            meta = meta.decode()
            uid = int(re.search(r"UID (\d+)", meta).group(1))
            flags = frozenset(re.search(r"FLAGS \(([^)]*)\)", meta).group(1).split())
            parsed = parse_message(headers)
            message_id = parsed.get("Message-ID")
            subject = parsed.get("Subject")
            entries.append(MailboxEntry(uid, flags, str(message_id).strip() if message_id else None, str(subject) if subject else None))
        return sorted(entries, key=lambda e: e.uid)

    def flags_of_all(self) -> dict:
        """{uid: frozenset of flags} of every message in INBOX."""
        return {entry.uid: entry.flags for entry in self.messages()}

    def set_flags(self, flags: str, add: bool):
        """Adds (or removes) `flags` (e.g. "\\\\Seen") on every message, as another mail client would."""
        with self.session(readonly=False) as (client, count):
            if count == 0:
                return
            status, data = client.uid("STORE", "1:*", "+FLAGS.SILENT" if add else "-FLAGS.SILENT", f"({flags})")
            assert status == "OK", data


def self_test():
    """Starts both servers, sends one mail through the capture and delivers one to Dovecot; raises on any problem."""
    import smtplib

    with SmtpCapture() as capture:
        capture.reject("nobody@example.test", "550 5.1.1 <nobody@example.test>: user unknown")
        capture.reject("later@example.test", "451 4.3.0 try later", times=1)
        message = EmailMessage()
        message["From"] = "a@example.test"
        message["To"] = "b@example.test"
        message["Subject"] = "测试"
        message.set_content("hello")
        with smtplib.SMTP(capture.host, capture.port, timeout=10) as client:
            client.send_message(message)
            try:
                client.send_message(message, to_addrs=["nobody@example.test"])
                raise AssertionError("a refused recipient was accepted")
            except smtplib.SMTPRecipientsRefused as error:
                assert error.recipients["nobody@example.test"][0] == 550, error.recipients
            try:
                client.send_message(message, to_addrs=["later@example.test"])
                raise AssertionError("a deferred recipient was accepted")
            except smtplib.SMTPRecipientsRefused as error:
                assert error.recipients["later@example.test"][0] == 451, error.recipients
            client.send_message(message, to_addrs=["later@example.test"])
        [first] = capture.wait_for_messages(1, to="b@example.test")
        assert str(first.message["Subject"]) == "测试" and first.rcpt_tos == ["b@example.test"], first
        capture.wait_for_messages(1, to="later@example.test")
        assert [a.code for a in capture.attempts("later@example.test", "rcpt")] == [451, 250]
    with DovecotImap() as imap:
        imap.deliver(message)
        [entry] = imap.messages()
        assert "\\Seen" not in entry.flags and entry.subject == "测试", entry
        imap.set_flags("\\Seen", True)
        assert imap.flags_of_all() == {entry.uid: frozenset({"\\Seen"})}, imap.flags_of_all()
        imap.restart()
        assert [e.uid for e in imap.messages()] == [entry.uid]
    return "ok"


if __name__ == "__main__":
    print(self_test())
