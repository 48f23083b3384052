"""A PostgreSQL streaming replica of the test server, started for a test: a `host replication`
line in pg_hba.conf, `pg_basebackup -R` into a temporary folder as the `postgres` user, and
`pg_ctl start` on a free port. Replay can be paused and resumed, and the replica stopped."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store import db

HBA_LINE = "host replication all 127.0.0.1/32 trust"


def _bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else name


def _as_postgres(*command: str) -> None:
    subprocess.run(
        ["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=120
    )


class Replica:
    """Its folder is made under the system's temporary folder, which the `postgres` user can reach
    (pytest's own is its owner's alone), and removed by `remove`."""

    def __init__(self, primary_url: str, port: int) -> None:
        self.primary, self.port = make_url(db.normalise_url(primary_url)), port
        self.folder = Path(tempfile.mkdtemp(prefix="eventshop-replica-"))
        self.data = self.folder / "data"

    def url(self, database: str) -> str:
        return self.primary.set(port=self.port, database=database).render_as_string(hide_password=False)

    def start(self) -> None:
        self._allow_replication()
        shutil.chown(self.folder, "postgres")
        self.folder.chmod(0o700)
        host, port = self.primary.host or "127.0.0.1", str(self.primary.port or 5432)
        _as_postgres(
            _bin("pg_basebackup"),
            "-h",
            host,
            "-p",
            port,
            "-U",
            "postgres",
            "-D",
            str(self.data),
            "-R",
            "-c",
            "fast",
        )
        (self.data / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\nlocal all all trust\n")
        (self.data / "postgresql.conf").write_text("")
        for name in ("pg_hba.conf", "postgresql.conf"):
            shutil.chown(self.data / name, "postgres")
        self.start_server()

    def start_server(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder}"
        _as_postgres(
            _bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-o", options, "start"
        )

    def stop(self) -> None:
        _as_postgres(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def pause_replay(self, database: str) -> None:
        self._execute(database, "SELECT pg_wal_replay_pause()")

    def resume_replay(self, database: str) -> None:
        self._execute(database, "SELECT pg_wal_replay_resume()")

    def _execute(self, database: str, statement: str) -> None:
        engine = create_engine(db.normalise_url(self.url(database)), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(statement))
        engine.dispose()

    def _allow_replication(self) -> None:
        admin = create_engine(
            self.primary.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            hba = Path(connection.execute(text("SHOW hba_file")).scalar_one())
            if HBA_LINE not in hba.read_text().splitlines():
                with hba.open("a") as file:
                    file.write(f"\n{HBA_LINE}\n")
                connection.execute(text("SELECT pg_reload_conf()"))
        admin.dispose()
