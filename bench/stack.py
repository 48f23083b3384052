"""What a benchmark runs against: a fresh database, a broker, and eventshop's real processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import credentials
from eventshop import topology
from store import broker, db, migrate, settings

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[1]
CELERY = [PYTHON, "-m", "celery"]


@dataclass
class Stack:
    folder: Path
    sqlite: bool
    database_url: str = ""
    broker_url: str = ""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    databases: list[str] = field(default_factory=list)
    admin_url: str = ""

    def __post_init__(self) -> None:
        """On SQLite the embedded broker `eventshop up` runs, started here; else BROKER_URL's Redis."""
        # Beat keeps its schedule in the data folder, and dies at start when the folder is missing.
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        os.environ["EVENTSHOP_DATA_DIR"] = str(self.folder / "data")
        # Every process's metrics in one directory, as `eventshop up` keeps them, so the API's
        # `/metrics` shows the workers' and the projector's stages too (bench.stages).
        shutil.rmtree(self.folder / "metrics", ignore_errors=True)
        (self.folder / "metrics").mkdir()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(self.folder / "metrics")
        os.environ.update(credentials.environment())
        if self.sqlite:
            os.environ.pop("BROKER_URL", None)
            embedded = settings.load()
            self.start("broker", broker.server_command(embedded))
            self.broker_url = embedded.broker_url
        else:
            self.broker_url = os.environ.get("BROKER_URL") or "redis://127.0.0.1:6379/14"
        os.environ["BROKER_URL"] = self.broker_url
        _wait_for_broker(self.broker_url)

    @property
    def result_backend(self) -> str:
        return self.broker_url

    def fresh_database(self) -> str:
        """A new, migrated database, which becomes this process's DATABASE_URL."""
        name = f"eventshop_bench_{uuid.uuid4().hex[:10]}"
        if self.sqlite:
            url = f"sqlite:///{self.folder / name}.db"
        else:
            base = self.admin_url = self.admin_url or db.normalise_url(
                os.environ.get("DATABASE_URL") or "postgresql://root@127.0.0.1:5432/test"
            )
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            url = make_url(base).set(database=name).render_as_string(hide_password=False)
        self.databases.append(url)
        migrate.upgrade(url)
        self.database_url = url
        os.environ["DATABASE_URL"] = url
        return url

    def settings(self) -> settings.Settings:
        """The settings eventshop's processes run with on this stack."""
        return settings.load(self.env())

    def env(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.database_url, "BROKER_URL": self.broker_url}

    def start(self, name: str, command: list[str], **extra: str) -> None:
        with (self.folder / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                command,
                env={**self.env(), **extra},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_system(self, port: int, workers: int = 2) -> str:
        """API, command worker, projector and beat as `eventshop up` runs them; returns the GraphQL
        URL once it answers."""
        programs = topology.programs(self.settings(), "127.0.0.1", port, workers=workers, log_level="WARNING")
        for name, command in programs.items():
            self.start(name, command)
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        return f"http://127.0.0.1:{port}/graphql"

    def start_procfile(self, port: int) -> str:
        """The Procfile's processes as a user starts them (`honcho start`, every default: web
        processes, worker concurrency, partitions, Flower); returns the GraphQL URL once it answers."""
        bin_folder = str(Path(PYTHON).parent)
        self.start(
            "honcho",
            [str(Path(bin_folder) / "honcho"), "start", "-f", str(ROOT / "Procfile"), "-p", str(port)],
            PATH=f"{bin_folder}:{os.environ.get('PATH', '')}",
            FLOWER_PORT=str(port + 500),
        )
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        return f"http://127.0.0.1:{port}/graphql"

    def stop_all(self, keep_broker: bool = True) -> None:
        """Stop every process but the embedded broker (unless `keep_broker` is False)."""
        stopping = {n: p for n, p in self.processes.items() if n != "broker" or not keep_broker}
        for process in stopping.values():
            _signal(process, signal.SIGTERM)
        for name, process in stopping.items():
            del self.processes[name]
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                _signal(process, signal.SIGKILL)
                process.wait()

    def drop_databases(self) -> None:
        for engine in list(db._engines.values()):
            engine.dispose()
        db._engines.clear()
        if self.sqlite:
            return
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for url in self.databases:
                name = make_url(url).database
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _wait_for_broker(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    client = redis.Redis.from_url(broker.client_url(url) or url)
    while True:
        try:
            client.flushdb()
            return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wait_until_up(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")
