"""The `graphql-http` package's server audits (the GraphQL-over-HTTP reference suite), run by Node."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.e2e.client import Client


def test_every_graphql_over_http_audit_passes(system: Client, node_scripts: Path) -> None:
    found = subprocess.run(
        ["node", str(node_scripts / "audit.mjs"), f"{system.base}/graphql"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = json.loads(found.stdout)
    assert len(results) > 50
    assert [r for r in results if r["status"] != "ok"] == []
