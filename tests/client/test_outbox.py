"""The outbox: a pending document's key is sealed on disk, and a note survives only intact."""

from __future__ import annotations

import os
from pathlib import Path

from backchannel.client.document import Descriptor
from backchannel.client.outbox import Outbox, Pending
from backchannel.crypto.signed import b64


def test_note_is_sealed_and_round_trips(tmp_path: Path) -> None:
    """The note holds the descriptor sealed (no key, name or hash in the clear); loading it
    back needs the same local key and an intact file; done() removes note and spool."""
    key = os.urandom(32)
    outbox = Outbox(tmp_path / "outbox", key)
    d = Descriptor("secret-plan.pdf", 5, "application/pdf", "ab" * 32, "b" * 32, "cd" * 32,
                   os.urandom(32), os.urandom(24), 1024)  # fmt: skip
    entry = outbox.entry("sha", "muscat", "room")
    outbox.spool(entry).write_bytes(b"ciphertext")
    outbox.save(entry, Pending("d-1", d))
    raw = (tmp_path / "outbox" / f"{entry}.note").read_bytes()
    assert b64(d.key).encode() not in raw and b"secret-plan" not in raw and b"abab" not in raw
    assert outbox.load(entry) == Pending("d-1", d)
    assert Outbox(tmp_path / "outbox", os.urandom(32)).load(entry) is None
    note = tmp_path / "outbox" / f"{entry}.note"
    note.write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    assert outbox.load(entry) is None
    outbox.done(entry)
    assert not list((tmp_path / "outbox").iterdir())
    assert "secure" in repr(outbox)
