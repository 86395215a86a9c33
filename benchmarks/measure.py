"""Measure a command: wall time, CPU time and peak resident memory of its whole process tree,
with a timeline of samples so that a stretch of the run (one Dagster step) can be measured
on its own afterwards."""

from __future__ import annotations

import resource
import subprocess
import threading
import time
from dataclasses import dataclass, field

import psutil


@dataclass(frozen=True)
class Sample:
    at: float  # time.time(), the clock Dagster stamps its events with
    rss_bytes: int
    cpu_seconds: float  # cumulative, whole tree


@dataclass
class Measured:
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    stdout: str
    returncode: int
    started_at: float = 0.0
    timeline: list[Sample] = field(default_factory=list, repr=False)

    def window(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds and peak RSS of the tree between two instants of the run."""
        inside = [s for s in self.timeline if start <= s.at <= end]
        before = [s for s in self.timeline if s.at <= start]
        after = [s for s in self.timeline if s.at >= end]
        first = before[-1] if before else (inside[0] if inside else None)
        last = after[0] if after else (inside[-1] if inside else None)
        around = inside or [s for s in (first, last) if s is not None]
        return {
            "cpu_seconds": round(last.cpu_seconds - first.cpu_seconds, 2) if first else 0.0,
            "peak_rss_mb": round(max((s.rss_bytes for s in around), default=0) / 2**20, 1),
        }


def _tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _sample(root: psutil.Process) -> Sample:
    rss, cpu = 0, 0.0
    for proc in _tree(root):
        try:
            with proc.oneshot():
                rss += proc.memory_info().rss
                t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        # children_* hold the processes this one has reaped: they leave the tree and enter
        # their parent's figures at the same moment, so the sum stays cumulative.
        cpu += t.user + t.system + t.children_user + t.children_system
    return Sample(time.time(), rss, cpu)


def run(command: list[str], env: dict[str, str], cwd: str, sample_every: float = 0.05) -> Measured:
    """Run ``command`` to completion, sampling the tree's RSS and CPU time as it goes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started_at, started = time.time(), time.monotonic()
    child = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, text=True)
    root = psutil.Process(child.pid)
    timeline: list[Sample] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            timeline.append(_sample(root))
            stop.wait(sample_every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = child.communicate()
    stop.set()
    sampler.join()
    wall = time.monotonic() - started
    # CPU of the whole tree, as the kernel accounts it for children that were waited for.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    timeline.append(Sample(time.time(), 0, max(cpu, timeline[-1].cpu_seconds if timeline else 0)))
    return Measured(
        wall_seconds=round(wall, 2),
        cpu_seconds=round(cpu, 2),
        peak_rss_mb=round(max((s.rss_bytes for s in timeline), default=0) / 2**20, 1),
        stdout=stdout,
        returncode=child.returncode,
        started_at=started_at,
        timeline=timeline,
    )
