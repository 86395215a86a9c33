"""No secret in logs, errors, metadata or anything a run writes.

`q2c demo` (every asset, the checks, the report, the analysts' copy, Dagster's storage) runs
with a recognisable token; then every file it wrote and everything it printed is searched for
it. A refused token is searched for the same way, and the redaction of credentials is tried on
a real error of the HTTP library.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests

from pipelines.lib.extract import redact
from pipelines.settings import PROJECT_ROOT
from tests.conftest import AS_OF


def files_holding(root: Path, secret: bytes) -> list[str]:
    """Every file under ``root`` whose bytes hold ``secret`` (databases, logs, JSON, HTML)."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as fh:
                if secret in fh.read():
                    found.append(str(path.relative_to(root)))
    return found


def q2c(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "q2c"), *args],
        env=env,
        capture_output=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, bytes, subprocess.CompletedProcess]:
    data = tmp_path_factory.mktemp("q2c-secrets") / "data"
    token = f"q2c-secret-{secrets.token_hex(12)}"
    env = {
        **os.environ,
        "Q2C_SIM_TOKEN": token,
        "Q2C_DATA_DIR": str(data),
        "Q2C_DAGSTER_DIR": str(data / "dagster"),
        "DAGSTER_HOME": str(PROJECT_ROOT),
    }
    done = q2c("demo", "--as-of", AS_OF.isoformat(), env=env)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return data, token.encode(), done


def test_a_whole_demo_writes_and_prints_no_token(demo) -> None:
    data, token, done = demo
    assert (data / "dagster" / "history").is_dir() and list((data / "reports").glob("*.html"))
    assert (data / "gx" / "data_docs" / "index.html").exists()
    assert token not in done.stdout and token not in done.stderr
    assert files_holding(data, token) == []
    # dlt's working folders of the definitions (outside the data folder) too
    assert files_holding(Path(tempfile.gettempdir()) / "q2c-definitions", token) == []


def test_a_refused_token_is_not_repeated_in_the_error_or_the_artifacts(demo) -> None:
    data, _, _ = demo
    wrong = f"q2c-wrong-{secrets.token_hex(12)}"
    # the demo's firm is served by `q2c demo-ui`'s harness only while it runs: serve it here
    from simulator.harness import simulated_sources

    with simulated_sources(data / "simulator" / "firm.duckdb") as sim:
        env = {
            **os.environ,
            **sim.env,
            "SOURCES__ERP__ACCESS_TOKEN": wrong,
            "Q2C_DATA_DIR": str(data),
            "Q2C_DAGSTER_DIR": str(data / "dagster"),
            "DAGSTER_HOME": str(PROJECT_ROOT),
        }
        done = q2c("run", env=env)
    assert done.returncode == 1
    assert b"NetSuite answered HTTP 401" in done.stderr
    assert wrong.encode() not in done.stdout + done.stderr
    assert files_holding(data, wrong.encode()) == []
    assert b"Traceback" not in done.stderr


def test_credentials_are_redacted_from_a_real_error() -> None:
    token = f"q2c-secret-{secrets.token_hex(8)}"
    with pytest.raises(requests.ConnectionError) as raised:
        requests.get(
            f"http://127.0.0.1:9/v2/clients?access_token={token}&page=2",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
    assert token in str(raised.value)  # what the library says, unredacted
    assert token not in redact(str(raised.value))
    assert "access_token=[redacted]&page=2" in redact(str(raised.value))
    assert redact(f"Authorization: Bearer {token}") == "Authorization: Bearer [redacted]"
