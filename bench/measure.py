"""Timing, CPU and memory helpers: repeated calls, /proc readings and server subprocesses."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, event

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Timing:
    """Wall times (ms) of repeated calls, and optionally the server CPU they cost."""

    samples_ms: list[float] = field(default_factory=list)
    server_cpu_ms: float | None = None  # per request, from the server process's CPU time
    timed_out: bool = False  # a call was interrupted: its limit is the (lower-bound) sample

    @property
    def n(self) -> int:
        return len(self.samples_ms)

    def percentile(self, share: float) -> float:
        """Nearest-rank percentile (p99 of fewer than 100 samples is the maximum)."""
        ordered = sorted(self.samples_ms)
        rank = max(1, -(-len(ordered) * share // 1))
        return ordered[int(rank) - 1]

    @property
    def p50(self) -> float:
        return self.percentile(0.50)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"n": self.n, "p50_ms": self.p50, "p99_ms": self.p99}
        found["mean_ms"] = sum(self.samples_ms) / self.n
        if self.server_cpu_ms is not None:
            found["server_cpu_ms"] = self.server_cpu_ms
        if self.timed_out:
            found["timed_out"] = True
        return found


class CallTimeout(Exception):
    """A measured call ran past the watchdog's limit and its statement was interrupted."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"interrupted after {seconds:g} s")
        self.seconds = seconds


class Watchdog:
    """Interrupts the database statement of a call that runs longer than `limit_s`.

    SQLite connections are interrupted (`sqlite3.Connection.interrupt`), PostgreSQL
    statements cancelled; the call then fails and raises CallTimeout.
    """

    def __init__(self, engine: Engine, limit_s: float) -> None:
        self.limit_s = limit_s
        self.fired = False
        self._current: Any = None
        event.listen(engine, "before_cursor_execute", self._remember)

    def _remember(self, conn: Any, *_: Any) -> None:
        self._current = conn.connection.dbapi_connection

    def _interrupt(self) -> None:
        self.fired = True
        dbapi = self._current
        for name in ("interrupt", "cancel_safe", "cancel"):  # sqlite3, psycopg 3.2+, older
            if dbapi is not None and hasattr(dbapi, name):
                getattr(dbapi, name)()
                return

    def guard(self, call: Callable[[], object]) -> Callable[[], object]:
        def guarded() -> object:
            self.fired = False
            timer = threading.Timer(self.limit_s, self._interrupt)
            timer.daemon = True
            timer.start()
            try:
                return call()
            except Exception:
                if self.fired:
                    raise CallTimeout(self.limit_s) from None
                raise
            finally:
                timer.cancel()

        return guarded


def repeat(
    call: Callable[[], object],
    times: int,
    budget_s: float = 20.0,
    warmup: int = 2,
    minimum: int = 3,
) -> Timing:
    """Call `times` times after `warmup` calls, stopping early past `budget_s` seconds.

    At least `minimum` calls, unless one warm-up call alone took longer than the budget.
    """
    timing = Timing()
    try:
        for _ in range(warmup):
            before = time.perf_counter()
            call()
            if time.perf_counter() - before > budget_s:
                minimum = 1
        started = time.perf_counter()
        while timing.n < times:
            before = time.perf_counter()
            call()
            timing.samples_ms.append((time.perf_counter() - before) * 1000)
            if timing.n >= minimum and time.perf_counter() - started > budget_s:
                break
    except CallTimeout as timeout:
        timing.samples_ms.append(timeout.seconds * 1000)
        timing.timed_out = True
    return timing


def tree(pid: int) -> list[int]:
    """The process and its live descendants (server workers, ingest workers)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                queue += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # gone meanwhile
            continue
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process tree (every thread, live descendants), from /proc."""
    total = 0
    for member in tree(pid):
        try:
            raw = Path(f"/proc/{member}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in kB, summed over the process and its live descendants."""
    found = {"VmRSS": 0, "VmHWM": 0}
    for member in tree(pid):
        try:
            lines = Path(f"/proc/{member}/status").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            name, _, value = line.partition(":")
            if name in found:
                found[name] += int(value.split()[0])
    return found


Sender = Callable[[httpx.Client], httpx.Response]


def post(path: str, body: dict[str, Any]) -> Sender:
    """A request that POSTs `body` as JSON (a GraphQL operation)."""
    return lambda client: client.post(path, json=body)


def get(path: str, params: dict[str, str]) -> Sender:
    return lambda client: client.get(path, params=params)


def repeat_http(
    client: httpx.Client,
    send: Sender,
    pid: int,
    times: int,
    budget_s: float = 30.0,
    min_cpu_s: float = 0.5,
    most: int = 2000,
    warmup: int = 2,
) -> Timing:
    """Sequential requests on a keep-alive client; server CPU per request over the block.

    CPU time is counted in clock ticks (10 ms), so the block grows until the server has
    spent at least `min_cpu_s` (or `most` requests, or the time budget) to keep the
    per-request figure within a few per cent.
    """
    minimum = 3
    for _ in range(warmup):
        before = time.perf_counter()
        _check(send(client))
        if time.perf_counter() - before > budget_s:
            minimum = 1
    timing = Timing()
    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    while True:
        before = time.perf_counter()
        response = send(client)
        timing.samples_ms.append((time.perf_counter() - before) * 1000)
        _check(response)
        elapsed = time.perf_counter() - started
        if timing.n >= minimum and elapsed > budget_s:
            break
        if timing.n >= times and (cpu_seconds(pid) - cpu_before >= min_cpu_s or timing.n >= most):
            break
    timing.server_cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / timing.n
    return timing


def _check(response: httpx.Response) -> None:
    response.raise_for_status()
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        if isinstance(body, dict) and body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")


class RssSampler:
    """Samples a process tree's VmRSS in a background thread while a block runs."""

    def __init__(self, pid: int, every_s: float = 0.01) -> None:
        self.pid, self.every_s = pid, every_s
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, memory_kb(self.pid)["VmRSS"])
            self._stop.wait(self.every_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, memory_kb(self.pid)["VmRSS"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    base: str
    pid: int


@contextmanager
def serve(command: Sequence[str], port: int, env: dict[str, str], health: str) -> Iterator[Server]:
    """Run a server subprocess (from the repository root) until the block ends."""
    log = open(os.devnull, "wb")  # noqa: SIM115  (closed in finally)
    # A file, not a pipe nobody reads: the server logs a line per request to stderr.
    errors = tempfile.TemporaryFile()  # noqa: SIM115  (closed in finally)
    process = subprocess.Popen(
        list(command),
        cwd=REPO,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdout=log,
        stderr=errors,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                errors.seek(0)
                error = errors.read().decode()
                raise RuntimeError(f"server {command} exited:\n{error[-3000:]}")
            try:
                if httpx.get(base + health, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"server {command} did not answer {health}")
            time.sleep(0.1)
        yield Server(base, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        errors.close()
        log.close()


@dataclass
class ChildRun:
    returncode: int
    seconds: float
    peak_rss_kb: int
    stdout: str


def run_child(command: Sequence[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run a command to completion: its wall time and peak RSS.

    The peak is the larger of wait4's ru_maxrss (the process, or its largest reaped child)
    and the sampled sum over the process tree, which counts parallel workers together.
    """
    with tempfile.TemporaryFile() as capture:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=REPO, env={**os.environ, **(env or {})}, stdout=capture
        )
        with RssSampler(process.pid, every_s=0.05) as sampled:
            _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        capture.seek(0)
        text = capture.read().decode(errors="replace")
    peak = max(int(usage.ru_maxrss), sampled.peak_kb)
    return ChildRun(process.returncode, seconds, peak, text)


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def collect() -> None:
    """A full collection before a timed block, so earlier garbage is not billed to it."""
    gc.collect()
