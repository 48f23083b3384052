"""Security as a user meets it: `eventshop up` with no key configured prints a token that works;
`eventshop token` and `eventshop apikey` mint, list and revoke credentials; the mutation rate limit
is shared by two API processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from eventshop import topology
from store import db
from store.schema import commands
from tests import auth, processes
from tests.conftest import free_port
from tests.e2e.client import Client, running_system, wait_for

CREATE = """mutation($sku: String!) { createProduct(input: {sku: $sku, name: "Mug",
    price: {amount: 100, currency: "EUR"}}, wait: HANDLED) { status } }"""
PLAIN_CREATE = CREATE.replace(", wait: HANDLED", "")


def eventshop(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventshop", *args], env=env, capture_output=True, text=True, timeout=60
    )


def created(api: Client, sku: str) -> str:
    body = api.gql(CREATE, sku=sku)
    assert "errors" not in body, body
    status: str = body["data"]["createProduct"]["status"]
    return status


def test_up_without_a_key_prints_a_token_and_the_cli_mints_and_revokes_credentials(
    make_database: Callable[[], str], make_broker: Callable[[], str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "EVENTSHOP_JWT_SECRET"}
    env.update(DATABASE_URL=make_database(), BROKER_URL=make_broker())
    data, log = tmp_path / "data", tmp_path / "up.log"
    with running_system(env, free_port(), data, log) as system:
        printed = re.search(r"admin token[^\n]*\n(\S+)", log.read_text())
        assert printed, log.read_text()
        assert (data / "jwt-secret").stat().st_mode & 0o777 == 0o600
        assert created(Client(system.base, credential=printed.group(1)), "SEC-UP-1") == "SUCCEEDED"
        assert Client(system.base, anonymous=True).post({"query": PLAIN_CREATE})[0] == 401
        assert (
            Client(system.base).post({"query": PLAIN_CREATE})[0] == 401
        )  # the tests' secret is not this one

        cli = {**env, "EVENTSHOP_DATA_DIR": str(data)}
        minted = eventshop("token", "--sub", "bob", "--role", "catalog:write", env=cli)
        assert minted.returncode == 0, minted.stderr
        assert created(Client(system.base, credential=minted.stdout.strip()), "SEC-UP-2") == "SUCCEEDED"
        assert eventshop("token", "--sub", "bob", "--role", "superuser", env=cli).returncode == 2

        made = eventshop("apikey", "create", "--name", "importer", "--role", "catalog:write", env=cli)
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip().splitlines()[-1]
        assert key.startswith("esk_")
        assert created(Client(system.base, credential=key), "SEC-UP-3") == "SUCCEEDED"
        listed = eventshop("apikey", "list", env=cli)
        assert "importer" in listed.stdout and key not in listed.stdout
        assert eventshop("apikey", "create", "--name", "importer", "--role", "admin", env=cli).returncode == 1

        assert eventshop("apikey", "revoke", "importer", env=cli).returncode == 0
        revoked = time.monotonic()
        keyed = Client(system.base, credential=key)
        wait_for(
            lambda: keyed.post({"query": "{ __typename }"})[0] == 401, 5, "the revoked key to be refused"
        )
        assert time.monotonic() - revoked < 1.5
        with db.reading(env["DATABASE_URL"]) as connection:
            actors = set(connection.execute(select(commands.c.actor)).scalars())
        assert actors == {"developer", "bob", "importer"}
    output = log.read_text()
    assert key not in output and minted.stdout.strip() not in output  # credentials never logged


def test_the_rate_limit_is_shared_by_two_api_processes_and_answers_429_with_retry_after(
    make_database: Callable[[], str], make_broker: Callable[[], str]
) -> None:
    database = make_database()
    env = {**os.environ, "DATABASE_URL": database, "BROKER_URL": make_broker(), "EVENTSHOP_RATE_LIMIT": "5"}
    ports = [free_port(), free_port()]
    webs = [processes.start(topology.web("127.0.0.1", port, workers=1), env=env) for port in ports]
    try:
        apis = [Client(f"http://127.0.0.1:{port}") for port in ports]
        for api in apis:
            wait_for(lambda api=api: _answers(api), 60, "the API")  # type: ignore[misc]
        token = auth.token("flooder", ("catalog:write",))
        started, answers = time.monotonic(), []
        for n in range(40):
            api = Client(apis[n % 2].base, credential=token)
            status, headers, _body = api.post({"query": PLAIN_CREATE, "variables": {"sku": f"RATE-{n}"}})
            answers.append((n % 2, status, headers.get("Retry-After")))
        elapsed = time.monotonic() - started
        accepted = [a for a in answers if a[1] == 200]
        limited = [a for a in answers if a[1] == 429]
        assert len(accepted) + len(limited) == 40, answers
        assert len(accepted) <= 10 + 5 * elapsed + 1, (len(accepted), elapsed)
        assert {process for process, _status, _retry in limited} == {0, 1}
        assert all(retry is not None and int(retry) >= 1 for _p, _s, retry in limited)
        other = Client(apis[0].base, credential=auth.token("someone-else", ("catalog:write",)))
        assert other.post({"query": PLAIN_CREATE, "variables": {"sku": "RATE-OTHER"}})[0] == 200
        with db.reading(database) as connection:
            assert (
                connection.execute(select(func.count()).select_from(commands)).scalar_one()
                == len(accepted) + 1
            )
    finally:
        for process in webs:
            processes.signal_group(process, signal.SIGTERM)
            process.wait(20)


def _answers(api: Client) -> bool:
    try:
        return api.request("GET", "/healthz")[0] == 200
    except OSError:
        return False
