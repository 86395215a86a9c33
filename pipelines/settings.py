"""Where q2c reads and writes, and the day it judges on: one value, resolved once.

``Settings`` is that value. The ``q2c`` command resolves it from the environment
(``Settings.from_env``) and hands it to the run as the ``settings`` resource's run config
(``pipelines/defs/resources.py``); assets, checks, sources and dbt receive it from the resource
and never read the environment themselves. So a run's paths and as-of date are in its run
config for anyone to see, and two runs in one process can judge on two different days.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipelines.lib.tenant import (
    DEFAULT_PROFILE,
    TENANT_PROFILE_VAR,
    Tenant,
    TenantError,
    load_tenant,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"

SYSTEMS = ("crm", "psa", "erp")
"""The three source systems, in lineage order. Dataset of each: ``raw_<system>``."""
SYSTEM_NAMES = {"crm": "Salesforce", "psa": "Harvest", "erp": "NetSuite"}

SETTINGS_KEY = "settings"
"""The resource key of the run's settings (``pipelines/defs/resources.py``)."""

DATA_DIR_VAR = "Q2C_DATA_DIR"
WAREHOUSE_PATH_VAR = "Q2C_WAREHOUSE_PATH"
ANALYTICS_PATH_VAR = "Q2C_ANALYTICS_PATH"
AS_OF_VAR = "Q2C_AS_OF_DATE"


class SettingsError(ValueError):
    """A setting has a value q2c cannot use; the message names the setting."""


def parse_as_of(text: str, setting: str = AS_OF_VAR) -> date | None:
    """``YYYY-MM-DD`` as a date, ``""`` as None (the day the run starts), anything else an
    error naming ``setting``."""
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SettingsError(f"{setting}={text!r} is not a date: use YYYY-MM-DD") from None


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse_path: Path
    analytics_path: Path
    as_of: date
    tenant_profile: Path

    @classmethod
    def resolve(
        cls,
        data_dir: str | Path | None = None,
        warehouse_path: str | Path | None = None,
        analytics_path: str | Path | None = None,
        as_of: str | date | None = None,
        tenant_profile: str | Path | None = None,
    ) -> Settings:
        """Absolute paths (the warehouse and the analysts' copy default to files in the data
        folder), the as-of date (default: today) and the tenant profile (default: the simulated
        firm's), which is read and checked here, so a wrong one stops the run before it starts."""
        folder = Path(data_dir or DEFAULT_DATA_DIR).resolve()
        if isinstance(as_of, str):
            as_of = parse_as_of(as_of)
        settings = cls(
            data_dir=folder,
            warehouse_path=Path(warehouse_path or folder / "warehouse.duckdb").resolve(),
            analytics_path=Path(analytics_path or folder / "analytics.duckdb").resolve(),
            as_of=as_of or date.today(),
            tenant_profile=Path(tenant_profile or DEFAULT_PROFILE).resolve(),
        )
        settings.tenant  # noqa: B018 (checked now, not in the middle of a run)
        return settings

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings the environment gives (``Q2C_DATA_DIR``, ``Q2C_WAREHOUSE_PATH``,
        ``Q2C_ANALYTICS_PATH``, ``Q2C_AS_OF_DATE``, ``Q2C_TENANT_PROFILE``). Only the ``q2c``
        command and the resource's defaults read them."""
        return cls.resolve(
            data_dir=environ.get(DATA_DIR_VAR) or None,
            warehouse_path=environ.get(WAREHOUSE_PATH_VAR) or None,
            analytics_path=environ.get(ANALYTICS_PATH_VAR) or None,
            as_of=parse_as_of(environ.get(AS_OF_VAR, "")),
            tenant_profile=environ.get(TENANT_PROFILE_VAR) or None,
        )

    @property
    def tenant(self) -> Tenant:
        """The firm's profile: its cross-system links, custom fields and vocabulary."""
        try:
            return load_tenant(self.tenant_profile)
        except TenantError as exc:
            raise SettingsError(str(exc)) from None

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def dlt_pipelines_dir(self) -> Path:
        return self.data_dir / "dlt"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's target folder for this data folder's builds: the parse kept between builds
        (a profile, so a warehouse, of its own), the last build's artifacts and dbt.log."""
        return self.data_dir / "dbt"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"


def raw_dataset(system: str) -> str:
    return f"raw_{system}"


def landing_path(settings: Settings, system: str) -> Path:
    """Where dlt loads one system before it is published into the warehouse in one transaction."""
    return settings.landing_dir / f"{system}.duckdb"


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
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
