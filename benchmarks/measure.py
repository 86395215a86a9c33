"""Measure a command: wall time, CPU time and peak resident memory of its whole process tree."""

from __future__ import annotations

import resource
import subprocess
import threading
import time
from dataclasses import dataclass

import psutil


@dataclass
class Measured:
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    stdout: str
    returncode: int


def _tree(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def run(command: list[str], env: dict[str, str], cwd: str, sample_every: float = 0.05) -> Measured:
    """Run ``command`` to completion, sampling the tree's RSS and summing its CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    child = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, text=True)
    root = psutil.Process(child.pid)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            rss = 0
            for proc in _tree(root):
                try:
                    rss += proc.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            peak = max(peak, rss)
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
    return Measured(
        wall_seconds=round(wall, 2),
        cpu_seconds=round(cpu, 2),
        peak_rss_mb=round(peak / 2**20, 1),
        stdout=stdout,
        returncode=child.returncode,
    )
