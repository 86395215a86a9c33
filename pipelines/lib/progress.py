"""A Dagster logger that prints one short line per step, for people at a terminal."""

from __future__ import annotations

import logging
import sys
import time

from dagster import InitLoggerContext, logger

_SHOWN = {
    "STEP_START": "started",
    "STEP_SUCCESS": "done",
    "STEP_FAILURE": "FAILED",
    "ASSET_CHECK_EVALUATION": "check",
}


class _ProgressHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.started = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None or event.event_type_value not in _SHOWN:
            return
        what = _SHOWN[event.event_type_value]
        name = event.step_key or ""
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            what = "passed" if evaluation.passed else "did not pass"
        elapsed = time.monotonic() - self.started
        print(f"  [{elapsed:6.1f}s] {name} {what}", file=sys.stderr, flush=True)


@logger(description="One line per step and check, with elapsed seconds.")
def progress_logger(init_context: InitLoggerContext) -> logging.Logger:
    log = logging.getLogger("q2c.progress")
    log.setLevel(logging.DEBUG)
    log.handlers = [_ProgressHandler()]
    log.propagate = False
    return log
