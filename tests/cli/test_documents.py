"""Documents by CLI: three profiles, one real host (behind a tampering wrapper), real files.

Iran sends files into its caucus; Oman (the mediator) fetches them and carries them as their
labels allow; the US reads what reached it. Every byte goes through the real host on 127.0.0.1
and its SQLite file; faults are a tampering host, a cut upload and bad input.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from backchannel.cli import app
from backchannel.client import transfer
from backchannel.client.host import HostClient
from backchannel.client.profile import Profile
from backchannel.crypto.signed import b64
from backchannel.errors import HostUnreachable
from backchannel.server import HostConfig, Limits
from backchannel.server.app import create_app
from backchannel.server.local import serve_app
from backchannel.store import open_store
from tests.cli.tamper import TamperingHost
from tests.cli.test_rooms import Person

PASSPHRASE = "correct horse battery staple"
runner = CliRunner()


@dataclass
class World:
    people: dict[str, Person]
    host: TamperingHost
    db: Path
    files: Path

    def file(self, name: str, data: bytes) -> Path:
        path = self.files / name
        path.write_bytes(data)
        return path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Muscat: Oman mediates; the US and Iran in their caucus rooms with Oman."""
    scratch = tmp_path_factory.mktemp("docs")
    db = scratch / "host.db"
    config = HostConfig(db_url=f"sqlite:///{db}", limits=Limits(rate_per_s=0))
    tampering = TamperingHost(create_app(config))
    with serve_app(tampering) as url:
        people = {name: Person(scratch / name) for name in ("oman", "us", "iran")}
        for name, person in people.items():
            person("profile", "create", "--host", url, "--name", name, "--kdf", "interactive")
        oman, us, iran = people["oman"], people["us"], people["iran"]
        oman("talks", "create", "muscat", "--party", "oman", "--member", "envoy", "--mediator")
        for party, person, member in (("us", us, "mcgurk"), ("iran", iran, "bagheri")):
            code = oman("talks", "invite", "muscat", "--party", party)["invite"]
            person("talks", "join", code, "--member", member, "--level", "propose")
        for person in people.values():
            person("talks", "list")
        for party in ("us", "iran"):
            oman(
                "room", "create", "muscat", f"{party}-caucus", "--kind", "caucus", "--party", party
            )
        us("room", "join", "muscat", "us-caucus")
        iran("room", "join", "muscat", "iran-caucus")
        files = scratch / "files"
        files.mkdir()
        yield World(people, tampering, db, files)


def _ids(person: Person, room: str | None = None) -> list[str]:
    args = ["doc", "list", "muscat"] + (["--room", room] if room else [])
    return [d["id"] for d in person(*args)["documents"]]


def test_verbatim_document_travels_and_verifies(world: World, tmp_path: Path) -> None:
    """A 2.5 MiB file (three chunks) reaches the mediator and, carried verbatim, the other side:
    each copy is byte for byte the author's, with the author and the file's hash kept."""
    oman, us, iran = (world.people[n] for n in ("oman", "us", "iran"))
    data = os.urandom(5 * 512 * 1024)
    sent = iran(
        "doc",
        "send",
        "muscat",
        "iran-caucus",
        str(world.file("offer.bin", data)),
        "--label",
        "carry-verbatim",
        "--id",
        "offer",
    )
    assert sent["sha256"] == transfer.file_sha256(world.files / "offer.bin")
    got = oman("doc", "get", "muscat", "offer", "--out", str(tmp_path / "a.bin"))
    assert got["verified"] and (tmp_path / "a.bin").read_bytes() == data
    oman("doc", "relay", "muscat", "offer", "us-caucus", "--mode", "verbatim", "--id", "offer-v")
    listed = {d["id"]: d for d in us("doc", "list", "muscat")["documents"]}
    assert listed["offer-v"]["author"] == "bagheri" and listed["offer-v"]["relay"] == "verbatim"
    assert listed["offer-v"]["sha256"] == sent["sha256"]
    us("doc", "get", "muscat", "offer-v", "--out", str(tmp_path / "b.bin"))
    assert (tmp_path / "b.bin").read_bytes() == data
    assert not list(tmp_path.glob("*.bcpart")) and not list(tmp_path.glob(".bc-*"))


def test_mediator_only_document_never_reaches_the_other_party(world: World, tmp_path: Path) -> None:
    """A mediator-only document is the mediator's to read, never to carry; the other party's
    device holds neither its descriptor nor its key."""
    oman, us, iran = (world.people[n] for n in ("oman", "us", "iran"))
    iran(
        "doc",
        "send",
        "muscat",
        "iran-caucus",
        str(world.file("aside.txt", b"between us")),
        "--label",
        "mediator-only",
        "--id",
        "aside",
    )
    oman("doc", "get", "muscat", "aside", "--out", str(tmp_path / "aside.txt"))
    refused = oman("doc", "relay", "muscat", "aside", "us-caucus", "--mode", "verbatim", code=2)
    assert refused["error"]["code"] == "relay.label_forbids"
    assert "aside" not in _ids(us)
    us("doc", "get", "muscat", "aside", "--out", str(tmp_path / "x"), code=2)
    with Profile.open(oman.directory, PASSPHRASE) as mediator:
        text = mediator.participant("muscat").view.messages["aside"].text
        key = json.loads(text.split("\n", 1)[1])["key"]
    with Profile.open(us.directory, PASSPHRASE) as other:
        held = json.dumps(other.participant("muscat").snapshot())
    assert key not in held and "aside.txt" not in held


def test_host_stores_no_plaintext_or_file_name(world: World, tmp_path: Path) -> None:
    """Canary: no byte of a document's plaintext or its file name is in the host's database
    (nor its WAL), and nothing is left in the sender's outbox."""
    iran = world.people["iran"]
    name = f"canary-{secrets.token_hex(8)}.txt"
    plaintext = f"CANARY-{secrets.token_hex(16)}".encode() * 50
    iran(
        "doc",
        "send",
        "muscat",
        "iran-caucus",
        str(world.file(name, plaintext)),
        "--label",
        "carry-gist",
    )
    stored = b"".join(p.read_bytes() for p in world.db.parent.glob("host.db*"))
    assert plaintext[:40] not in stored and name.encode() not in stored
    assert b64(plaintext[:30]).encode()[:20] not in stored
    assert not list((iran.directory / "outbox").glob("*"))


def test_gist_carries_the_mediators_own_file(world: World, tmp_path: Path) -> None:
    """A carry-gist document reaches the other side only as the mediator's own file."""
    oman, us, iran = (world.people[n] for n in ("oman", "us", "iran"))
    iran(
        "doc",
        "send",
        "muscat",
        "iran-caucus",
        str(world.file("full.txt", b"names and all")),
        "--label",
        "carry-gist",
        "--id",
        "full",
    )
    redacted = world.file("redacted.txt", b"[redacted] and all")
    oman("doc", "relay", "muscat", "full", "us-caucus", "--mode", "verbatim", code=2)
    oman("doc", "relay", "muscat", "full", "us-caucus", "--mode", "gist", code=2)  # no --file
    oman(
        "doc",
        "relay",
        "muscat",
        "full",
        "us-caucus",
        "--mode",
        "gist",
        "--file",
        str(redacted),
        "--id",
        "full-g",
    )
    seen = {d["id"]: d for d in us("doc", "list", "muscat")["documents"]}
    assert "full" not in seen and seen["full-g"]["author"] == "envoy"
    us("doc", "get", "muscat", "full-g", "--out", str(tmp_path / "g.txt"))
    assert (tmp_path / "g.txt").read_bytes() == b"[redacted] and all"


def test_versions_show_the_chain_and_a_diff(world: World) -> None:
    """v2 supersedes v1: both listed oldest first, with a unified diff; nobody supersedes
    another's document."""
    oman, us = world.people["oman"], world.people["us"]
    v1 = world.file("non-paper.md", b"# Non-paper\n\nArticle 1: ceasefire.\nArticle 2: talks.\n")
    oman("doc", "send", "muscat", "us-caucus", str(v1), "--label", "carry-verbatim", "--id", "np1")
    v2 = world.file(
        "non-paper.md", b"# Non-paper\n\nArticle 1: lasting ceasefire.\nArticle 2: talks.\n"
    )
    oman(
        "doc",
        "send",
        "muscat",
        "us-caucus",
        str(v2),
        "--label",
        "carry-verbatim",
        "--supersedes",
        "np1",
        "--id",
        "np2",
    )
    shown = us("doc", "versions", "muscat", "np1")["versions"]
    assert [v["id"] for v in shown] == ["np1", "np2"] and shown[0]["diff"] is None
    assert "-Article 1: ceasefire." in shown[1]["diff"]
    assert "+Article 1: lasting ceasefire." in shown[1]["diff"]
    assert [v["id"] for v in us("doc", "versions", "muscat", "np2")["versions"]] == ["np1", "np2"]
    us(
        "doc",
        "send",
        "muscat",
        "us-caucus",
        str(v2),
        "--label",
        "carry-verbatim",
        "--supersedes",
        "np1",
        code=2,
    )


def test_bad_input_is_refused_and_changes_nothing(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing file, an oversize file, a room the sender is not in, an unknown document or
    an existing --out: exit 2, and nothing reaches the host or the disk."""
    iran = world.people["iran"]
    store = open_store(f"sqlite:///{world.db}", migrate=False)
    try:
        before = store.counts()
        iran(
            "doc",
            "send",
            "muscat",
            "iran-caucus",
            str(tmp_path / "none"),
            "--label",
            "carry-gist",
            code=2,
        )
        big = world.file("big.bin", b"x" * 100)
        monkeypatch.setattr(transfer, "MAX_DOCUMENT_BYTES", 99)
        error = iran(
            "doc", "send", "muscat", "iran-caucus", str(big), "--label", "carry-gist", code=2
        )
        assert error["error"]["code"] == "document.invalid"
        monkeypatch.undo()
        iran("doc", "send", "muscat", "us-caucus", str(big), "--label", "carry-gist", code=2)
        iran("doc", "get", "muscat", "nothing", "--out", str(tmp_path / "o"), code=2)
        (tmp_path / "exists").write_bytes(b"mine")
        iran(
            "doc", "send", "muscat", "iran-caucus", str(big), "--label", "carry-gist", "--id", "big"
        )
        iran("doc", "get", "muscat", "big", "--out", str(tmp_path / "exists"), code=2)
        assert (tmp_path / "exists").read_bytes() == b"mine"
        after = store.counts()
        assert after["blobs"] == before["blobs"] + 1  # only the good send
    finally:
        store.close()


def test_cut_upload_resumes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """An upload cut after its first chunk fails cleanly (no message sent); the same command
    again sends only the missing chunks, with the same key, blob and document id."""
    iran, oman = world.people["iran"], world.people["oman"]
    data = os.urandom(3 * 1024 * 1024 + 5)
    path = world.file("long.bin", data)
    real = HostClient.put_chunk
    calls: list[int] = []
    cut_once: list[int] = []

    def cut(self: HostClient, talks: str, blob: str, index: int, chunk: bytes) -> Any:
        calls.append(index)
        if len(calls) == 2 and not cut_once:
            cut_once.append(index)
            raise HostUnreachable("the connection was cut")
        return real(self, talks, blob, index, chunk)

    before = _ids(oman)
    monkeypatch.setattr(HostClient, "put_chunk", cut)
    iran("doc", "send", "muscat", "iran-caucus", str(path), "--label", "carry-verbatim", code=1)
    assert _ids(oman) == before
    calls.clear()
    sent = iran("doc", "send", "muscat", "iran-caucus", str(path), "--label", "carry-verbatim")
    assert calls and 0 not in calls  # the first chunk was not sent again
    assert sent["sha256"] == transfer.file_sha256(path)
    assert _ids(oman).count(sent["document"]) == 1


def test_tampering_host_is_caught(world: World, tmp_path: Path) -> None:
    """A host returning another blob, an altered chunk or no chunk: a clear error, nothing
    written; once the host behaves, the download resumes and verifies."""
    oman, iran = world.people["oman"], world.people["iran"]
    first = os.urandom(2 * 1024 * 1024)
    second = os.urandom(2 * 1024 * 1024)
    for name, data in (("one", first), ("two", second)):
        iran(
            "doc",
            "send",
            "muscat",
            "iran-caucus",
            str(world.file(f"{name}.bin", data)),
            "--label",
            "carry-verbatim",
            "--id",
            name,
        )
    oman("doc", "list", "muscat")  # sync
    with Profile.open(oman.directory, PASSPHRASE) as mediator:
        view = mediator.participant("muscat").view
        blobs = {
            m: json.loads(view.messages[m].text.split("\n", 1)[1])["blob"] for m in ("one", "two")
        }
    out = tmp_path / "one.bin"
    try:
        world.host.swap[blobs["one"]] = blobs["two"]
        error = oman("doc", "get", "muscat", "one", "--out", str(out), code=1)
        assert error["error"]["code"] == "document.corrupt"
        world.host.disarm()
        world.host.flip = True
        error = oman("doc", "get", "muscat", "one", "--out", str(out), code=1)
        assert error["error"]["code"] == "document.corrupt"
        world.host.disarm()
        world.host.drop.add(1)
        oman("doc", "get", "muscat", "one", "--out", str(out), code=1)
        (part,) = tmp_path.glob("one.bin.*.bcpart")
        assert not out.exists() and part.stat().st_size > 0
    finally:
        world.host.disarm()
    oman("doc", "get", "muscat", "one", "--out", str(out))
    assert out.read_bytes() == first and not part.exists()


def test_retention_stops_devices_opening_old_documents(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mediator's root sets a retention (nobody else may); past it, by the device's clock or
    the record's, every device lists the document as expired and refuses to open it."""
    import backchannel.cli.documents as documents_cli
    from backchannel.client import dispatch

    oman, us = world.people["oman"], world.people["us"]
    # Its own document (xdist may run this test on another worker than the ones that send).
    kept = world.file("kept.md", b"# kept for two days")
    oman("doc", "send", "muscat", "us-caucus", str(kept), "--label", "carry-gist", "--id", "kept")
    refused = us("doc", "retention", "muscat", "2", code=2)
    assert refused["error"]["code"] == "mandate.insufficient"
    assert oman("doc", "retention", "muscat", "2")["retention_days"] == 2
    listed = us("doc", "list", "muscat")
    assert listed["retention_days"] == 2 and not any(d["expired"] for d in listed["documents"])

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Later:
            return cls.fromtimestamp(datetime.now(UTC).timestamp() + 3 * 86400, tz)

    monkeypatch.setattr(documents_cli, "datetime", Later)
    monkeypatch.setattr(dispatch, "datetime", Later)  # where doc get judges it
    assert all(d["expired"] for d in us("doc", "list", "muscat")["documents"])
    error = us("doc", "get", "muscat", "kept", "--out", str(tmp_path / "old.md"), code=2)
    assert error["error"]["code"] == "document.expired" and not (tmp_path / "old.md").exists()


def test_export_with_files_and_verify_them(world: World, tmp_path: Path) -> None:
    """`record export --with-content --files` writes every readable document, verified; `record
    verify --files` matches each against the bundle, and refuses an altered one."""
    oman = world.people["oman"]
    for name in ("annex-a.txt", "annex-b.txt"):
        path = world.file(name, f"{name}: the sequencing of steps".encode())
        oman("doc", "send", "muscat", "us-caucus", str(path), "--label", "carry-verbatim",
             "--id", name.removesuffix(".txt"))  # fmt: skip
    out, files = tmp_path / "muscat.bundle", tmp_path / "files"
    oman("record", "export", "muscat", "--out", str(out), "--files", str(files), code=2)
    written = oman(
        "record", "export", "muscat", "--out", str(out), "--with-content", "--files", str(files)
    )["files"]
    assert {"annex-a", "annex-b"} <= {f["id"] for f in written}
    verify = ["record", "verify", str(out), "--files", str(files), "--json"]
    checked = runner.invoke(app, verify)
    assert checked.exit_code == 0, checked.output
    assert len(json.loads(checked.stdout)["files"]) == len(written)
    victim = files / next(f["file"] for f in written if f["id"] == "annex-b")
    victim.write_bytes(victim.read_bytes() + b"amended")
    failed = runner.invoke(app, verify)
    assert failed.exit_code != 0
    assert json.loads(failed.stdout)["error"]["code"] == "record.bundle_invalid"


def test_read_shows_documents_without_their_keys(world: World) -> None:
    """`read` names a document and how to fetch it; its descriptor and key are not printed."""
    us = world.people["us"]
    path = world.file("brief.txt", b"for the US delegation")
    us("doc", "send", "muscat", "us-caucus", str(path), "--label", "carry-verbatim")
    with Profile.open(us.directory, PASSPHRASE) as other:
        view = other.participant("muscat").view
        keys = [
            json.loads(m.text.split("\n", 1)[1])["key"]
            for m in view.messages.values()
            if m.text.startswith("backchannel/document/v1")
        ]
    shown = json.dumps(us("read", "muscat"))
    assert keys and "[document]" in shown and not any(k in shown for k in keys)


def test_the_list_names_rooms_by_their_names(world: World) -> None:
    """``doc list`` (human output) names a room by its name, not its id."""
    oman = world.people["oman"]
    oman("room", "create", "muscat", "annex-room", "--kind", "plenary", "--name", "Annexes hall")
    annex = world.file("annex.txt", b"Annex A: the map.\n")
    oman("doc", "send", "muscat", "annex-room", str(annex), "--label", "carry-gist", "--id", "ax")
    shown = runner.invoke(
        app,
        ["doc", "list", "muscat", "--room", "annex-room", "--profile", str(oman.directory)],
        env={"BACKCHANNEL_PASSPHRASE": PASSPHRASE, "COLUMNS": "200"},
    )
    assert shown.exit_code == 0, shown.output
    assert "Annexes hall" in shown.stdout and "annex-room" not in shown.stdout
