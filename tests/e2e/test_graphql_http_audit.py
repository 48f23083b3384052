"""The `graphql-http` package's server audits (the GraphQL-over-HTTP reference suite), run by Node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.client import Client

AUDIT = Path(__file__).parent / "audit" / "audit.mjs"
PACKAGES = ["graphql-http@1.23.1", "graphql@16.15.0"]


@pytest.fixture(scope="session")
def audit_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node, "Node.js and npm are needed to run the GraphQL-over-HTTP audits"
    folder = tmp_path_factory.mktemp("audit")
    subprocess.run([npm, "install", "--silent", "--prefix", str(folder), *PACKAGES], check=True, timeout=300)
    shutil.copy(AUDIT, folder / "audit.mjs")
    return folder


def test_every_graphql_over_http_audit_passes(system: Client, audit_modules: Path) -> None:
    found = subprocess.run(
        ["node", str(audit_modules / "audit.mjs"), f"{system.base}/graphql"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = json.loads(found.stdout)
    assert len(results) > 50
    assert [r for r in results if r["status"] != "ok"] == []
