"""The simulator's command line (generate, advance, truth; serve's own errors)."""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_generate_advance_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, out = tmp_path / "firm.duckdb", tmp_path / "truth.csv"
    assert (
        main(
            [
                "generate",
                "--db",
                str(db),
                "--seed",
                "42",
                "--scale",
                "small",
                "--as-of",
                "2026-11-25",
                "--problem-rate",
                "0.03",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "generated small firm" in captured.out
    assert "s] planning the firm" in captured.err  # a progress line per stage
    assert main(["advance", "--db", str(db), "--days", "2"]) == 0
    assert "clock 2026-11-25 20:00 -> 2026-11-27 20:00" in capsys.readouterr().out
    assert main(["truth", "--db", str(db), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert rows and {r["status"] for r in rows} <= {"open", "resolved"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["advance", "--db", "{tmp}/missing.duckdb"], "no database at"),
        (["truth", "--db", "{tmp}/missing.duckdb", "--out", "{tmp}/t.csv"], "no database at"),
        (["generate", "--db", "{tmp}/x.duckdb", "--problem-rate", "2"], "problem rate"),
        (["advance", "--db", "{tmp}/firm.duckdb", "--days", "0"], "days must be"),
        (["generate", "--db", "{tmp}/firm.duckdb"], "already exists"),
    ],
)
def test_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["generate", "--db", str(tmp_path / "firm.duckdb"), "--problem-rate", "0"]) == 0
    capsys.readouterr()
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "missing.duckdb").exists()


def test_serve_needs_a_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("Q2C_SIM_TOKEN", raising=False)
    assert main(["serve", "--db", str(tmp_path / "firm.duckdb")]) == 1
    assert "Q2C_SIM_TOKEN" in capsys.readouterr().err


def test_module_entry_point_reports_bad_dates_without_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "generate", "--db", "x.duckdb", "--as-of", "soon"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2
    assert "not a date" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(
    importlib.util.find_spec("simulator.api.server") is None,
    reason="the API layer is not in this tree yet",
)
def test_serve_prints_the_three_base_urls(tmp_path: Path) -> None:
    db = tmp_path / "firm.duckdb"
    assert main(["generate", "--db", str(db), "--problem-rate", "0"]) == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT), "Q2C_SIM_TOKEN": "test-token"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--db", str(db), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    watchdog = threading.Timer(30, proc.kill)  # a hung server ends the read with EOF
    watchdog.start()
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
    finally:
        watchdog.cancel()
        proc.terminate()
        proc.wait(timeout=10)
    text = "".join(lines)
    assert "CRM (Salesforce): http" in text and "PSA (Harvest):" in text
    assert "ERP (NetSuite):" in text and "test-token" not in text
