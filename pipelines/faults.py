"""Fault injection for the crash-recovery tests (tests/reliability, docs/reliability.md).

``checkpoint(name)`` marks a point where the process may die. In the environment:

- ``SUPTECH_FAULT_AT=<name>:<nth>``: the nth call of checkpoint(<name>) in this process kills it with
  SIGKILL (no cleanup, no flush, no atexit: what a power cut or the OOM killer does);
- ``SUPTECH_FAULT_AFTER=<name>:<seconds>``: the first checkpoint(<name>) starts a timer that kills the
  process that many seconds later, wherever it is then (e.g. in the middle of a dbt build);
- ``SUPTECH_FAULT_LOG=<file>``: every checkpoint reached is appended to the file with a monotonic time (the points a
  run passes, and when).

Unset, a checkpoint costs three dict lookups.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter

_seen: Counter[str] = Counter()


def _split(spec: str) -> tuple[str, str]:
    name, _, arg = spec.rpartition(":")
    return (name, arg) if name else (spec, "1")


def kill_now() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def checkpoint(name: str) -> None:
    """A point where an injected fault may kill the process (see the module docstring)."""
    at, after, log = (
        os.environ.get(k) for k in ("SUPTECH_FAULT_AT", "SUPTECH_FAULT_AFTER", "SUPTECH_FAULT_LOG")
    )
    if not (at or after or log):
        return
    _seen[name] += 1
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{name}\t{time.monotonic():.3f}\n")
    if after:
        target, seconds = _split(after)
        if target == name and _seen[name] == 1:
            timer = threading.Timer(float(seconds), kill_now)
            timer.daemon = True
            timer.start()
    if at:
        target, nth = _split(at)
        if target == name and _seen[name] == int(nth):
            kill_now()


def reset() -> None:
    """Forget the counts (a forked child running another cycle)."""
    _seen.clear()
