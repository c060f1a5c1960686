"""CPU and memory of a process tree, read from /proc while it runs (Linux only, no dependencies).

`TreeSampler` samples every process descended from a root pid a few times a second and keeps,
per process, its last CPU time (user + system) and its peak resident set (VmHWM), so processes
that exit before the end are still counted. Each process is labelled by its command line
(`label_for`), which is how the end-to-end benchmark reports CPU per stage and for the broker.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class ProcStats:
    label: str
    cpu_seconds: float = 0.0
    peak_rss_bytes: int = 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as handle:
                found.extend(int(c) for c in handle.read().split())
    except OSError:
        pass
    return found


def _cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # fields[11], fields[12] are utime and stime (14th and 15th of the whole line).
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _peak_rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return [p.decode(errors="replace") for p in handle.read().split(b"\0") if p]
    except OSError:
        return []


def default_label(cmdline: list[str]) -> str:
    text = " ".join(cmdline)
    if "tansu" in text or " broker " in f" {text} ":
        return "broker"
    for stage in ("ingest", "transform", "sink"):
        if f" {stage}" in f" {text}" or f"stage={stage}" in text or f"wiredesk-{stage}" in text:
            return stage
    if "wiredesk" in text or "app.cli" in text:
        return "wiredesk"
    return os.path.basename(cmdline[0]) if cmdline else "?"


class TreeSampler:
    def __init__(
        self, root: int, interval_s: float = 0.2, label_for: Callable[[list[str]], str] = default_label
    ) -> None:
        self.root = root
        self.interval_s = interval_s
        self.label_for = label_for
        self.stats: dict[int, ProcStats] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="proctree", daemon=True)

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def sample(self) -> None:
        todo = [self.root]
        while todo:
            pid = todo.pop()
            cpu = _cpu_seconds(pid)
            if cpu is None:
                continue
            stats = self.stats.get(pid)
            if stats is None:
                stats = self.stats[pid] = ProcStats(self.label_for(_cmdline(pid)))
            stats.cpu_seconds = max(stats.cpu_seconds, cpu)
            stats.peak_rss_bytes = max(stats.peak_rss_bytes, _peak_rss(pid))
            todo.extend(_children(pid))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def by_label(self) -> dict[str, ProcStats]:
        totals: dict[str, ProcStats] = {}
        for stats in self.stats.values():
            total = totals.setdefault(stats.label, ProcStats(stats.label))
            total.cpu_seconds += stats.cpu_seconds
            total.peak_rss_bytes += stats.peak_rss_bytes
        return totals

    def peak_tree_rss(self) -> int:
        """An upper bound of the tree's peak: the sum of every process's own peak."""
        return sum(s.peak_rss_bytes for s in self.stats.values())
