"""A Dagster logger for people at a terminal: a line when a step starts and when it ends,
with the number of its checks that passed, and a line for each check that did not pass."""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from typing import Any

from dagster import AssetCheckSeverity, InitLoggerContext, logger

_ENDED = {"STEP_SUCCESS": "done", "STEP_FAILURE": "FAILED"}


class _ProgressHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.started = time.monotonic()
        self.passed: Counter[str] = Counter()

    def say(self, line: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"  [{elapsed:6.1f}s] {line}", file=sys.stderr, flush=True)

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            return
        kind, step = event.event_type_value, event.step_key or ""
        if kind == "STEP_START":
            self.say(f"{step} started")
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.passed:
                self.passed[step] += 1
            else:
                name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                self.say(f"{name} did not pass{_how(evaluation)}")
        elif kind in _ENDED:
            passed = self.passed.pop(step, 0)
            checks = f" ({passed} check{'s' if passed != 1 else ''} passed)" if passed else ""
            self.say(f"{step} {_ENDED[kind]}{checks}")


def _how(evaluation: Any) -> str:
    """`` (warning, 3 rows)``: the check's severity and, for a dbt test, how many rows failed
    (dagster-dbt's ``dagster_dbt/failed_row_count``)."""
    said = ["warning" if evaluation.severity == AssetCheckSeverity.WARN else "error"]
    rows = (evaluation.metadata or {}).get("dagster_dbt/failed_row_count")
    if rows is not None:
        count = getattr(rows, "value", rows)
        said.append(f"{count} row{'s' if count != 1 else ''}")
    return f" ({', '.join(said)})"


@logger(description="A line per step (with its checks passed) and per check that did not pass.")
def progress_logger(init_context: InitLoggerContext) -> logging.Logger:
    log = logging.getLogger("q2c.progress")
    log.setLevel(logging.DEBUG)
    log.handlers = [_ProgressHandler()]
    log.propagate = False
    return log
