"""Document descriptors: round-trip, strict parsing, version chains and retention, in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from backchannel import engine
from backchannel.client.document import Descriptor, Document, expired, parse, versions
from backchannel.engine.rules import Label

AT = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)


def _descriptor(name: str = "non-paper.md", supersedes: str | None = None) -> Descriptor:
    return Descriptor(
        name=name,
        size=12,
        media_type="text/markdown",
        sha256="ab" * 32,
        blob="b" * 32,
        ciphertext_sha256="cd" * 32,
        key=bytes(range(32)),
        header=bytes(24),
        chunk=1024 * 1024,
        supersedes=supersedes,
    )


@given(
    name=st.text(min_size=1, max_size=40).filter(lambda n: "/" not in n),
    supersedes=st.none() | st.text(min_size=1, max_size=10),
)
def test_round_trip(name: str, supersedes: str | None) -> None:
    """Any file name (not a path) and version link survive the message text unchanged."""
    d = _descriptor(name, supersedes)
    assert parse(d.to_text()) == d


def test_malformed_descriptors_are_not_documents() -> None:
    """Plain words, a path for a name, a short key, extra or missing fields: not a document."""
    text = _descriptor().to_text()
    assert parse("Article 1: ceasefire.") is None
    assert parse(text.replace('"non-paper.md"', '"../etc/passwd"')) is None
    assert parse(text.replace('"chunk":1048576', '"chunk":0')) is None
    assert parse(text[:-1] + ',"extra":1}') is None
    assert parse(text.replace('"size":12,', "")) is None
    assert "key=" not in repr(_descriptor())


def _doc(id: str, author: str, supersedes: str | None = None, days: int = 0) -> Document:
    at = AT + timedelta(days=days)
    return Document(
        id, "caucus", author, at, Label.CARRY_VERBATIM, _descriptor(supersedes=supersedes)
    )


def test_versions_follow_one_author() -> None:
    """The chain runs back and forward from any version; another author's link is ignored."""
    docs = [
        _doc("v1", "envoy"),
        _doc("v2", "envoy", "v1"),
        _doc("hijack", "bagheri", "v2"),
        _doc("v3", "envoy", "v2"),
    ]
    for start in ("v1", "v2", "v3"):
        assert [d.id for d in versions(docs, start)] == ["v1", "v2", "v3"]
    assert [d.id for d in versions(docs, "hijack")] == ["hijack"]


def test_retention_by_the_later_clock() -> None:
    """A document expires N days after its record time, by the device's clock or the record's,
    whichever is later (a clock set back keeps nothing longer)."""
    d = _doc("v1", "envoy")
    kept = engine.Talks(id="t")
    assert not expired(kept, d, AT + timedelta(days=999))
    talks = engine.Talks(id="t", document_retention_days=2)
    assert not expired(talks, d, AT + timedelta(days=1))
    assert expired(talks, d, AT + timedelta(days=2))
    ahead = engine.Talks(id="t", document_retention_days=2, clock=AT + timedelta(days=3))
    assert expired(ahead, d, AT)
