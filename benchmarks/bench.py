"""`make bench`: the whole pipeline's cost per stage at three sizes, against DuckDB's floor.

For each scale: generate the firm, serve it, and measure as separate processes each stage
of a full refresh (extract per source, dbt build, checks, report), then the floor (DuckDB's
own read_json loading the same API pages from files), then an incremental run after the
firm advances one day. Results go to benchmarks/results/latest.{json,md}.

    python -m benchmarks.bench --scales small medium large
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import psutil
import requests

from benchmarks.measure import Measured, run

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
AS_OF = date(2026, 11, 25)
ACCOUNT = "100001"
SYSTEMS = ("crm", "psa", "erp")
STAGES = ("extract:crm", "extract:psa", "extract:erp", "transform", "checks", "report")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def figures(measured: Measured) -> dict[str, Any]:
    last = measured.stdout.strip().splitlines()[-1] if measured.stdout.strip() else "{}"
    try:
        own = json.loads(last)
    except json.JSONDecodeError:
        own = {}
    return {
        "wall_seconds": measured.wall_seconds,
        "cpu_seconds": measured.cpu_seconds,
        "peak_rss_mb": measured.peak_rss_mb,
        **own,
    }


class Server:
    """The simulator serving one firm file from its own process (as `make ui` does)."""

    def __init__(self, db: Path, port: int, token: str) -> None:
        self.db, self.port, self.token = db, port, token
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        env = {**os.environ, "Q2C_SIM_TOKEN": self.token, "Q2C_SIM_HARVEST_ACCOUNT_ID": ACCOUNT}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simulator",
                "serve",
                "--db",
                str(self.db),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/psa/v2/tasks", timeout=2, headers=self.harvest_headers)
                return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("the simulator did not start within 60 s")

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=30)

    @property
    def harvest_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Harvest-Account-Id": ACCOUNT}

    def env(self) -> dict[str, str]:
        return {
            "SOURCES__CRM__BASE_URL": self.url + "/crm",
            "SOURCES__CRM__ACCESS_TOKEN": self.token,
            "SOURCES__PSA__BASE_URL": self.url + "/psa",
            "SOURCES__PSA__ACCOUNT_ID": ACCOUNT,
            "SOURCES__PSA__ACCESS_TOKEN": self.token,
            "SOURCES__ERP__BASE_URL": self.url + "/erp",
            "SOURCES__ERP__ACCESS_TOKEN": self.token,
        }


def time_page(server: Server, page: int) -> float:
    started = time.monotonic()
    response = requests.get(
        f"{server.url}/psa/v2/time_entries",
        params={"page": page, "per_page": 2000},
        headers=server.harvest_headers,
        timeout=120,
    )
    response.raise_for_status()
    return round(time.monotonic() - started, 3)


def dump_pages(server: Server, out: Path) -> dict[str, int]:
    """Every record of every resource, fetched as the connectors page them, saved as files."""
    from pipelines.defs.ingest.crm.objects import API_VERSION, OBJECTS
    from pipelines.defs.ingest.erp.objects import TABLES
    from pipelines.defs.ingest.psa.objects import RESOURCES

    session = requests.Session()
    counts: dict[str, int] = {}

    def save(name: str, n: int, body: bytes) -> None:
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{n:06d}.json").write_bytes(body)
        counts[name] = counts.get(name, 0) + 1

    sf = {"Authorization": f"Bearer {server.token}"}
    for name, (sobject, contract) in OBJECTS.items():
        fields = ", ".join(f.name for f in contract.fields)
        url = f"{server.url}/crm/services/data/{API_VERSION}/queryAll"
        params: dict | None = {"q": f"SELECT {fields} FROM {sobject}"}
        n = 0
        while url:
            r = session.get(url, params=params, headers=sf, timeout=300)
            r.raise_for_status()
            save(f"crm/{name}", n, r.content)
            body, n, params = r.json(), n + 1, None
            url = server.url + "/crm" + body["nextRecordsUrl"] if not body["done"] else ""
    for name in RESOURCES:
        url, params, n = f"{server.url}/psa/v2/{name}", {"per_page": 2000}, 0
        while url:
            r = session.get(url, params=params, headers=server.harvest_headers, timeout=300)
            r.raise_for_status()
            save(f"psa/{name}", n, r.content)
            url, params, n = r.json()["links"]["next"], None, n + 1
    ns = {"Authorization": f"Bearer {server.token}", "Prefer": "transient"}
    with open(ROOT / ".dlt" / "config.toml", "rb") as fh:
        import tomllib

        queries = tomllib.load(fh)["sources"]["erp"]["queries"]
    for name in TABLES:
        query = queries[name].replace("{since}", "2000-01-01 00:00:00")
        offset, n, more = 0, 0, True
        while more:
            r = session.post(
                f"{server.url}/erp/services/rest/query/v1/suiteql",
                params={"limit": 1000, "offset": offset},
                json={"q": query},
                headers=ns,
                timeout=300,
            )
            r.raise_for_status()
            save(f"erp/{name}", n, r.content)
            body = r.json()
            more, offset, n = body["hasMore"], offset + 1000, n + 1
    return counts


def floor(pages: Path, db: Path) -> dict[str, Any]:
    """DuckDB alone: read_json over the saved pages into one table per resource."""
    selector = {"crm": "records", "erp": "items"}
    con = duckdb.connect(str(db))
    started = time.monotonic()
    rows = 0
    for folder in sorted(pages.glob("*/*")):
        system, name = folder.parent.name, folder.name
        key = selector.get(system, name)
        con.execute(
            f"""create or replace table {system}_{name} as
                select unnest({key}, recursive := true)
                from read_json('{folder}/*.json', maximum_object_size = 1073741824)"""
        )
        rows += con.execute(f"select count(*) from {system}_{name}").fetchone()[0]
    seconds = time.monotonic() - started
    con.close()
    return {"wall_seconds": round(seconds, 2), "rows": rows}


def bench_scale(scale: str, work: Path, port: int) -> dict[str, Any]:
    say(f"== {scale}")
    firm = work / "firm.duckdb"
    data = work / "data"
    base_env = {
        **os.environ,
        "Q2C_DATA_DIR": str(data),
        "Q2C_AS_OF_DATE": AS_OF.isoformat(),
        "DAGSTER_HOME": str(work),
    }
    (work / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    result: dict[str, Any] = {"scale": scale}

    generated = run(
        [
            sys.executable,
            "-m",
            "simulator",
            "generate",
            "--db",
            str(firm),
            "--seed",
            "42",
            "--scale",
            scale,
            "--as-of",
            AS_OF.isoformat(),
            "--force",
        ],
        base_env,
        str(ROOT),
    )
    if generated.returncode:
        raise RuntimeError(f"generate {scale} failed")
    con = duckdb.connect(str(firm), read_only=True)
    result["firm_rows"] = {
        t: con.execute(f"select count(*) from {t}").fetchone()[0]
        for t in ("hv_time_entries", "ns_transactionline", "sf_opportunity")
    }
    con.close()
    result["generate"] = figures(generated)
    say(f"  generate {result['generate']}")

    token = secrets.token_urlsafe(16)
    with Server(firm, port, token) as server:
        env = {**base_env, **server.env()}
        pages = max(1, result["firm_rows"]["hv_time_entries"] // 2000)
        result["serve_page_seconds"] = {
            "first": time_page(server, 1),
            "middle": time_page(server, max(1, pages // 2)),
            "last": time_page(server, pages),
        }
        full = {}
        for stage in STAGES:
            measured = run([sys.executable, "-m", "benchmarks.stages", stage], env, str(ROOT))
            if measured.returncode:
                raise RuntimeError(f"{scale} {stage} failed")
            full[stage] = figures(measured)
            say(f"  {stage} {full[stage]}")
        result["full_refresh"] = full
        page_dir = work / "pages"
        dumped = dump_pages(server, page_dir)
    result["floor"] = {"pages": sum(dumped.values()), **floor(page_dir, work / "floor.duckdb")}
    extract_seconds = sum(full[f"extract:{s}"]["wall_seconds"] for s in SYSTEMS)
    result["extract_vs_floor"] = round(
        extract_seconds / max(result["floor"]["wall_seconds"], 1e-3), 1
    )
    say(f"  floor {result['floor']} ratio {result['extract_vs_floor']}")
    shutil.rmtree(page_dir)

    advanced = run(
        [sys.executable, "-m", "simulator", "advance", "--db", str(firm), "--days", "1"],
        base_env,
        str(ROOT),
    )
    result["advance"] = figures(advanced)
    with Server(firm, port, token) as server:
        env = {**base_env, **server.env()}
        incremental = {}
        for stage in STAGES:
            measured = run([sys.executable, "-m", "benchmarks.stages", stage], env, str(ROOT))
            if measured.returncode:
                raise RuntimeError(f"{scale} incremental {stage} failed")
            incremental[stage] = figures(measured)
            say(f"  incremental {stage} {incremental[stage]}")
    result["incremental"] = incremental
    total = lambda stages: round(sum(v["wall_seconds"] for v in stages.values()), 2)  # noqa: E731
    result["full_refresh_seconds"] = total(full) + result["generate"]["wall_seconds"]
    result["pipeline_seconds"] = total(full)
    result["incremental_seconds"] = total(incremental)
    result["peak_rss_mb"] = max(v["peak_rss_mb"] for v in full.values())
    return result


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# q2c benchmark",
        "",
        f"Machine: {results['machine']['cpus']} CPUs, {results['machine']['memory_gb']} GB, "
        f"{results['machine']['platform']}; run {results['date']}.",
        "",
        "| scale | time entries | generate s | extract crm/psa/erp s | dbt s | checks s | report s "
        "| pipeline s | peak MB | floor s | extract ÷ floor | incremental s | page s (first/last) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["scales"]:
        f = r["full_refresh"]
        lines.append(
            f"| {r['scale']} | {r['firm_rows']['hv_time_entries']:,} | {r['generate']['wall_seconds']} "
            f"| {f['extract:crm']['wall_seconds']} / {f['extract:psa']['wall_seconds']} / "
            f"{f['extract:erp']['wall_seconds']} | {f['transform']['wall_seconds']} "
            f"| {f['checks']['wall_seconds']} | {f['report']['wall_seconds']} "
            f"| {r['pipeline_seconds']} | {r['peak_rss_mb']} | {r['floor']['wall_seconds']} "
            f"| {r['extract_vs_floor']} | {r['incremental_seconds']} "
            f"| {r['serve_page_seconds']['first']} / {r['serve_page_seconds']['last']} |"
        )
    lines += [
        "",
        "Every figure per stage (wall, CPU, peak RSS of the process tree, records, "
        "API requests) is in `latest.json`.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scales",
        nargs="+",
        default=["small", "medium", "large"],
        choices=["small", "medium", "large"],
    )
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "scales": [],
    }
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix=f"q2c-bench-{scale}-") as work:
            results["scales"].append(bench_scale(scale, Path(work), args.port))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
