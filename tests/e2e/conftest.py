"""The system under test: `eventshop up` on the session's database and broker."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.conftest import free_port
from tests.e2e.client import Client, running_system

REDELIVER_AFTER = 2
LOCAL = "127.0.0.1"


@pytest.fixture(scope="session")
def system_database(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture(scope="session")
def system(
    system_database: str, make_broker: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Client]:
    folder = tmp_path_factory.mktemp("system")
    env = {
        **os.environ,
        "DATABASE_URL": system_database,
        "BROKER_URL": make_broker(),
        "EVENTSHOP_REDELIVER_AFTER": str(REDELIVER_AFTER),
    }
    with running_system(env, free_port(), folder / "data", folder / "up.log") as client:
        yield client


# The reference clients, pinned: the GraphQL-over-HTTP audits and the graphql-ws client.
NODE_PACKAGES = ["graphql-http@1.23.1", "graphql@16.15.0", "graphql-ws@6.0.6", "ws@8.18.3"]
NODE_SCRIPTS = [Path(__file__).parent / "audit" / "audit.mjs", Path(__file__).parent / "ws" / "scenarios.mjs"]


@pytest.fixture(scope="session")
def node_scripts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the pinned Node packages installed and the test scripts beside them."""
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node, "Node.js and npm are needed to run the reference clients"
    folder = tmp_path_factory.mktemp("node")
    subprocess.run(
        [npm, "install", "--silent", "--prefix", str(folder), *NODE_PACKAGES], check=True, timeout=300
    )
    for script in NODE_SCRIPTS:
        shutil.copy(script, folder / script.name)
    return folder


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver, for one module: while it runs, the main thread has a running event
    loop, so that `asyncio.run` in later tests would fail."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium (Debian's, which `./dev test` installs) that can resolve no host but
    127.0.0.1: no page a test opens can reach anything else."""
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium package is needed: apt-get install -y chromium"
    browser = playwright.chromium.launch(
        executable_path=chromium,
        args=[
            "--no-sandbox",
            f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOCAL}",
        ],  # root needs no-sandbox
    )
    yield browser
    browser.close()
