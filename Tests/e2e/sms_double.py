"""A double of the SMS providers for the end-to-end tests: Twilio's and Vonage's REST APIs on a loopback port,
and the provider side of their webhooks (signed inbound messages and delivery receipts sent to the hub).

Everything here is written from /work/shared/PROTOCOLS.md and the providers' documentation, never from the
hub's code: the signatures are computed independently (and checked against the providers' published test
vectors by `self_test()`), so a hub that signs or verifies wrongly cannot agree with this file by accident.

The REST side (`SmsDouble`, a real `ThreadingHTTPServer` in a background thread):

- Twilio: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP Basic auth (AccountSid:AuthToken)
  and form fields `To`, `From` | `MessagingServiceSid`, `Body`, `MediaUrl`, `StatusCallback`; answers `201`
  with a Message resource, or Twilio's error JSON `{"code", "message", "more_info", "status"}`. One send is
  kept per `Idempotency-Key` header: a repeat answers the first send again (`201`, same sid).
- Twilio media: `GET /media/{name}` (Basic auth required, as with "HTTP Basic Authentication for media
  access" on), and Twilio's own media URL shape `GET /2010-04-01/Accounts/{AC}/Messages/{MM}/Media/{ME}`
  (Basic auth, then a `307` to an unauthenticated storage URL under `/cdn/`, as the real one redirects).
- Vonage: `POST /sms/json` (form or JSON) with `api_key`, `api_secret`, `from`, `to`, `text`, `type`,
  `client-ref`, `callback`; answers `200` `{"message-count", "messages": [...]}` with a per-message
  `status` ("0" sent, "4" Bad Credentials, "1" Throttled, ...). Long texts are split as Vonage does: one
  entry (with its own message-id) per part. Deduplication on `client-ref` is a convenience of this double
  (Vonage itself has none), so the tests can count stored sends the same way for both providers.
- Scripted answers per recipient (`script(to, *answers)`): the next sends to that number get these answers
  in order (a 429, a 500, a Twilio error code, a Vonage status, a delay), then normal service resumes.

The webhook side: `twilio_signature`, `twilio_json_signature`, `vonage_signature`, and `send_twilio_inbound`,
`send_twilio_status`, `send_vonage_inbound`, `send_vonage_dlr` which POST/GET to the hub as the provider does.
"""

import base64
import hashlib
import hmac
import json
import math
import re
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

TWILIO_API_VERSION = "2010-04-01"
HTTP_TIMEOUT = 10

# -- ids ------------------------------------------------------------------------------------------


def new_twilio_sid(prefix: str = "SM") -> str:
    """A Twilio resource sid: two letters and 32 lowercase hex digits (34 characters), e.g. SM…, MM…, AC…, ME…."""
    return prefix + secrets.token_hex(16)


def new_account_sid() -> str:
    return new_twilio_sid("AC")


def new_vonage_id() -> str:
    """A Vonage message id: 16 uppercase hex digits."""
    return secrets.token_hex(8).upper()


# -- parameters ----------------------------------------------------------------------------------


def pairs_of(params) -> list:
    """(name, value) pairs, as strings, from a dict (a list value gives the name once per value) or a list of pairs."""
    if params is None:
        return []
    items = params.items() if isinstance(params, dict) else params
    out = []
    for name, value in items:
        if isinstance(value, (list, tuple)):
            out.extend((str(name), str(v)) for v in value)
        elif value is not None:
            out.append((str(name), str(value)))
    return out


# -- Twilio signatures ---------------------------------------------------------------------------


def twilio_signature(auth_token: str, url: str, params=None) -> str:
    """`X-Twilio-Signature`: base64(HMAC-SHA1(authToken, url + each parameter's name and value)).

    Parameters are sorted by name; a name given several times contributes each of its values, sorted. Identical
    repeated values count once: Twilio's SDKs sort a *set* of values (their published vector
    `IK+Dwps556ElfBT0I3Rgjkr1wJU=` only matches that way); PROTOCOLS.md does not mention it.
    """
    by_name = defaultdict(set)
    for name, value in pairs_of(params):
        by_name[name].add(value)
    data = url + "".join(name + value for name in sorted(by_name) for value in sorted(by_name[name]))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def twilio_body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def twilio_json_signature(auth_token: str, url: str, body: bytes) -> tuple:
    """For a JSON-bodied callback: the URL with `bodySHA256=<hex sha256 of the raw body>` added to its query,
    and the signature over that URL with an empty parameter list. Returns (signed_url, signature)."""
    signed_url = url + ("&" if "?" in url else "?") + "bodySHA256=" + twilio_body_sha256(body)
    return signed_url, twilio_signature(auth_token, signed_url, [])


def with_default_port(url: str) -> str:
    """The URL with its scheme's default port written out (`https://h/p` -> `https://h:443/p`)."""
    parts = urlsplit(url)
    if parts.port is not None:
        return url
    port = {"https": 443, "http": 80}[parts.scheme]
    return parts._replace(netloc=f"{parts.netloc}:{port}").geturl()


def without_default_port(url: str) -> str:
    parts = urlsplit(url)
    if (parts.scheme, parts.port) in (("https", 443), ("http", 80)):
        return parts._replace(netloc=parts.hostname).geturl()
    return url


# -- Vonage signatures ---------------------------------------------------------------------------

VONAGE_METHODS = {"md5hash": None, "md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def vonage_signature_base(params) -> str:
    """Every parameter but `sig`, sorted by name, `&` and `=` inside values replaced by `_`, as `&k=v&k=v…`."""
    items = sorted((k, v) for k, v in pairs_of(params) if k != "sig")
    return "".join(f"&{k}={v.replace('&', '_').replace('=', '_')}" for k, v in items)


def vonage_signature(params, secret: str, method: str = "md5hash", uppercase: bool = None) -> str:
    """Vonage's `sig`: hex MD5 of base + secret (`md5hash`), or hex HMAC-MD5/SHA1/SHA256/SHA512 of the base keyed by
    the secret. Vonage's own webhooks carry HMAC signatures in uppercase hex and md5hash in lowercase (the SDKs'
    vectors); `uppercase` overrides that."""
    base = vonage_signature_base(params)
    if method not in VONAGE_METHODS:
        raise ValueError(f"unknown Vonage signature method {method!r}")
    if method == "md5hash":
        digest = hashlib.md5((base + secret).encode("utf-8")).hexdigest()
    else:
        digest = hmac.new(secret.encode("utf-8"), base.encode("utf-8"), VONAGE_METHODS[method]).hexdigest()
    if uppercase is None:
        uppercase = method != "md5hash"
    return digest.upper() if uppercase else digest.lower()


# -- segments (an independent count, for num_segments and Vonage's part split) --------------------

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


def sms_segments(text: str) -> dict:
    """{"encoding", "characters" (septets or UTF-16 units), "segments", "perSegment"} as PROTOCOLS.md counts them."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        encoding, units, single, multi = "GSM-7", sum(2 if c in GSM7_EXTENSION else 1 for c in text), 160, 153
    else:
        encoding, units, single, multi = "UCS-2", len(text.encode("utf-16-le")) // 2, 70, 67
    segments = 1 if units <= single else math.ceil(units / multi)
    return {"encoding": encoding, "characters": units, "segments": segments, "perSegment": single if segments == 1 else multi}


# -- scripted answers ----------------------------------------------------------------------------


class Answer:
    """One scripted answer to a send. Twilio: `status` and `body` (JSON) are sent as they are. Vonage: `vonage_status`
    and `error_text` become the message entry of a 200 answer (or `status`/`body` for an HTTP-level answer).
    `delay` waits first; with `proceed` the send is then handled normally (a slow provider)."""

    def __init__(self, status: int = None, body=None, headers: dict = None, delay: float = 0.0, proceed: bool = False,
                 vonage_status: str = None, error_text: str = None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.delay = delay
        self.proceed = proceed
        self.vonage_status = vonage_status
        self.error_text = error_text

    def __repr__(self):
        return f"Answer(status={self.status}, body={self.body}, vonage_status={self.vonage_status}, delay={self.delay})"


def twilio_error_body(status: int, code: int, message: str) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def twilio_error(status: int, code: int, message: str, headers: dict = None) -> Answer:
    return Answer(status=status, body=twilio_error_body(status, code, message), headers=headers)


def twilio_too_many_requests() -> Answer:
    return twilio_error(429, 20429, "Too Many Requests")


def twilio_server_error() -> Answer:
    return twilio_error(500, 20500, "Internal Server Error")


def twilio_invalid_to(to: str) -> Answer:
    return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")


def twilio_unsubscribed() -> Answer:
    return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")


def vonage_error(status: str, error_text: str) -> Answer:
    return Answer(vonage_status=status, error_text=error_text)


def vonage_throttled() -> Answer:
    return vonage_error("1", "Throttled")


def slow(seconds: float) -> Answer:
    """Holds the send for `seconds`, then handles it normally."""
    return Answer(delay=seconds, proceed=True)


# -- the HTTP server -----------------------------------------------------------------------------

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
SHORT_CODE = re.compile(r"^[0-9]{3,8}$")
ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
TWILIO_SEND = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
TWILIO_MEDIA = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)/Media/([^/]+)$")


class Incoming:
    """One request the double received, parsed."""

    def __init__(self, handler: BaseHTTPRequestHandler, body: bytes):
        parts = urlsplit(handler.path)
        self.method = handler.command
        self.path = parts.path
        self.query = parse_qsl(parts.query, keep_blank_values=True)
        self.headers = {k.lower(): v for k, v in handler.headers.items()}
        self.body = body
        self.content_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        self.json = None
        self.pairs = []
        if self.content_type == "application/json":
            try:
                self.json = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                self.json = None
            if isinstance(self.json, dict):
                self.pairs = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in self.json.items()]
        elif self.content_type == "application/x-www-form-urlencoded":
            try:
                self.pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
            except UnicodeDecodeError:
                self.pairs = []
        self.auth = None
        header = self.headers.get("authorization", "")
        if header[:6].lower() == "basic ":
            try:
                user, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
                self.auth = (user, password)
            except (ValueError, UnicodeDecodeError):
                self.auth = None

    def form(self) -> dict:
        """The first value of each field."""
        out = {}
        for k, v in self.pairs:
            out.setdefault(k, v)
        return out

    def all(self, name: str) -> list:
        return [v for k, v in self.pairs if k == name]

    def record(self) -> dict:
        return {
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "headers": dict(self.headers),
            "auth": self.auth,
            "form": self.form(),
            "pairs": list(self.pairs),
            "json": self.json,
            "time": time.monotonic(),
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SmsDouble/1.0"

    def log_message(self, format, *args):  # quiet
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self):
        try:
            request = Incoming(self, self._body())
            status, body, content_type, headers = self.server.double._route(request)
        except Exception as error:  # the double must answer, whatever happens
            status, body, content_type, headers = 500, f"double error: {error!r}".encode(), "text/plain", {}
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading (e.g. a download over its size cap)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _handle


class SmsDouble:
    """Twilio and Vonage REST APIs on 127.0.0.1:<port>. Use as a context manager or start()/close().

    `twilio_accounts`: {AccountSid: AuthToken}; `vonage_accounts`: {api_key: api_secret}.
    """

    def __init__(self, twilio_accounts: dict = None, vonage_accounts: dict = None):
        self.twilio_accounts = dict(twilio_accounts or {})
        self.vonage_accounts = dict(vonage_accounts or {})
        self._cond = threading.Condition()
        self._sends = []  # accepted sends, one per idempotency key / client-ref
        self._attempts = []  # every send request and the answer it got
        self._by_key = {}  # (provider, account, key) -> (status, answer json, send record)
        self._scripts = defaultdict(deque)
        self._media = {}  # name -> (bytes, content type)
        self._twilio_media = {}  # (AC, MM, ME) -> (bytes, content type)
        self._cdn = {}  # token -> (bytes, content type)
        self._media_fetches = []
        self.requests = []  # every request, parsed (for debugging failures)
        self._balance = 10.0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.double = self
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = None

    # -- lifecycle

    def start(self) -> "SmsDouble":
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- what the tests set up

    def script(self, to: str, *answers: Answer):
        """The next sends to `to` (E.164; Vonage's digits match too) get these answers, in order."""
        with self._cond:
            self._scripts[self._number(to)].extend(answers)

    def add_media(self, name: str, data: bytes, content_type: str) -> str:
        """Serves `data` at /media/{name} (Basic auth of any Twilio account required); returns its absolute URL."""
        with self._cond:
            self._media[name] = (bytes(data), content_type)
        return self.url(f"/media/{name}")

    def add_twilio_media(self, account_sid: str, data: bytes, content_type: str, message_sid: str = None) -> str:
        """Serves `data` at Twilio's media URL shape: Basic auth required there, then a 307 to /cdn/… (no auth)."""
        key = (account_sid, message_sid or new_twilio_sid("MM"), new_twilio_sid("ME"))
        with self._cond:
            self._twilio_media[key] = (bytes(data), content_type)
        return self.url(f"/{TWILIO_API_VERSION}/Accounts/{key[0]}/Messages/{key[1]}/Media/{key[2]}")

    # -- what the tests read

    def sent_messages(self, provider: str = None, to: str = None) -> list:
        """Sends the double accepted (one per Idempotency-Key / client-ref), oldest first. Each is a dict:
        provider, to (E.164), text, id (sid / first message-id), ids, idempotency_key, status_callback, answer,
        and the request: method, path, query, headers (lowercase names), auth (user, password) or None, form, pairs, json."""
        with self._cond:
            return [dict(s) for s in self._sends if self._matches(s, provider, to)]

    def attempts(self, provider: str = None, to: str = None) -> list:
        """Every send request, accepted or not, with `answer_status`, `answer` and `deduplicated`."""
        with self._cond:
            return [dict(a) for a in self._attempts if self._matches(a, provider, to)]

    def wait_for_sends(self, n: int, timeout: float = 10.0, provider: str = None, to: str = None, where=None) -> list:
        """Blocks until at least `n` accepted sends match; returns them all. Fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [dict(s) for s in self._sends if self._matches(s, provider, to) and (where is None or where(s))]
                if len(found) >= n:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"{len(found)} matching sends after {timeout}s, wanted {n}; attempts: "
                        + json.dumps([{k: a.get(k) for k in ("provider", "to", "text", "answer_status", "answer")} for a in self._attempts], default=str)
                    )
                self._cond.wait(min(remaining, 0.2))

    def media_fetches(self, path_contains: str = None) -> list:
        """Every media request: {"path", "auth", "authorized", "status"}."""
        with self._cond:
            return [dict(f) for f in self._media_fetches if path_contains is None or path_contains in f["path"]]

    @staticmethod
    def _number(value: str) -> str:
        value = (value or "").strip()
        return value if value.startswith("+") or not value.isdigit() else "+" + value

    def _matches(self, record: dict, provider: str, to: str) -> bool:
        return (provider is None or record["provider"] == provider) and (to is None or record["to"] == self._number(to))

    # -- routing

    def _route(self, request: Incoming):
        with self._cond:
            self.requests.append(request.record())
        match = TWILIO_SEND.match(request.path)
        if match and request.method == "POST":
            return self._twilio_send(request, match.group(1))
        match = TWILIO_MEDIA.match(request.path)
        if match and request.method in ("GET", "HEAD"):
            return self._twilio_media_get(request, match.groups())
        if request.path.startswith("/media/") and request.method in ("GET", "HEAD"):
            return self._media_get(request, request.path[len("/media/"):])
        if request.path.startswith("/cdn/") and request.method in ("GET", "HEAD"):
            return self._cdn_get(request, request.path[len("/cdn/"):])
        if request.path == "/sms/json" and request.method in ("GET", "POST"):
            return self._vonage_send(request)
        if request.path.startswith(f"/{TWILIO_API_VERSION}/"):
            return self._json(404, twilio_error_body(404, 20404, f"The requested resource {request.path} was not found"))
        return self._json(404, {"error": "not found", "path": request.path})

    @staticmethod
    def _json(status: int, body, headers: dict = None):
        return status, json.dumps(body).encode("utf-8"), "application/json", dict(headers or {})

    def _pop_script(self, to: str):
        with self._cond:
            queue = self._scripts.get(self._number(to))
            return queue.popleft() if queue else None

    def _log_attempt(self, base: dict, status: int, answer, deduplicated: bool = False):
        with self._cond:
            self._attempts.append({**base, "answer_status": status, "answer": answer, "deduplicated": deduplicated})
            self._cond.notify_all()

    # -- Twilio REST

    def _twilio_send(self, request: Incoming, account: str):
        form = request.form()
        to = form.get("To", "")
        base = {
            **request.record(),
            "provider": "twilio",
            "account": account,
            "to": self._number(to),
            "text": form.get("Body"),
            "idempotency_key": request.headers.get("idempotency-key"),
            "status_callback": form.get("StatusCallback"),
        }
        token = self.twilio_accounts.get(account)
        if token is None or request.auth is None or not hmac.compare_digest(
            f"{request.auth[0]}:{request.auth[1]}".encode(), f"{account}:{token}".encode()
        ):
            body = {**twilio_error_body(401, 20003, "Authenticate"), "detail": "Your AccountSid or AuthToken was incorrect."}
            self._log_attempt(base, 401, body)
            return self._json(401, body, {"WWW-Authenticate": 'Basic realm="Twilio API"'})

        key = ("twilio", account, base["idempotency_key"]) if base["idempotency_key"] else None
        early = self._replayed_or_scripted(key, base, to)
        if early is not None:
            return early

        error = self._twilio_validate(form, request)
        if error is not None:
            self._log_attempt(base, 400, error)
            return self._json(400, error)

        with self._cond:
            stored = self._by_key.get(key) if key else None
            if stored:  # a concurrent repeat got here first
                self._attempts.append({**base, "answer_status": stored[0], "answer": stored[1], "deduplicated": True})
                self._cond.notify_all()
                return self._json(stored[0], stored[1])
            media = request.all("MediaUrl")
            sid = new_twilio_sid("MM" if media else "SM")
            now = format_datetime(datetime.now(timezone.utc))
            service = form.get("MessagingServiceSid")
            resource = {
                "account_sid": account,
                "api_version": TWILIO_API_VERSION,
                "body": form.get("Body", ""),
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": None if service and not form.get("From") else form.get("From"),
                "messaging_service_sid": service,
                "num_media": str(len(media)),
                "num_segments": str(sms_segments(form.get("Body", ""))["segments"]),
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                # Through a Messaging Service a message is first `accepted`, else `queued`.
                "status": "accepted" if service and not form.get("From") else "queued",
                "subresource_uris": {"media": f"/{TWILIO_API_VERSION}/Accounts/{account}/Messages/{sid}/Media.json"},
                "to": to,
                "uri": f"/{TWILIO_API_VERSION}/Accounts/{account}/Messages/{sid}.json",
            }
            send = {**base, "id": sid, "ids": [sid], "answer_status": 201, "answer": resource}
            self._sends.append(send)
            if key:
                self._by_key[key] = (201, resource)
            self._attempts.append({**send, "deduplicated": False})
            self._cond.notify_all()
        return self._json(201, resource)

    def _replay(self, key, base):
        """A send already stored under this idempotency key is answered as the first time was."""
        stored = self._stored(key)
        if not stored:
            return None
        self._log_attempt(base, stored[0], stored[1], deduplicated=True)
        return self._json(stored[0], stored[1])

    def _replayed_or_scripted(self, key, base, to, vonage_failure=None):
        """The answer a send gets before it is looked at: a replay of a stored one, or a scripted failure.
        Vonage reports its scripted failures in its own body (`vonage_failure(status, text)`); None lets the send go on."""
        replayed = self._replay(key, base)
        if replayed is not None:
            return replayed
        scripted = self._pop_script(to)
        if scripted is None:
            return None
        if scripted.delay:
            time.sleep(scripted.delay)
        if scripted.proceed:
            return None
        if vonage_failure is not None and scripted.vonage_status is not None:
            return vonage_failure(scripted.vonage_status, scripted.error_text or "")
        self._log_attempt(base, scripted.status, scripted.body)
        return self._json(scripted.status, scripted.body, scripted.headers)

    def _stored(self, key):
        if key is None:
            return None
        with self._cond:
            return self._by_key.get(key)

    @staticmethod
    def _twilio_validate(form: dict, request: Incoming):
        to, sender, service = form.get("To"), form.get("From"), form.get("MessagingServiceSid")
        body, media = form.get("Body"), request.all("MediaUrl")
        if not to:
            return twilio_error_body(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            return twilio_error_body(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender and not service:
            return twilio_error_body(400, 21603, "A 'From' phone number is required.")
        if sender and not (E164.match(sender) or SHORT_CODE.match(sender) or ALPHANUMERIC_SENDER.match(sender)):
            return twilio_error_body(400, 21212, f"The 'From' number {sender} is not a valid phone number, shortcode, or alphanumeric sender ID.")
        if service and not re.match(r"^MG[0-9a-f]{32}$", service):
            return twilio_error_body(400, 21701, f"The Messaging Service Sid {service} is invalid.")
        if not body and not media:
            return twilio_error_body(400, 21602, "Message body is required.")
        if body and len(body) > 1600:
            return twilio_error_body(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        callback = form.get("StatusCallback")
        if callback is not None and (urlsplit(callback).scheme not in ("http", "https") or not urlsplit(callback).netloc):
            return twilio_error_body(400, 21609, f"The StatusCallback URL {callback} is not a valid URL.")
        for url in media:
            if urlsplit(url).scheme not in ("http", "https"):
                return twilio_error_body(400, 21620, f"Invalid media URL(s): {url}")
        return None

    # -- media

    def _authorized_twilio(self, request: Incoming, account: str = None) -> bool:
        if request.auth is None:
            return False
        user, password = request.auth
        token = self.twilio_accounts.get(user)
        return token is not None and hmac.compare_digest(password.encode(), token.encode()) and (account is None or user == account)

    def _log_fetch(self, request: Incoming, authorized: bool, status: int):
        with self._cond:
            self._media_fetches.append({"path": request.path, "auth": request.auth, "authorized": authorized, "status": status})
            self._cond.notify_all()

    def _unauthorized(self, request: Incoming):
        self._log_fetch(request, False, 401)
        body = {**twilio_error_body(401, 20003, "Authenticate"), "detail": "Your AccountSid or AuthToken was incorrect."}
        return self._json(401, body, {"WWW-Authenticate": 'Basic realm="Twilio API"'})

    def _media_get(self, request: Incoming, name: str):
        if not self._authorized_twilio(request):
            return self._unauthorized(request)
        with self._cond:
            item = self._media.get(name)
        if item is None:
            self._log_fetch(request, True, 404)
            return self._json(404, twilio_error_body(404, 20404, f"The requested resource {request.path} was not found"))
        self._log_fetch(request, True, 200)
        return 200, item[0], item[1], {}

    def _twilio_media_get(self, request: Incoming, key: tuple):
        if not self._authorized_twilio(request, key[0]):
            return self._unauthorized(request)
        with self._cond:
            item = self._twilio_media.get(key)
            if item is not None:
                token = secrets.token_urlsafe(16)
                self._cdn[token] = item
        if item is None:
            self._log_fetch(request, True, 404)
            return self._json(404, twilio_error_body(404, 20404, f"The requested resource {request.path} was not found"))
        self._log_fetch(request, True, 307)
        location = self.url(f"/cdn/{token}?Expires={int(time.time()) + 14400}&Signature={secrets.token_hex(8)}")
        return 307, b"", "text/plain", {"Location": location}

    def _cdn_get(self, request: Incoming, token: str):
        with self._cond:
            item = self._cdn.get(token)
        self._log_fetch(request, True, 200 if item else 403)
        if item is None:
            return 403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml", {}
        return 200, item[0], item[1], {}

    # -- Vonage REST

    def _vonage_send(self, request: Incoming):
        params = dict(request.query) if request.method == "GET" else request.form()
        to = params.get("to", "")
        base = {
            **request.record(),
            "form": params,
            "provider": "vonage",
            "account": params.get("api_key"),
            "to": self._number(to),
            "text": params.get("text"),
            "idempotency_key": params.get("client-ref"),
            "status_callback": params.get("callback"),
        }

        def answer(messages: list, status_for_log: int = 200):
            body = {"message-count": str(len(messages)), "messages": messages}
            return body

        def failure(status: str, text: str):
            entry = {"status": status, "error-text": text}
            if to:
                entry = {"to": to, **entry}
            body = answer([entry])
            self._log_attempt(base, 200, body)
            return self._json(200, body)

        api_key, api_secret = params.get("api_key"), params.get("api_secret")
        if not api_key:
            return failure("2", "Missing api_key")
        if not api_secret:
            return failure("2", "Missing api_secret")
        secret = self.vonage_accounts.get(api_key)
        if secret is None or not hmac.compare_digest(secret.encode(), api_secret.encode()):
            return failure("4", "Bad Credentials")

        key = ("vonage", api_key, base["idempotency_key"]) if base["idempotency_key"] else None
        early = self._replayed_or_scripted(key, base, to, vonage_failure=failure)
        if early is not None:
            return early

        if not params.get("from"):
            return failure("2", "Missing from param")
        if not to:
            return failure("2", "Missing to param")
        if not re.match(r"^\+?[0-9]{7,15}$", to):
            return failure("3", "Invalid to address")
        kind = params.get("type", "text")
        if kind not in ("text", "unicode", "binary"):
            return failure("3", "Invalid message type")
        text = params.get("text")
        if kind != "binary" and not text:
            return failure("2", "Missing text param")
        if len(params.get("client-ref", "")) > 100:
            return failure("3", "Invalid client-ref: at most 100 characters")

        with self._cond:
            stored = self._by_key.get(key) if key else None
            if stored:
                self._attempts.append({**base, "answer_status": stored[0], "answer": stored[1], "deduplicated": True})
                self._cond.notify_all()
                return self._json(stored[0], stored[1])
            counted = sms_segments(text) if kind == "unicode" else {"segments": self._gsm_parts(text)}
            messages = []
            for _ in range(counted["segments"]):
                self._balance -= 0.0333
                entry = {
                    "to": to,
                    "message-id": new_vonage_id(),
                    "status": "0",
                    "remaining-balance": f"{self._balance:.8f}",
                    "message-price": "0.03330000",
                    "network": "23410",
                }
                if params.get("client-ref"):
                    entry["client-ref"] = params["client-ref"]
                messages.append(entry)
            body = answer(messages)
            ids = [m["message-id"] for m in messages]
            send = {**base, "id": ids[0], "ids": ids, "type": kind, "answer_status": 200, "answer": body}
            self._sends.append(send)
            if key:
                self._by_key[key] = (200, body)
            self._attempts.append({**send, "deduplicated": False})
            self._cond.notify_all()
        return self._json(200, body)

    @staticmethod
    def _gsm_parts(text: str) -> int:
        # type=text: Vonage sends GSM-7; characters it cannot encode become one septet each ("?").
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        return 1 if units <= 160 else math.ceil(units / 153)


# -- the provider's webhooks, sent to the hub ----------------------------------------------------


def twilio_inbound_fields(account_sid: str, from_: str, to: str, body: str, message_sid: str = None, media=(), extra=None) -> dict:
    """The form Twilio POSTs for an incoming SMS/MMS (the real field set, geo fields included).
    `media`: [(url, content_type)]; `extra`: more fields (unknown ones included)."""
    sid = message_sid or new_twilio_sid("MM" if media else "SM")
    fields = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": str(len(media)),
        "ToCity": "",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "ToZip": "",
        "NumSegments": str(sms_segments(body)["segments"]),
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": TWILIO_API_VERSION,
    }
    for i, (url, content_type) in enumerate(media):
        fields[f"MediaContentType{i}"] = content_type
        fields[f"MediaUrl{i}"] = url
    fields.update(extra or {})
    return fields


def twilio_status_fields(account_sid: str, message_sid: str, status: str, to: str, from_: str, error_code: str = None) -> dict:
    """The form of a Twilio delivery status callback."""
    fields = {
        "SmsSid": message_sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": to,
        "MessageSid": message_sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": TWILIO_API_VERSION,
    }
    if error_code is not None:
        fields["ErrorCode"] = str(error_code)
    return fields


def _twilio_headers(signature) -> dict:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1",
        "Accept": "*/*",
        "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
    }
    if signature is not False:
        headers["X-Twilio-Signature"] = signature
    return headers


def send_twilio_inbound(hub_url: str, profile: str, auth_token: str, fields, url_for_signature: str = None,
                        signature=None, timeout: float = HTTP_TIMEOUT) -> requests.Response:
    """POSTs an inbound message to {hub_url}/webhooks/sms/{profile} as Twilio does, signed over `url_for_signature`
    (default: the URL posted to). `signature`: a string to send instead, or False to send none."""
    url = f"{hub_url}/webhooks/sms/{profile}"
    pairs = pairs_of(fields)
    if signature is None:
        signature = twilio_signature(auth_token, url_for_signature or url, pairs)
    return requests.post(url, data=urlencode(pairs).encode("ascii"), headers=_twilio_headers(signature), timeout=timeout)


def send_twilio_status(callback_url: str, auth_token: str, fields, post_to: str = None, signature=None,
                       timeout: float = HTTP_TIMEOUT) -> requests.Response:
    """POSTs a delivery status callback to the `StatusCallback` the hub gave, signed over that URL (query
    included). `post_to`: where to actually send it, when the callback names a public URL that is not the hub's."""
    pairs = pairs_of(fields)
    if signature is None:
        signature = twilio_signature(auth_token, callback_url, pairs)
    return requests.post(post_to or callback_url, data=urlencode(pairs).encode("ascii"), headers=_twilio_headers(signature), timeout=timeout)


def vonage_message_timestamp(when: datetime = None) -> str:
    return (when or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M:%S")


def vonage_inbound_fields(msisdn: str, to: str, text: str, message_id: str = None, api_key: str = None,
                          kind: str = "text", concat: tuple = None, extra=None) -> dict:
    """An inbound SMS as Vonage sends it (numbers are digits without `+`). `concat`: (ref, total, part)."""
    words = text.split()
    fields = {
        "msisdn": msisdn,
        "to": to,
        "messageId": message_id or new_vonage_id(),
        "text": text,
        "type": kind,
        "keyword": words[0].upper() if words else "",
        "message-timestamp": vonage_message_timestamp(),
    }
    if api_key:
        fields["api-key"] = api_key
    if concat is not None:
        ref, total, part = concat
        fields.update({"concat": "true", "concat-ref": str(ref), "concat-total": str(total), "concat-part": str(part)})
    fields.update(extra or {})
    return fields


def vonage_dlr_fields(message_id: str, msisdn: str, to: str, status: str, err_code: str = "0", client_ref: str = None,
                      api_key: str = None) -> dict:
    """A Vonage delivery receipt: `msisdn` is the recipient, `to` the sender (digits); status delivered, expired,
    failed, rejected, accepted, buffered or unknown."""
    fields = {
        "msisdn": msisdn,
        "to": to,
        "network-code": "23410",
        "messageId": message_id,
        "price": "0.03330000",
        "status": status,
        "scts": datetime.now(timezone.utc).strftime("%y%m%d%H%M"),
        "err-code": str(err_code),
        "message-timestamp": vonage_message_timestamp(),
    }
    if client_ref is not None:
        fields["client-ref"] = client_ref
    if api_key is not None:
        fields["api-key"] = api_key
    return fields


def sign_vonage(fields, secret: str, sig_method: str, timestamp=None, nonce=None, sig=None, uppercase=None) -> dict:
    """The fields with `timestamp` (now, unix seconds), `nonce` and `sig` added. `sig`: a string to send instead,
    or False to send none."""
    signed = dict(pairs_of(fields))
    signed.setdefault("timestamp", str(int(time.time()) if timestamp is None else int(timestamp)))
    signed.setdefault("nonce", str(uuid.uuid4()) if nonce is None else nonce)
    if sig is None:
        signed["sig"] = vonage_signature(signed, secret, sig_method, uppercase)
    elif sig is not False:
        signed["sig"] = sig
    return signed


def _vonage_call(url: str, signed: dict, method: str, timeout: float) -> requests.Response:
    headers = {"User-Agent": "Vonage-Webhooks/1.0"}
    if method == "GET":
        query = urlencode(list(signed.items()))  # form encoding, spaces as '+', as Vonage's GET webhooks carry them
        return requests.get(url + ("&" if "?" in url else "?") + query, headers=headers, timeout=timeout)
    if method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return requests.post(url, data=urlencode(list(signed.items())).encode("ascii"), headers=headers, timeout=timeout)
    if method == "JSON":
        headers["Content-Type"] = "application/json"
        return requests.post(url, data=json.dumps(signed, ensure_ascii=False).encode("utf-8"), headers=headers, timeout=timeout)
    raise ValueError(f"method must be GET, POST or JSON, not {method!r}")


def send_vonage_inbound(hub_url: str, profile: str, fields, secret: str, sig_method: str = "md5hash", method: str = "GET",
                        timestamp=None, nonce=None, sig=None, uppercase=None, timeout: float = HTTP_TIMEOUT) -> requests.Response:
    """Delivers an inbound SMS to {hub_url}/webhooks/sms/{profile} as Vonage does: GET with a query, POST form, or
    POST JSON ("JSON"), signed with `timestamp`, `nonce` and `sig` among the parameters."""
    signed = sign_vonage(fields, secret, sig_method, timestamp, nonce, sig, uppercase)
    return _vonage_call(f"{hub_url}/webhooks/sms/{profile}", signed, method, timeout)


def send_vonage_dlr(callback_url: str, fields, secret: str, sig_method: str = "md5hash", method: str = "JSON",
                    post_to: str = None, sign_callback_query: bool = True, timestamp=None, nonce=None, sig=None,
                    uppercase=None, timeout: float = HTTP_TIMEOUT) -> requests.Response:
    """Delivers a receipt to the `callback` URL the hub gave. With POST/JSON the body parameters are signed; with
    GET Vonage's parameters are appended to the callback's query, and (with `sign_callback_query`) the signature
    covers every query parameter the hub will see, the callback's own (`message=`) included."""
    url = post_to or callback_url
    if method == "GET" and sign_callback_query:
        own = dict(parse_qsl(urlsplit(callback_url).query, keep_blank_values=True))
        signed = sign_vonage({**own, **dict(pairs_of(fields))}, secret, sig_method, timestamp, nonce, sig, uppercase)
        for name in own:
            signed.pop(name, None)  # already in the URL's query
    else:
        signed = sign_vonage(fields, secret, sig_method, timestamp, nonce, sig, uppercase)
    return _vonage_call(url, signed, method, timeout)


# -- the double checks itself against the providers' published vectors ---------------------------


def self_test():
    """Raises AssertionError unless the signature code reproduces Twilio's and Vonage's published test vectors."""
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234", "From": "+14158675309", "To": "+18005551212"}
    assert twilio_signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")]
    assert twilio_signature("12345", url, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    body = b'{"property": "value", "boolean": true}'
    assert twilio_body_sha256(body) == "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    signed_url, signature = twilio_json_signature("12345", url, body)
    assert signed_url == url + "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    assert signature == "a9nBmqA0ju/hNViExpshrM61xv4="

    # The Vonage SDKs' vectors: md5hash over a=1,b=2 (secret "secret"), and every method over an inbound SMS.
    assert vonage_signature({"a": "1", "b": "2", "timestamp": "1461605396"}, "secret", "md5hash") == "6af838ef94998832dbfc29020b564830"
    inbound = {
        "message-timestamp": "2013-11-21 15:27:30", "messageId": "020000001B0FE827", "msisdn": "14843472194",
        "text": "Test again", "timestamp": "1385047698", "to": "13239877404", "type": "text",
    }
    for method, expected in {
        "md5hash": "d2e7b1dc968737c5998ad624e02f90b7",
        "md5": "DDEBD46008C2D4E93CCE578A332A52D5",
        "sha1": "27D0D05C2876C7CB1720DBCDBA4D492E1E55C09A",
        "sha256": "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330",
        "sha512": "E0D3C650F8C9D1A5C174D10DDDBFB003E561F59B265616208B0487C5D819481CD3C311D59CF6165ECD1139622D5BA3A256C0D763AC4A9AD9144B5A426B94FE82",
    }.items():
        assert vonage_signature(inbound, "my_secret_key_for_testing", method) == expected, method
    for value in ("_", "&", "="):
        assert vonage_signature({"k": value}, "my_secret_key_for_testing", "md5hash") == "c3d6a686ab9c7e7408bb1c0506e9629a"
    assert vonage_signature({**inbound, "sig": "ignored"}, "my_secret_key_for_testing", "md5hash") == "d2e7b1dc968737c5998ad624e02f90b7"

    assert with_default_port("https://h.example/x?y=1") == "https://h.example:443/x?y=1"
    assert without_default_port("http://h.example:80/x") == "http://h.example/x"
    assert sms_segments("a" * 160)["segments"] == 1 and sms_segments("a" * 161)["segments"] == 2
    assert sms_segments("€" * 80)["segments"] == 1 and sms_segments("€" * 80 + "a")["characters"] == 161
    assert sms_segments("\U0001F600" * 35) == {"encoding": "UCS-2", "characters": 70, "segments": 1, "perSegment": 70}


if __name__ == "__main__":
    self_test()
    print("sms_double: published vectors reproduced")
