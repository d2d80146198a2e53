"""Both reference cases through real devices and a real host: as written, nothing leaks to it."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from pathlib import Path
from typing import Any

import psycopg
import pytest

from backchannel import engine
from backchannel.client.simulation import run, temporary_host
from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.replay import replay
from backchannel.scenario import Scenario, load
from tests.store.embedded import new_database
from tests.test_scenario import DIRECT, MUSCAT


def secrets_of(path: Path) -> set[str]:
    """Everything the host must never learn: names, ids, labels and words of the talks."""
    scenario = load(path)
    talks = replay(scenario).talks
    found = {"mediator-only", "carry-gist", "carry-verbatim", scenario.talks.id}
    for table in (talks.parties, talks.members, talks.rooms):
        for entity in table.values():
            found |= {entity.id, getattr(entity, "name", "")}
    for message in talks.messages.values():
        found |= {message.id, message.text[:40]}
    # Two-letter party ids ("us") occur by chance in random bytes; longer ones are meaningful.
    return {s for s in found if len(s) >= 4}


#: Put into every party, member, room, message and device id, every name and every text.
CANARY = "zq7canary"


def canaried(scenario: Scenario) -> Scenario:
    """The scenario with the canary in every id, name and text (labels stay: they are searched
    for as they are)."""
    talks = replay(scenario).talks
    ids = {scenario.talks.id} | {
        key
        for table in (talks.parties, talks.members, talks.rooms, talks.devices, talks.grants)
        for key in table
    }
    ids |= {m.id for m in talks.messages.values()} | {c.id for c in talks.contacts}
    ids |= {s.event.message for s in scenario.steps if hasattr(s.event, "message")}

    def mark(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: mark(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        if isinstance(value, str) and (value in ids or (key in ("text", "name") and value)):
            return CANARY + value
        if isinstance(value, str) and key == "commitment":
            return json.dumps(mark(json.loads(value)))  # a deposit: its parties' ids inside
        return value

    def event(e: ev.Event) -> ev.Event:
        return codec.decode(mark(dict(codec.encode(e))))

    setup = tuple(event(e) for e in scenario.setup)
    start = engine.Talks(id=CANARY + scenario.talks.id, title=CANARY + scenario.talks.title)
    return dataclasses.replace(
        scenario,
        talks=functools.reduce(engine.apply, setup, start),
        setup=setup,
        steps=tuple(dataclasses.replace(s, event=event(s.event)) for s in scenario.steps),
    )


@pytest.mark.parametrize("path", [MUSCAT, DIRECT], ids=["muscat-2024", "direct-channel-2026"])
def test_canaries_reach_neither_the_database_nor_the_logs(
    path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The canary in every id, name and text: absent from the SQLite file's raw bytes (every
    table, column and free page) and from everything the host logged at DEBUG level."""
    caplog.set_level(logging.DEBUG)
    scenario = canaried(load(path))
    database = tmp_path / "host.db"
    with temporary_host(f"sqlite:///{database}") as url:
        stacked = run(scenario, url)
        stacked.close()
    data = stacked.to_json()
    assert data["outcome"]["as_written"] and data["stack"]["dropped"] == []
    assert sum(CANARY in json.dumps(e, ensure_ascii=False) for e in data["events"]) > 10
    scanned = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("host.db"))
    assert len(scanned) > 10_000
    assert CANARY.encode() not in scanned
    assert not [
        s for s in ("mediator-only", "carry-gist", "carry-verbatim") if s.encode() in scanned
    ]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert CANARY not in logged


@pytest.mark.parametrize("path", [MUSCAT, DIRECT], ids=["muscat-2024", "direct-channel-2026"])
def test_reference_case_through_the_host(path: Path, tmp_path: Path) -> None:
    """As written, no device drops anything, each member's device holds exactly what it may read,
    and no name, id, label or word of the talks is anywhere in the host's database files."""
    database = tmp_path / "host.db"
    with temporary_host(f"sqlite:///{database}") as url:
        stacked = run(load(path), url)
        host_id, reader = next(iter(stacked.participants.items()))
        host = stacked.drivers[host_id].host
        entries = [e[:32] for e in host.log_entries(reader.talks_host_id, 0)]
        stacked.close()
    data = stacked.to_json()
    # Every event a device applied sits in the host's record, at the place it was applied at;
    # a device holds nothing the record does not place.
    for participant in stacked.participants.values():
        assert participant.ledger.waiting == {}
        for index, held in participant.ledger.applied:
            assert held.commitment == entries[index]
    assert len(entries) >= len(data["events"]) - len(data["rejections"])
    assert data["outcome"]["as_written"], data["outcome"]["unexpected"]
    assert data["stack"]["dropped"] == []
    assert data["stack"]["record"]["alarms"] == []
    assert stacked.device_visibility() == data["visibility"]
    scanned = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("host.db"))
    assert len(scanned) > 10_000
    leaked = sorted(s for s in secrets_of(path) if s.encode() in scanned)
    assert leaked == []


def test_postgres_host_learns_nothing(postgres_server) -> None:
    """Through a host on PostgreSQL: every value of every row of every table is free of the
    talks' names, ids, labels and words (text searched as text, binary as bytes)."""
    url = new_database(postgres_server)
    with temporary_host(url) as host_url:
        stacked = run(canaried(load(MUSCAT)), host_url)
        stacked.close()
    assert stacked.to_json()["outcome"]["as_written"]
    secrets = secrets_of(MUSCAT) | {CANARY}
    tables = rows = 0
    leaked: set[str] = set()
    with psycopg.connect(url) as connection:
        names = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        for (table,) in names:
            tables += 1
            for row in connection.execute(f'SELECT * FROM "{table}"').fetchall():
                rows += 1
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        data = bytes(value)
                        leaked |= {s for s in secrets if s.encode() in data}
                    elif value is not None:
                        leaked |= {s for s in secrets if s in str(value)}
    assert tables >= 8 and rows > 100
    assert leaked == set()
