"""Every command finds the same data folder as `eventshop up`, and refuses one without a database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def eventshop(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "EVENTSHOP_DATA_DIR")}
    return subprocess.run(
        [sys.executable, "-m", "eventshop", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


@pytest.mark.parametrize(
    "command",
    [
        ("verify",),
        ("projections", "status"),
        ("projections", "resume", "products"),
        ("web", "--port", "1"),
        ("commands", "list"),
        ("commands", "retry", "00000000-0000-0000-0000-000000000000"),
        ("status", "--once"),
    ],
)
def test_a_command_on_an_empty_folder_says_so_in_one_line_and_exits_2(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    before = files(tmp_path)
    result = eventshop(*command, "--data-dir", str(tmp_path / "nothing"), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("eventshop: no eventshop database in ")
    assert files(tmp_path) == before, "a file or folder was created"


def test_verify_on_a_database_without_eventshop_tables_exits_2(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "eventshop.db") as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    before = files(tmp_path)
    result = eventshop("verify", "--data-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "holds no eventshop tables" in result.stderr
    assert "Traceback" not in result.stderr
    assert files(tmp_path) == before


def test_every_command_finds_the_data_folder_that_migrate_made(tmp_path: Path) -> None:
    assert eventshop("migrate", cwd=tmp_path).returncode == 0
    assert (tmp_path / "eventshop-data" / "eventshop.db").is_file()
    assert eventshop("verify", cwd=tmp_path).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert eventshop("verify", cwd=elsewhere).returncode == 2
    found = eventshop(
        "projections", "status", "--json", "--data-dir", str(tmp_path / "eventshop-data"), cwd=elsewhere
    )
    assert found.returncode == 0 and '"name": "products"' in found.stdout
    listed = eventshop(
        "commands", "list", "--json", "--data-dir", str(tmp_path / "eventshop-data"), cwd=elsewhere
    )
    assert listed.returncode == 0 and listed.stdout == ""
