"""The pipeline as `q2c run` runs it, in this process, and what the bench needs to split the
run into stages afterwards.

    python -m benchmarks.stages              # the refresh (refresh_warehouse)
    python -m benchmarks.stages 2026-10      # the month-end close of a period (everything)

It runs `pipelines.cli.materialize_all`, the one Dagster run in one process that `q2c run`
and `make demo` start, then reads the run's event log. The last line printed is a JSON
object: each step's start and end (the clock of the bench's samples) and its figures
(records, API requests, quarantined records, models, checks).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _value(metadata: dict, key: str) -> Any:
    return metadata[key].value if key in metadata else None


def main(period: str | None) -> dict[str, Any]:
    from dagster import DagsterEventType, DagsterInstance

    from pipelines.cli import materialize_all

    materialize_all(period)
    steps: dict[str, dict[str, Any]] = {}
    with DagsterInstance.get() as instance:
        (run,) = instance.get_runs(limit=1)
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None or event.step_key is None:
                continue
            step = steps.setdefault(event.step_key, {"records": 0, "quarantined": 0})
            kind = event.event_type
            if kind == DagsterEventType.STEP_START:
                step["start"] = entry.timestamp
            elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
                step["end"] = entry.timestamp
                step["status"] = kind.value
            elif kind == DagsterEventType.ASSET_MATERIALIZATION:
                metadata = event.step_materialization_data.materialization.metadata
                step["materializations"] = step.get("materializations", 0) + 1
                step["records"] += _value(metadata, "records_extracted") or 0
                step["quarantined"] += _value(metadata, "quarantined") or 0
                requests = _value(metadata, "api_requests")
                if requests is not None:
                    step["api_requests"] = requests
            elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
                passed = event.event_specific_data.passed
                step["checks"] = step.get("checks", 0) + 1
                step["checks_passed"] = step.get("checks_passed", 0) + int(passed)
    return {"run_id": run.run_id, "steps": steps}


if __name__ == "__main__":
    from pipelines.cli import CliError

    try:
        figures = main(sys.argv[1] if len(sys.argv) > 1 else None)
    except CliError as exc:
        sys.exit(f"the run failed: {exc}")
    print(json.dumps(figures))
