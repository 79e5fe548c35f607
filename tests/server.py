"""Real server processes on free loopback ports, for tests that need one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(
    argv: Sequence[str],
    ready_url: str,
    *,
    cwd: Path | None = None,
    timeout: float = 60.0,
    stderr: Path | None = None,
) -> Iterator[None]:
    """Run `argv` until the block ends, entering once `ready_url` answers 200; its stderr
    goes to the file `stderr` when given (the server's log), else with its stdout.

    Output goes to files, never to a pipe nobody reads: a server logging a line per request
    would block once the pipe is full.
    """
    output = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115  (closed below)
    log = stderr.open("w", encoding="utf-8") if stderr is not None else None
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=output,
        stderr=log or subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                output.seek(0)
                said = output.read() + (stderr.read_text("utf-8") if stderr is not None else "")
                raise RuntimeError(f"{argv[0]} exited before it was ready: {said}")
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{ready_url} did not answer within {timeout} s")
            time.sleep(0.05)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()
        if log is not None:
            log.close()


@contextmanager
def running_api(
    database_url: str,
    *extra: str,
    command: Sequence[str] = (sys.executable, "-m", "cavra_gql.cli"),
    cwd: Path | None = None,
    timeout: float = 60.0,
    stderr: Path | None = None,
) -> Iterator[str]:
    """Run `cavra-gql api` until the block ends; yields its base URL once /healthz answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [*command, "api", "--port", str(port), "--database", database_url, *extra]
    with running(argv, base + "/healthz", cwd=cwd, timeout=timeout, stderr=stderr):
        yield base
