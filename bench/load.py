"""A small HTTP load generator on the standard library: threads, each with its own keep-alive connection.

`run(name, port, step, clients=..., max_units=..., max_seconds=...)` starts `clients` threads, spread over a
few forked processes. Each thread takes the next unit number n and calls `step(client, n)`, which makes its
requests through `client` and returns (latency in seconds of the timed request, whether the answer was the
expected one, what it was). A run stops after `max_units` units or `max_seconds` seconds, whichever comes
first, so every run is bounded in count and time. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import http.client
import json
import math
import multiprocessing
import os
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

HOST = "127.0.0.1"
TIMEOUT = 15  # seconds for one request; a slower answer counts as an error


@dataclass
class Result:
    name: str
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # of every unit that got an answer, in seconds
    errors: int = 0
    outcomes: Counter = field(default_factory=Counter)  # "201", "200", "error: ..." -> count
    #: CPU seconds spent meanwhile, when the caller measured them, by part: "server", "PostgreSQL", "whole machine"
    cpu: dict[str, float] = field(default_factory=dict)

    def merge(self, other: Result) -> None:
        """Adds another run of the same workload (the bench alternates workloads in rounds)."""
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.errors += other.errors
        self.outcomes.update(other.outcomes)
        for part, seconds in other.cpu.items():
            self.cpu[part] = self.cpu.get(part, 0.0) + seconds

    def ms_per_unit(self, seconds: float) -> float:
        return seconds * 1000 / self.units if self.units else float("nan")

    @property
    def units(self) -> int:
        return len(self.latencies) + self.outcomes.get("exception", 0)

    @property
    def per_second(self) -> float:
        return self.units / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


class Client:
    """One simulated client: a keep-alive connection (reopened when the server closes it) and a cookie jar."""

    def __init__(self, port: int, number: int = 0):
        self.port = port
        #: which simulated client this is, 0 to clients - 1 across all processes: a scanner uses its own token
        self.number = number
        self.connection: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=TIMEOUT)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
            except (ConnectionError, http.client.BadStatusLine, http.client.CannotSendRequest):
                # The server closed an idle keep-alive connection: open a new one, once.
                self.close()
                if attempt == 2:
                    raise
                continue
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie_name, _, rest = value.partition("=")
                    self.cookies[cookie_name.strip()] = rest.split(";", 1)[0]
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


Step = Callable[[Client, int], tuple[float, bool, str]]


def run(
    name: str,
    port: int,
    step: Step,
    *,
    clients: int,
    max_units: int,
    max_seconds: float,
    processes: int = 4,
    pace: float = 0.0,
) -> Result:
    """`clients` threads spread over `processes` forked processes, so that the client side's own GIL does not
    delay the clients (and inflate the latencies they measure) when there are many of them.

    With `pace`, each client sends one request every `pace` seconds (a door scanner's rhythm) instead of the
    next one as soon as the last is answered.
    """
    processes = max(1, min(processes, clients))
    deadline = time.monotonic() + max_seconds
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    threads = [clients // processes + (p < clients % processes) for p in range(processes)]
    children = [
        context.Process(
            target=_client_process,
            daemon=True,
            args=(queue, port, step, range(p, max_units, processes), threads[p], sum(threads[:p]), deadline, pace),
        )
        for p in range(processes)
    ]
    started = time.perf_counter()
    for child in children:
        child.start()
    result = Result(name, clients)
    for _ in children:
        try:
            latencies, outcomes, errors = queue.get(timeout=max_seconds + 2 * TIMEOUT + 10)
        except Exception:  # a client process that died: its units are lost, and said so
            result.outcomes["error: client process lost"] += 1
            result.errors += 1
            continue
        result.latencies += latencies
        result.outcomes.update(outcomes)
        result.errors += errors
    result.seconds = time.perf_counter() - started
    for child in children:
        child.join(5)
        if child.is_alive():
            child.kill()
    return result


def _client_process(
    queue, port: int, step: Step, units: range, threads: int, first_client: int, deadline: float, pace: float
) -> None:
    """One client process: `threads` threads (clients number `first_client` on) take the next of `units` until
    they run out or the deadline."""
    numbers = iter(units)
    lock = threading.Lock()
    latencies, outcomes, errors = [], Counter(), [0]

    def worker(phase: float, number: int) -> None:
        client = Client(port, number)
        due = time.monotonic() + phase
        try:
            while time.monotonic() < deadline:
                if pace:
                    time.sleep(max(0.0, due - time.monotonic()))
                    due += pace
                with lock:
                    n = next(numbers, None)
                if n is None:
                    break
                try:
                    latency, ok, what = step(client, n)
                except Exception as error:  # a refused or timed-out connection is an error, not a crash
                    with lock:
                        outcomes["exception"] += 1
                        outcomes[f"error: {type(error).__name__}"] += 1
                        errors[0] += 1
                    client.close()
                    continue
                with lock:
                    latencies.append(latency)
                    outcomes[what] += 1
                    errors[0] += 0 if ok else 1
        finally:
            client.close()

    pool = [
        threading.Thread(target=worker, args=(pace * i / threads, first_client + i), daemon=True)
        for i in range(threads)
    ]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(max(0.0, deadline - time.monotonic()) + 2 * TIMEOUT)
    with lock:
        queue.put((latencies, outcomes, errors[0]))


# The workloads: one function per kind of request, each returning a Step.


def checkins(path: str, api_tokens: list[str], badges: list[str], slug: str) -> Step:
    """POST `path` with the n-th badge of `badges` (the caller mixes in repeated scans), each client with its own
    scanner token (client k uses `api_tokens[k]`), as each door phone has its own: the rate limit counts per token.

    The body is what the scanner page sends: the door's session, its label and a fresh nonce per scan. The floors
    of bench/floors.py get the same requests at their own path. 201 (new) and 200 (already checked in) succeed;
    anything else, a 429 included, is an error."""
    run = secrets.token_hex(4)

    def step(client: Client, n: int) -> tuple[float, bool, str]:
        headers = {
            "Authorization": f"Bearer {api_tokens[client.number % len(api_tokens)]}",
            "Content-Type": "application/json",
        }
        body = json.dumps(
            {
                "token": badges[n % len(badges)],
                "session": slug,
                "door": f"Door {n % 4 + 1}",
                "nonce": f"{run}-{os.getpid()}-{n}",
            }
        ).encode()
        started = time.perf_counter()
        status, _headers, _body = client.request("POST", path, body, headers)
        return time.perf_counter() - started, status in (200, 201), str(status)

    return step


_CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')


def _visitor(n: int, run_number: int) -> dict[str, str]:
    """Each registration comes from its own address, as delegates do, through the reverse proxy that production
    runs behind (the app trusts one, TRUSTED_PROXIES=1): the per-address limit of the form applies to each."""
    address = (run_number << 20) + n
    return {
        "X-Forwarded-For": f"10.{address >> 16 & 255}.{address >> 8 & 255}.{address & 255}",
        "X-Forwarded-Proto": "https",
    }


def registration_form(slug: str, run_number: int) -> Step:
    """GET the public registration form alone, as a new visitor: the floor the registrations are set against."""
    path = f"/sessions/{slug}/register"

    def step(client: Client, n: int) -> tuple[float, bool, str]:
        client.cookies.clear()
        started = time.perf_counter()
        status, _headers, page = client.request("GET", path, headers=_visitor(n, run_number))
        return time.perf_counter() - started, status == 200 and bool(_CSRF.search(page)), str(status)

    return step


def registrations(slug: str, entity_type_ids: list[int], region_ids: list[int], run_id: str, run_number: int) -> Step:
    """A delegate opens the form (GET: CSRF token and cookie) and posts it: the pair is timed as one unit, and a
    302 to their own page is success. Every email is new: bench.form.<run_id>.<n>@example.org."""
    from urllib.parse import urlencode

    path = f"/sessions/{slug}/register"

    def step(client: Client, n: int) -> tuple[float, bool, str]:
        client.cookies.clear()  # each registration is a new visitor
        visitor = _visitor(n, run_number)
        started = time.perf_counter()
        status, _headers, page = client.request("GET", path, headers=visitor)
        match = _CSRF.search(page)
        if status != 200 or not match:
            return time.perf_counter() - started, False, f"form {status}"
        form = urlencode(
            {
                "csrf_token": match.group(1).decode(),
                "full_name": f"Bench Délégué {n}",
                "email": registration_email(run_id, n),
                "organisation": "ROCB Bench",
                "country": "BE",
                "entity_type": entity_type_ids[n % len(entity_type_ids)],
                "region": region_ids[n % len(region_ids)],
                "mode": "in_person" if n % 3 else "online",
                "consent": "y",
            }
        ).encode()
        # Over https (the proxy says so), Flask-WTF wants a same-origin Referer, as a browser sends.
        referer = f"https://{HOST}:{client.port}{path}"
        status, _headers, _body = client.request(
            "POST", path, form, {"Content-Type": "application/x-www-form-urlencoded", "Referer": referer, **visitor}
        )
        return time.perf_counter() - started, status == 302, str(status)

    return step


def registration_email(run_id: str, n: int) -> str:
    return f"bench.form.{run_id}.{n}@example.org"
