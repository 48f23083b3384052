"""The layers stay apart: domain <- store <- {workers, api} <- eventshop."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports(package: str) -> dict[str, set[str]]:
    """Every module each file of `package` imports, by file."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
        found[str(path.relative_to(ROOT))] = names
    return found


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    for path, names in imports("domain").items():
        foreign = {
            n for n in names if n.split(".")[0] not in sys.stdlib_module_names and n.split(".")[0] != "domain"
        }
        assert not foreign, f"{path} imports {foreign}"


def test_the_api_never_imports_the_workers() -> None:
    for path, names in imports("api").items():
        workers = {n for n in names if n.split(".")[0] == "workers"}
        assert not workers, f"{path} imports {workers}"


def test_the_store_imports_only_the_domain_and_itself() -> None:
    ours = {"api", "workers", "eventshop", "bench", "tests"}
    for path, names in imports("store").items():
        upward = {n for n in names if n.split(".")[0] in ours}
        assert not upward, f"{path} imports {upward}"
