#!/usr/bin/env python3
"""Realtime benchmark client: many web chat visitors on WebSockets at once, each sending and receiving.

1. Creates VISITORS sessions (POST /webchat/v1/sessions, 64 worker threads, one requests.Session each).
2. Opens one WebSocket per visitor (200 handshakes at a time): hello, ready, one `message` frame, its ack
   (which names the visitor's conversation).
3. For DURATION seconds an agent driver POSTs replies at RATE/s to random visitors' conversations, each
   text carrying its send time (time.time_ns()); the visitor's socket records now - that time when the
   reply arrives: the fan-out latency (commit + fan-out + socket, one machine, one clock). Meanwhile every
   visitor sends a message about once a minute (Poisson, over all visitors).
4. Waits for replies still in flight (5 s grace), closes every socket and prints the summary, also after a
   partial failure. Exit status 1 when a reply was lost or fewer than VISITORS clients connected.

Usage: webchat_fanout.py --url http://127.0.0.1:18092 --token ADMIN_TOKEN [--pid SERVER_PID]
       [--visitors 10000] [--duration 30] [--rate 200]   (defaults from $VISITORS, $DURATION, $RATE)
Needs: python3, requests, websockets >= 14. Webchat rate limits must be raised (webchat.sh does it).
"""

import argparse
import asyncio
import inspect
import json
import math
import os
import random
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

FANOUT_P99_CEILING_MS = 50.0  # DESIGN.md §6: 10,000 open WebSocket/SSE clients on one node, fan-out p99 <= 50 ms
TARGET_CLIENTS = 10_000
IDLE_RSS_CEILING_MB = 60.0  # DESIGN.md §6: idle server RSS <= 60 MB
SESSION_WORKERS = 64
HANDSHAKES_AT_ONCE = 200
REPLY_WORKERS = 32
GRACE_SECONDS = 5.0
VISITOR_MESSAGE_INTERVAL = 60.0  # seconds between one visitor's messages, on average

_NO_PROXY = {"proxy": None} if "proxy" in inspect.signature(connect.__init__).parameters else {}


# -- measurements ---------------------------------------------------------------------------------


def rss_mb(pid):
    """The server's resident set (VmRSS) in MB, or None when unknown."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    index = math.ceil(p / 100.0 * len(sorted_values)) - 1  # nearest rank
    return sorted_values[min(len(sorted_values) - 1, max(0, index))]


class CPUMeter:
    """This process's CPU time (all threads) over wall time: 1.0 = one core busy."""

    def __init__(self):
        self.cpu, self.wall = time.process_time(), time.monotonic()

    def share(self):
        wall = time.monotonic() - self.wall
        return (time.process_time() - self.cpu) / wall if wall > 0 else 0.0


class Stats:
    def __init__(self):
        self.sessions_ok = 0
        self.session_errors = []
        self.session_seconds = 0.0
        self.connected = 0
        self.first_acked = 0
        self.connect_errors = []
        self.connect_seconds = 0.0
        self.visitor_sent = 0
        self.visitor_send_failed = 0
        self.visitor_acked = 0
        self.error_frames = {}
        self.disconnects = 0
        self.replies_posted = 0  # answered 2xx
        self.replies_failed = []
        self.replies_skipped = 0  # the driver fell behind (too many in flight)
        self.posted_seqs = set()
        self.received = {}  # seq -> times received
        self.latencies_ns = []
        self.loop_lag_ms = []
        self.rss = {}
        self.cpu = {}
        self.measure_seconds = 0.0
        self.closing = False

    def on_reply(self, seq, latency_ns):
        count = self.received.get(seq, 0)
        self.received[seq] = count + 1
        if count == 0:
            self.latencies_ns.append(latency_ns)

    def lost(self):
        return sorted(self.posted_seqs - set(self.received))


class Visitor:
    __slots__ = ("index", "token", "ws", "conversation_id", "first_ack", "reader", "alive", "sent")

    def __init__(self, index, token):
        self.index = index
        self.token = token
        self.ws = None
        self.conversation_id = None
        self.first_ack = asyncio.Event()
        self.reader = None
        self.alive = False
        self.sent = 0


# -- phase 1: sessions ----------------------------------------------------------------------------


def create_sessions(base_url, n, stats):
    local = threading.local()
    sessions, lock = [], threading.Lock()

    def one(i):
        http = getattr(local, "http", None)
        if http is None:
            http = local.http = requests.Session()
            with lock:
                sessions.append(http)
        last = None
        for attempt in range(3):
            try:
                r = http.post(f"{base_url}/webchat/v1/sessions", json={"site": "default", "name": f"Bench visitor {i}"}, timeout=30)
                if r.status_code == 201:
                    return r.json()["token"]
                last = f"{r.status_code} {r.text[:200]}"
            except requests.RequestException as error:
                last = repr(error)
            time.sleep(0.2 * (attempt + 1))
        with lock:
            stats.session_errors.append(last)
        return None

    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=SESSION_WORKERS) as pool:
            tokens = list(pool.map(one, range(n)))
    finally:
        for http in sessions:
            http.close()
    stats.session_seconds = time.monotonic() - started
    stats.sessions_ok = sum(1 for t in tokens if t)
    return tokens


# -- phase 2: sockets -----------------------------------------------------------------------------


async def read_frames(visitor, stats):
    try:
        async for raw in visitor.ws:
            received_ns = time.time_ns()
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "message":
                message = frame.get("message") or {}
                text = message.get("text", "")
                if message.get("from") == "agent" and text.startswith("bench "):
                    parts = text.split(" ", 3)
                    stats.on_reply(int(parts[1]), received_ns - int(parts[2]))
            elif kind == "ack":
                stats.visitor_acked += 1
                if visitor.conversation_id is None:
                    visitor.conversation_id = frame["message"]["conversationId"]
                    visitor.first_ack.set()
            elif kind == "error":
                code = (frame.get("error") or {}).get("code", "?")
                stats.error_frames[code] = stats.error_frames.get(code, 0) + 1
    except ConnectionClosed:
        pass
    except Exception as error:  # a malformed frame: count it as a disconnect, keep the run going
        stats.error_frames[f"client:{type(error).__name__}"] = stats.error_frames.get(f"client:{type(error).__name__}", 0) + 1
    finally:
        visitor.alive = False
        if not stats.closing:
            stats.disconnects += 1


async def send_message(visitor, stats, text):
    try:
        await visitor.ws.send(json.dumps({"type": "message", "text": text, "clientId": uuid.uuid4().hex}))
        visitor.sent += 1
        stats.visitor_sent += 1
        return True
    except Exception:
        stats.visitor_send_failed += 1
        return False


async def open_visitor(visitor, ws_url, handshakes, stats):
    try:
        async with handshakes:
            visitor.ws = await connect(
                ws_url, open_timeout=30, close_timeout=2, ping_interval=None, compression=None, max_queue=64, **_NO_PROXY
            )
            await visitor.ws.send(json.dumps({"type": "hello", "token": visitor.token, "after": None}))
            ready = json.loads(await asyncio.wait_for(visitor.ws.recv(), 30))
            if ready.get("type") != "ready":
                raise RuntimeError(f"expected ready, got {ready}")
        visitor.alive = True
        stats.connected += 1
        visitor.reader = asyncio.create_task(read_frames(visitor, stats))
        if await send_message(visitor, stats, f"hello from visitor {visitor.index}"):
            await asyncio.wait_for(visitor.first_ack.wait(), 30)
            stats.first_acked += 1
    except Exception as error:
        if len(stats.connect_errors) < 1000:
            stats.connect_errors.append(f"{type(error).__name__}: {error}")


# -- phase 3: load ----------------------------------------------------------------------------------


class ReplyPoster:
    """POSTs agent replies from a thread pool, one requests.Session per thread."""

    def __init__(self, base_url, token):
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.local = threading.local()
        self.sessions, self.lock = [], threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=REPLY_WORKERS)

    def post(self, seq, conversation_id):
        http = getattr(self.local, "http", None)
        if http is None:
            http = self.local.http = requests.Session()
            with self.lock:
                self.sessions.append(http)
        text = f"bench {seq} {time.time_ns()} reply from the agent"
        try:
            r = http.post(f"{self.base_url}/v1/conversations/{conversation_id}/messages", json={"text": text}, headers=self.headers, timeout=30)
            return r.status_code, r.text[:200]
        except requests.RequestException as error:
            return None, repr(error)

    def close(self):
        self.pool.shutdown(wait=True)
        for http in self.sessions:
            http.close()


async def drive_replies(poster, visitors, rate, duration, stats, in_flight):
    loop = asyncio.get_running_loop()
    started = loop.time()
    seq = 0

    async def one(seq, visitor):
        status, detail = await loop.run_in_executor(poster.pool, poster.post, seq, visitor.conversation_id)
        if status is not None and 200 <= status < 300:
            stats.replies_posted += 1
            stats.posted_seqs.add(seq)
        elif len(stats.replies_failed) < 1000:
            stats.replies_failed.append(f"{status} {detail}")

    while True:
        elapsed = loop.time() - started
        if elapsed >= duration:
            break
        due = int(elapsed * rate)
        while seq < due:
            seq += 1
            if len(in_flight) >= REPLY_WORKERS * 8:
                stats.replies_skipped += 1
                continue
            targets = [v for v in random.sample(visitors, min(8, len(visitors))) if v.alive and v.conversation_id]
            if not targets:
                stats.replies_skipped += 1
                continue
            task = asyncio.create_task(one(seq, targets[0]))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await asyncio.sleep(0.005)


async def drive_visitor_messages(visitors, duration, stats):
    """Every visitor sends about once every VISITOR_MESSAGE_INTERVAL seconds: a Poisson process over all of them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration
    rate = len(visitors) / VISITOR_MESSAGE_INTERVAL
    pending = set()
    if rate <= 0:
        return
    next_at = loop.time()
    while True:
        next_at += random.expovariate(rate)
        if next_at >= deadline:
            break
        await asyncio.sleep(max(0.0, next_at - loop.time()))
        visitor = random.choice(visitors)
        if visitor.alive:
            task = asyncio.create_task(send_message(visitor, stats, f"visitor {visitor.index} says {visitor.sent}"))
            pending.add(task)
            task.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending, timeout=10)


async def watch_loop_lag(stop, stats):
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(0.05)
        stats.loop_lag_ms.append(max(0.0, (loop.time() - before - 0.05) * 1000))


# -- the run ----------------------------------------------------------------------------------------


async def run_sockets(args, tokens, stats):
    ws_url = args.url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/webchat/v1/ws"
    visitors = [Visitor(i, t) for i, t in enumerate(tokens) if t]
    handshakes = asyncio.Semaphore(HANDSHAKES_AT_ONCE)
    poster = ReplyPoster(args.url, args.token)
    stop = asyncio.Event()
    lag = asyncio.create_task(watch_loop_lag(stop, stats))
    in_flight = set()
    try:
        stats.rss["before clients"] = rss_mb(args.pid)
        meter, started = CPUMeter(), time.monotonic()
        print(f"opening {len(visitors)} WebSockets ({HANDSHAKES_AT_ONCE} handshakes at a time)…", flush=True)
        await asyncio.gather(*(open_visitor(v, ws_url, handshakes, stats) for v in visitors))
        stats.connect_seconds = time.monotonic() - started
        stats.cpu["connect"] = meter.share()
        stats.rss["after connecting"] = rss_mb(args.pid)
        print(f"connected {stats.connected} in {stats.connect_seconds:.1f} s; running {args.duration:g} s of load…", flush=True)

        live = [v for v in visitors if v.alive and v.conversation_id]
        if live:
            meter, started = CPUMeter(), time.monotonic()
            stats.loop_lag_ms.clear()
            await asyncio.gather(
                drive_replies(poster, live, args.rate, args.duration, stats, in_flight),
                drive_visitor_messages(live, args.duration, stats),
            )
            stats.measure_seconds = time.monotonic() - started
            stats.cpu["load"] = meter.share()
        # Replies still being posted, then the grace period for their delivery.
        if in_flight:
            await asyncio.wait(set(in_flight), timeout=35)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GRACE_SECONDS
        while stats.lost() and loop.time() < deadline:
            await asyncio.sleep(0.05)
        stats.rss["end"] = rss_mb(args.pid)
    finally:
        stop.set()
        stats.closing = True
        closing = asyncio.Semaphore(500)

        async def close(v):
            if v.ws is None:
                return
            async with closing:
                try:
                    await asyncio.wait_for(v.ws.close(), 3)
                except Exception:
                    pass
            if v.reader is not None:
                v.reader.cancel()

        await asyncio.gather(*(close(v) for v in visitors), return_exceptions=True)
        await asyncio.gather(lag, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(None, poster.close)


def fmt(value, unit="", digits=1):
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def report(args, stats):
    lat = sorted(x / 1e6 for x in stats.latencies_ns)
    p50, p90, p99 = (percentile(lat, p) for p in (50, 90, 99))
    lost = stats.lost()
    duplicates = sum(1 for c in stats.received.values() if c > 1)
    lag = sorted(stats.loop_lag_ms)
    rss = stats.rss
    print()
    print(f"webchat fan-out: {args.visitors} visitors, {args.duration:g} s, {args.rate:g} agent replies/s")
    print(f"sessions created:        {stats.sessions_ok} / {args.visitors} in {stats.session_seconds:.1f} s"
          + (f"  (errors: {len(stats.session_errors)}, e.g. {stats.session_errors[0]})" if stats.session_errors else ""))
    print(f"clients connected:       {stats.connected} / {args.visitors} in {stats.connect_seconds:.1f} s"
          f" ({stats.connected / stats.connect_seconds if stats.connect_seconds else 0:.0f}/s), first message acked by {stats.first_acked}"
          + (f"  (errors: {len(stats.connect_errors)}, e.g. {stats.connect_errors[0]})" if stats.connect_errors else ""))
    print(f"visitor messages sent:   {stats.visitor_sent} (acked {stats.visitor_acked}, send failures {stats.visitor_send_failed})")
    if stats.error_frames:
        print(f"error frames:            {stats.error_frames}")
    achieved = stats.replies_posted / stats.measure_seconds if stats.measure_seconds else 0
    print(f"agent replies posted:    {stats.replies_posted} answered 2xx ({achieved:.0f}/s), failed {len(stats.replies_failed)}, "
          f"skipped {stats.replies_skipped}" + (f"  e.g. {stats.replies_failed[0]}" if stats.replies_failed else ""))
    print(f"agent replies delivered: {len(set(stats.received) & stats.posted_seqs)}   lost {len(lost)}   "
          f"duplicates {duplicates}   sockets dropped {stats.disconnects}")
    if lost:
        print(f"  lost reply seqs (first 20): {lost[:20]}")
    print(f"fan-out latency (ms):    p50 {fmt(p50, digits=2)}  p90 {fmt(p90, digits=2)}  p99 {fmt(p99, digits=2)}"
          f"  max {fmt(lat[-1] if lat else None, digits=2)}  ({len(lat)} samples)")
    per_client = None
    if rss.get("after connecting") is not None and rss.get("before clients") is not None and stats.connected:
        per_client = (rss["after connecting"] - rss["before clients"]) * 1024 / stats.connected
    print(f"server RSS (MB):         idle {fmt(rss.get('idle'))}  before clients {fmt(rss.get('before clients'))}  "
          f"after connecting {fmt(rss.get('after connecting'))} ({fmt(per_client, ' KB/client')})  end {fmt(rss.get('end'))}")
    print(f"client CPU (1.0 = core): connect {fmt(stats.cpu.get('connect'), digits=2)}  load {fmt(stats.cpu.get('load'), digits=2)}"
          f"   event-loop lag p99 {fmt(percentile(lag, 99), ' ms')} max {fmt(lag[-1] if lag else None, ' ms')}")
    if max(stats.cpu.values(), default=0) > 0.9:
        print("WARNING: the client used > 90% of a core: these figures are client-bound (the client adds latency and"
              " limits the rate), not the server's ceiling; run the client on another machine or with fewer visitors.")

    print("ceilings (DESIGN.md §6):")
    enough = stats.connected >= TARGET_CLIENTS
    print(f"  open clients >= {TARGET_CLIENTS:,}:                 {stats.connected:>8}   {'PASS' if enough else 'FAIL'}")
    if p99 is None:
        verdict = "FAIL (no samples)"
    elif not enough:
        verdict = f"FAIL (measured with {stats.connected} clients, not {TARGET_CLIENTS:,})"
    else:
        verdict = "PASS" if p99 <= FANOUT_P99_CEILING_MS else "FAIL"
    print(f"  fan-out p99 <= {FANOUT_P99_CEILING_MS:g} ms with {TARGET_CLIENTS:,} clients: {fmt(p99, ' ms', 2):>8}   {verdict}")
    idle = rss.get("idle")
    print(f"  idle server RSS <= {IDLE_RSS_CEILING_MB:g} MB:              {fmt(idle, ' MB'):>8}   "
          f"{'n/a (no --pid)' if idle is None else ('PASS' if idle <= IDLE_RSS_CEILING_MB else 'FAIL')}")
    return 1 if lost or stats.connected < args.visitors else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the hub, e.g. http://127.0.0.1:18092")
    parser.add_argument("--token", default=os.environ.get("SB_TOKEN"), help="an admin (or agent) token for the replies")
    parser.add_argument("--pid", type=int, default=None, help="the server's pid, for its RSS")
    parser.add_argument("--visitors", type=int, default=int(os.environ.get("VISITORS", 10_000)))
    parser.add_argument("--duration", type=float, default=float(os.environ.get("DURATION", 30)))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("RATE", 200)))
    args = parser.parse_args()
    if not args.token:
        parser.error("--token (or $SB_TOKEN) is required")

    stats = Stats()
    stats.rss["idle"] = rss_mb(args.pid)
    status = 1
    try:
        print(f"creating {args.visitors} sessions ({SESSION_WORKERS} at a time)…", flush=True)
        tokens = create_sessions(args.url, args.visitors, stats)
        asyncio.run(run_sockets(args, tokens, stats))
    except KeyboardInterrupt:
        print("interrupted: partial figures follow", file=sys.stderr)
    except Exception as error:
        print(f"the run failed: {type(error).__name__}: {error} — partial figures follow", file=sys.stderr)
    finally:
        status = report(args, stats)
    sys.exit(status)


if __name__ == "__main__":
    main()
