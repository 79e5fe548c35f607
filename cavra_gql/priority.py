"""Process priority: imports are background work."""

from __future__ import annotations

import os

# Imports yield the CPU to everything else (the `ingest` command, and its workers more): an
# import alongside a running API server must not slow its readers, and an idle machine gives
# the import all of it anyway.
IMPORT_NICENESS = 5
WORKER_NICENESS = 15


def yield_cpu(niceness: int) -> None:
    """Run this process at least this nice (never less nice than it is)."""
    if os.getpriority(os.PRIO_PROCESS, 0) < niceness:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
