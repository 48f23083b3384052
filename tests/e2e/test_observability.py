"""Observability of a running `eventshop up`: one command followed by its correlation id (from a
`traceparent` header) through the API's, the worker's and the projector's JSON log lines; a
malformed request is one WARNING line; `/metrics` carries the workers' metrics too."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import free_port
from tests.e2e.client import running_system, wait_for

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CREATE = """mutation { createProduct(input: {sku: "OBS-1", name: "Traced",
    price: {amount: 1, currency: "EUR"}}, wait: VISIBLE) { commandId status stage } }"""
LINE = re.compile(r"^\d\d:\d\d:\d\d (\w+)\s+\| (\{.*\})$")


def json_lines(log: Path) -> list[tuple[str, dict[str, object]]]:
    found = []
    for line in log.read_text().splitlines():
        if (match := LINE.match(line)) is not None:
            found.append((match.group(1), json.loads(match.group(2))))
    return found


def test_one_command_is_followed_by_its_correlation_id_through_every_process(
    make_database: Callable[[], str], make_broker: Callable[[], str], tmp_path: Path
) -> None:
    env = {**os.environ, "DATABASE_URL": make_database(), "BROKER_URL": make_broker()}
    env.update(EVENTSHOP_LOG_FORMAT="json", EVENTSHOP_LOG_LEVEL="DEBUG")
    log, port = tmp_path / "up.log", free_port()
    with running_system(env, port, tmp_path / "data", log) as system:
        sent = {
            "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01",
            "apollographql-client-name": "shop-web",
            "apollographql-client-version": "2.0.1-" + "x" * 100,
        }
        status, headers, body = system.post({"query": CREATE}, headers=sent)
        assert status == 200 and body["data"]["createProduct"]["stage"] == "VISIBLE", body
        assert headers["X-Correlation-Id"] == TRACE
        command_id = body["data"]["createProduct"]["commandId"]

        def traced() -> set[str] | None:
            lines = json_lines(log)
            roles = {role for role, line in lines if TRACE in json.dumps(line)}
            return roles if roles >= {"web", "worker", "projector"} else None

        wait_for(traced, 30, "the correlation id in the API's, the worker's and the projector's lines")
        lines = json_lines(log)
        handled = [
            line for role, line in lines if role == "worker" and line.get("event") == "command handled"
        ]
        assert {"command_id": command_id, "correlation_id": TRACE, "status": "SUCCEEDED"}.items() <= handled[
            0
        ].items()

        with socket.create_connection(("127.0.0.1", port)) as raw:
            raw.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n")
            raw.sendall(b"Transfer-Encoding: chunked\r\n\r\n")
            assert raw.recv(100).startswith(b"HTTP/1.0 400")
        time.sleep(0.5)

        families = {f.name: f for f in text_string_to_metric_families(system.request("GET", "/metrics")[2])}
        commands = {tuple(sorted(s.labels.items())): s.value for s in families["eventshop_commands"].samples}
        assert commands[(("status", "SUCCEEDED"), ("type", "CreateProduct"))] >= 1  # counted by the worker
        requests = {
            tuple(sorted(s.labels.items())): s.value for s in families["eventshop_graphql_requests"].samples
        }
        assert requests[(("client", "shop-web"), ("operation", "mutation"), ("outcome", "ok"))] == 1
        stages = {
            s.labels["stage"]: s.value
            for s in families["eventshop_command_stage_seconds"].samples
            if s.name.endswith("_count")
        }
        assert all(
            stages.get(stage, 0) >= 1 for stage in ("record", "queue", "lock", "decide", "commit", "notify")
        )
    web = [line for role, line in json_lines(log) if role == "web"]
    malformed = [line for line in web if "malformed request" in str(line.get("event"))]
    assert len(malformed) == 1 and malformed[0]["level"] == "warning", malformed
    assert not any("Traceback" in json.dumps(line) for line in web)
    (request,) = [
        line for line in web if line.get("event") == "graphql request" and TRACE in json.dumps(line)
    ]
    assert request["client_name"] == "shop-web" and request["client_version"] == "2.0.1-" + "x" * 58
    assert (request["operation"], request["status"], request["client_address"]) == (
        "mutation",
        200,
        "127.0.0.1",
    )
