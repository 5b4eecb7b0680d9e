"""Peak memory of a whole process tree, sampled from /proc (Linux), for commands that fork workers.

`/usr/bin/time -v` and getrusage report the largest single process; the generator's spawned workers and
the parent hold memory at the same time, so the sum over the tree is what the machine has to hold.

    python -m bench.treemem -- suptech synth --preset medium ...   # prints wall time and both peaks
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            out += [int(x) for x in text]
    except OSError:
        pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_kb(pid: int) -> int:
    """Resident memory of `pid` and all its descendants, in kB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _rss_kb(p)
        todo += _children(p)
    return total


class TreeSampler:
    """Samples tree_rss_kb(pid) every `interval` seconds in a thread; `peak_kb` is the largest sample."""

    def __init__(self, pid: int | None = None, interval: float = 0.25) -> None:
        self.pid = pid if pid is not None else os.getpid()
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(cmd: list[str], stdout: IO[str] | None = None, env: dict[str, str] | None = None) -> dict:
    """Run cmd; wall time, peak RSS of the largest process (getrusage) and of the whole tree (sampled)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, env=env)
    with TreeSampler(proc.pid) as sampler:
        _, status, usage = os.wait4(proc.pid, 0)
    return {
        "command": " ".join(cmd),
        "exit": os.waitstatus_to_exitcode(status),
        "wall_s": round(time.perf_counter() - start, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),  # the child's and its waited children's
        "peak_rss_largest_process_mb": round(
            usage.ru_maxrss / 1024
        ),  # this child's (and its waited children's)
        "peak_rss_tree_mb": round(sampler.peak_kb / 1024),
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    result = measure(args)
    print(json.dumps(result), file=sys.stderr)
    sys.exit(result["exit"])
