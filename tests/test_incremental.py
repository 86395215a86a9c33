"""dbt's incremental models: after the firm advances a day, an incremental build leaves the
warehouse exactly as a full rebuild of the same raw data does, row for row.

Real dlt, dbt and DuckDB against the simulator; the two builds start from one copy of the
same synced warehouse, so the only difference is how the incremental models were built.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb

from pipelines.settings import patched_environ
from simulator.firm import FirmParams, advance
from simulator.harness import firm_as_of, simulated_sources
from tests.conftest import AS_OF
from tests.support import sync_sources

COMPARED_SCHEMAS = ("staging", "intermediate", "canonical", "reconciliation")


def dbt_build(warehouse: Path, *extra: str) -> None:
    """Seeds and models: the data tests say nothing about how a model was built."""
    from pipelines.defs.resources import dbt_resource
    from pipelines.defs.transform.dbt import run_dbt
    from pipelines.settings import Settings

    settings = Settings.resolve(
        data_dir=warehouse.parent, warehouse_path=warehouse, as_of=Settings.from_env().as_of
    )
    args = ["build", "--exclude-resource-type", "test", "unit_test", *extra]
    run_dbt(dbt_resource(), settings, args).wait()


def incremental_models() -> list[str]:
    """Models dbt builds incrementally and a full refresh rebuilds (history models keep
    theirs on a full refresh by design: both builds carry the same history)."""
    from pipelines.defs.resources import dbt_project

    manifest = json.loads(dbt_project.manifest_path.read_text())
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] == "incremental"
        and node["config"].get("full_refresh") is not False
    )


def tables(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table and view of the compared schemas, all columns, in a stable order."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        relations = con.execute(
            f"""select table_schema, table_name from information_schema.tables
                where table_schema in ({", ".join("?" for _ in COMPARED_SCHEMAS)})
                order by 1, 2""",
            list(COMPARED_SCHEMAS),
        ).fetchall()
        return {
            f"{schema}.{name}": con.execute(
                f'select * from {schema}."{name}" order by all'
            ).fetchall()
            for schema, name in relations
        }
    finally:
        con.close()


def test_incremental_build_after_a_day_equals_a_full_rebuild(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    warehouse = data_dir / "warehouse.duckdb"
    params = FirmParams(seed=11, scale="small", as_of=AS_OF, problem_rate=0.03)
    env = {"Q2C_DATA_DIR": str(data_dir), "SOURCES__PSA__RECONCILE_EVERY_HOURS": "0"}
    with patched_environ(env), simulated_sources(tmp_path / "firm.duckdb", params) as sim:
        assert sync_sources().success
        dbt_build(warehouse)
        summary = advance(sim.firm, days=1)
        # the next sync and build judge on the firm's new date, as a deployment would
        with patched_environ({"Q2C_AS_OF_DATE": firm_as_of(sim.firm)}):
            assert sync_sources().success
            rebuilt = tmp_path / "rebuilt.duckdb"
            shutil.copy(warehouse, rebuilt)
            dbt_build(warehouse)
            dbt_build(rebuilt, "--full-refresh")
    assert summary

    models = incremental_models()
    assert "stg_harvest__time_entries" in models
    con = duckdb.connect(str(rebuilt), read_only=True)
    try:
        loads, deleted, rows = con.execute(
            """select count(distinct _dlt_load_id), count(*) filter (where is_deleted), count(*)
               from staging.stg_harvest__time_entries"""
        ).fetchone()
    finally:
        con.close()
    # the day brought new and changed time entries (a second load) and deletes to carry
    assert loads == 2 and deleted > 0 and rows > 0

    incremental, full = tables(warehouse), tables(rebuilt)
    assert incremental.keys() == full.keys()
    assert set(models) <= {name.split(".")[1] for name in incremental}
    for name in full:
        assert incremental[name] == full[name], f"{name} differs after the incremental build"


def test_builds_reuse_the_last_parse_and_a_new_day_reparses_only_what_uses_the_date(
    tmp_path: Path,
) -> None:
    """Before a build dbt parses the project; a whole parse costs about 4 s. The as-of date
    changes every day and the warehouse path with each deployment: neither may force a whole
    parse. A new date re-parses only the models that use it."""
    from datetime import timedelta

    from pipelines.defs.resources import dbt_resource
    from pipelines.defs.transform.dbt import run_dbt
    from pipelines.settings import Settings

    def parse(as_of) -> list[tuple[str, dict]]:
        settings = Settings.resolve(data_dir=tmp_path, as_of=as_of)
        invocation = run_dbt(dbt_resource(), settings, ["parse", "--log-level", "debug"])
        events = [
            (e.raw_event["info"]["name"], e.raw_event["data"])
            for e in invocation.stream_raw_events()
        ]
        assert invocation.is_successful()
        # every build of this warehouse uses the data folder's one target folder
        assert Path(invocation.target_path) == settings.dbt_target_dir
        assert (settings.dbt_target_dir / "partial_parse.msgpack").exists()
        return events

    parse(AS_OF)  # the data folder's first parse is kept for the builds after it
    same_day, next_day = parse(AS_OF), parse(AS_OF + timedelta(days=1))

    for events in (same_day, next_day):
        assert "UnableToPartialParse" not in [name for name, _ in events]
    assert "PartialParsingSkipParsing" in [name for name, _ in same_day]
    reparsed = {d["file_id"] for name, d in next_day if name == "PartialParsingFile"}
    assert reparsed and reparsed <= files_using_the_as_of_date()


def files_using_the_as_of_date() -> set[str]:
    """dbt's ids of the models that call macro as_of_date, themselves or through a macro."""
    project = Path(__file__).resolve().parents[1] / "dbt_project"
    callers = {"as_of_date"}
    for macro_file in (project / "macros").rglob("*.sql"):
        text = macro_file.read_text()
        if "as_of_date()" in text:
            callers |= set(re.findall(r"{%-?\s*macro\s+(\w+)", text))
    return {
        f"q2c://{path.relative_to(project).as_posix()}"
        for path in (project / "models").rglob("*.sql")
        if any(f"{name}(" in path.read_text() for name in callers)
    }
