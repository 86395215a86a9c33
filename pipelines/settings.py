"""Where q2c reads and writes, decided in one place.

Every path can be moved with an environment variable, so tests and benchmarks run
against a temporary warehouse while `make demo` uses `data/`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"

SYSTEMS = ("crm", "psa", "erp")
"""The three source systems, in lineage order. Dataset of each: ``raw_<system>``."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse_path: Path
    analytics_path: Path
    reports_dir: Path
    landing_dir: Path
    dlt_pipelines_dir: Path
    as_of: date

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("Q2C_DATA_DIR", PROJECT_ROOT / "data")).resolve()
        warehouse = Path(os.environ.get("Q2C_WAREHOUSE_PATH", data_dir / "warehouse.duckdb"))
        as_of_text = os.environ.get("Q2C_AS_OF_DATE", "").strip()
        try:
            as_of = date.fromisoformat(as_of_text) if as_of_text else date.today()
        except ValueError as exc:
            raise ValueError(
                f"Q2C_AS_OF_DATE={as_of_text!r} is not a date: use YYYY-MM-DD"
            ) from exc
        return cls(
            data_dir=data_dir,
            warehouse_path=warehouse.resolve(),
            analytics_path=Path(
                os.environ.get("Q2C_ANALYTICS_PATH", data_dir / "analytics.duckdb")
            ).resolve(),
            reports_dir=data_dir / "reports",
            landing_dir=data_dir / "landing",
            dlt_pipelines_dir=data_dir / "dlt",
            as_of=as_of,
        )


def raw_dataset(system: str) -> str:
    return f"raw_{system}"


def landing_path(settings: Settings, system: str) -> Path:
    """Where dlt loads one system before it is published into the warehouse in one transaction."""
    return settings.landing_dir / f"{system}.duckdb"


@contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """``values`` set in the environment for the block, the previous ones restored after."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
