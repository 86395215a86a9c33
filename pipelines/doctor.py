"""``q2c doctor``: is this firm's configuration one q2c can run on, before the first run?

Against the configured sources and the tenant profile, without writing the warehouse:

* every resource of every source is read for one page, through the same dlt sources,
  queries and contracts a run uses (into a scratch dlt folder that is removed afterwards),
  so a wrong token, base URL, custom field or query shows up as the one line the run
  would fail with, naming the setting to change;
* the link coverage of the last build (``reconciliation.link_coverage`` in the analysts'
  copy, when there is one) says how much of each system reaches the others, and which
  tenant-profile key sets each link.

One line per finding; the exit status is non-zero when a source refused a request or a
link is below its minimum.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dlt
import duckdb

from pipelines.defs.ingest.assets import make_source
from pipelines.lib.extract import ExtractStats, permanent_failure, setting_name
from pipelines.settings import SYSTEM_NAMES, Settings


@dataclass(frozen=True)
class Finding:
    """One line of the diagnosis: what was checked, and whether it is fine."""

    ok: bool
    subject: str
    line: str

    def __str__(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.subject}: {self.line}"


def _first_page(system: str, settings: Settings, resource: str, scratch: Path) -> Finding:
    """Read one page of one resource, as a run would; the answer as one finding."""
    subject = f"{system} {resource}"
    stats = ExtractStats()
    # a scratch destination too: a resource may ask it what was landed before (none here)
    pipeline = dlt.pipeline(
        pipeline_name=f"q2c_doctor_{system}_{resource}",
        pipelines_dir=str(scratch),
        destination=dlt.destinations.duckdb(str(scratch / f"{system}_{resource}.duckdb")),
    )
    try:
        source = make_source(system, settings, stats).with_resources(resource)
        pipeline.extract(source.add_limit(1))
    except Exception as exc:
        refused = permanent_failure(exc)
        if refused is not None:
            return Finding(False, subject, str(refused))
        return Finding(False, subject, _first_line(exc))
    if resource in stats.unavailable:
        return Finding(
            True, subject, f"not available, skipped by runs: {stats.unavailable[resource]}"
        )
    records = stats.records.get(resource, 0)
    said = [f"{records} records on the first page"]
    if quarantined := stats.quarantined.get(resource):
        said.append(f"{quarantined} would be quarantined")
    if new_fields := stats.new_fields.get(resource):
        said.append(f"fields the contract does not know: {', '.join(new_fields)}")
    return Finding(True, subject, "; ".join(said))


def _first_line(exc: BaseException) -> str:
    """The innermost cause's message, first line (dlt wraps what a resource raised)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def probe_sources(settings: Settings) -> Iterator[Finding]:
    """One finding per resource of every source: its first page read, or why not."""
    with tempfile.TemporaryDirectory(prefix="q2c-doctor-") as scratch:
        for system in SYSTEM_NAMES:
            try:
                resources = list(make_source(system, settings, ExtractStats()).resources)
            except Exception as exc:  # a missing setting: dlt's config resolution
                refused = permanent_failure(exc)
                yield Finding(False, system, str(refused) if refused else _first_line(exc))
                continue
            first = _first_page(system, settings, resources[0], Path(scratch))
            yield first
            account = (setting_name(system, "access_token"), setting_name(system, "base_url"))
            if not first.ok and any(name in first.line for name in account):
                continue  # the token or address is wrong: every resource would say the same
            for resource in resources[1:]:
                yield _first_page(system, settings, resource, Path(scratch))


def link_coverage(settings: Settings) -> Iterator[Finding]:
    """The coverage of each cross-system link in the last build (the analysts' copy)."""
    path = settings.analytics_path
    if not path.exists():
        yield Finding(True, "link coverage", f"no build yet ({path}): run q2c run, then again")
        return
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.execute(
                """select link, population, linked_count, coverage, min_coverage,
                          is_below_minimum, profile_key, unlinked_sample
                   from reconciliation.link_coverage order by link"""
            ).fetchall()
    except duckdb.CatalogException:  # built by a q2c without link_coverage
        yield Finding(True, "link coverage", f"not in the last build ({path}): run q2c run")
        return
    except duckdb.Error as exc:
        yield Finding(False, "link coverage", f"cannot read {path}: {_first_line(exc)}")
        return
    for link, population, linked, coverage, minimum, below, key, sample in rows:
        if not population:
            yield Finding(True, f"link {link}", "nothing to link in the last build")
            continue
        said = f"{linked} of {population} ({coverage:.1%}, minimum {minimum:.0%})"
        if below:
            said += f"; check {key}; unlinked, e.g. {sample}"
        yield Finding(not below, f"link {link}", said)
