"""Start a real `cavra-gql api` process on a free loopback port, for tests that need one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
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
def running_api(
    database_url: str,
    *extra: str,
    command: Sequence[str] = (sys.executable, "-m", "cavra_gql.cli"),
    cwd: Path | None = None,
    timeout: float = 60.0,
) -> Iterator[str]:
    """Run `cavra-gql api` until the block ends; yields its base URL once /healthz answers."""
    port = free_port()
    process = subprocess.Popen(
        [*command, "api", "--port", str(port), "--database", database_url, *extra],
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"cavra-gql api exited: {process.stdout.read() if process.stdout else ''}"
                )
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("cavra-gql api did not answer /healthz")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
