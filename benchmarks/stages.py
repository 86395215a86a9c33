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

# The figures a step's materializations carry (the extractions'); api_requests is the whole
# sync's, repeated on each resource.
_SUMMED = {"records_extracted": "records", "quarantined": "quarantined"}


def main(period: str | None) -> dict[str, Any]:
    from dagster import DagsterEventType, DagsterInstance

    from pipelines.cli import materialize_all, prepare_environment
    from pipelines.settings import Settings

    settings = Settings.from_env()  # as `q2c run` reads them
    prepare_environment(settings)
    run_id = materialize_all(settings, period)
    steps: dict[str, dict[str, Any]] = {}
    with DagsterInstance.get() as instance:
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None or event.step_key is None:
                continue
            step = steps.setdefault(event.step_key, {})
            kind = event.event_type
            if kind == DagsterEventType.STEP_START:
                step["start"] = entry.timestamp
            elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
                step["end"] = entry.timestamp
            elif kind == DagsterEventType.ASSET_MATERIALIZATION:
                metadata = event.step_materialization_data.materialization.metadata
                for key, figure in _SUMMED.items():
                    if key in metadata:
                        step[figure] = step.get(figure, 0) + metadata[key].value
                if "api_requests" in metadata:
                    step["api_requests"] = metadata["api_requests"].value
            elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
                step["checks"] = step.get("checks", 0) + 1
                step["checks_passed"] = step.get("checks_passed", 0) + int(
                    event.event_specific_data.passed
                )
    return {"run_id": run_id, "steps": steps}


if __name__ == "__main__":
    from pipelines.cli import CliError

    try:
        figures = main(sys.argv[1] if len(sys.argv) > 1 else None)
    except CliError as exc:
        sys.exit(f"the run failed: {exc}")
    print(json.dumps(figures))
