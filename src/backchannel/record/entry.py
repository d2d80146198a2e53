"""A record entry: what one leaf of a talks' log holds, byte for byte.

    leaf data = commitment (32 bytes) ‖ recipient tags (16 bytes each, 0..256) ‖ logged_at (8)

- The **commitment** is ``SHA-256(salt ‖ canonical event)`` (:mod:`.leaf`): it hides the event
  from everyone without the salt, and binds it for everyone who has it.
- The **recipient tags** let each recipient see that an event was addressed to it without
  anyone else learning to whom: the sender adds one tag per device it encrypts the event to,
  keyed by a secret only the two of them share, and pads the list with random tags to a power
  of two. A device that finds its own tag on an entry it never received knows the host withheld
  it. The tags are computed on the device (``client/tags.py``); here they are only bytes.
- **logged_at** is the host's time, in milliseconds since the epoch (big-endian), written by
  the host when it appends the entry. It is the record's clock: every device holds it for every
  entry, so authority is judged against it, never against a time an actor claims.

The client sends the first two parts (its *entry*); the host appends the third. Everything is a
fixed layout, so a leaf splits only one way.
"""

from __future__ import annotations

from dataclasses import dataclass

from backchannel.errors import EntryMalformed

__all__ = [
    "COMMITMENT_SIZE",
    "MAX_TAGS",
    "STAMP_SIZE",
    "TAG_SIZE",
    "Entry",
    "check_entry",
    "stamp",
]

COMMITMENT_SIZE = 32
TAG_SIZE = 16
STAMP_SIZE = 8
#: The most recipient tags one entry carries (a host accepts at most 200 recipients a send).
MAX_TAGS = 256


def check_entry(entry: bytes) -> bytes:
    """``entry`` (commitment ‖ tags, as a client sends it) if well formed; EntryMalformed if not."""
    tags, rest = divmod(len(entry) - COMMITMENT_SIZE, TAG_SIZE)
    if len(entry) < COMMITMENT_SIZE or rest or tags > MAX_TAGS:
        raise EntryMalformed(
            f"An entry is a {COMMITMENT_SIZE}-byte commitment and up to {MAX_TAGS} "
            f"{TAG_SIZE}-byte tags.",
            detail={"size": len(entry)},
        )
    return entry


def stamp(entry: bytes, logged_at_ms: int) -> bytes:
    """The leaf data the host appends: the client's ``entry`` and the host's time."""
    if not 0 <= logged_at_ms < 2**63:
        raise EntryMalformed("A log time is milliseconds since the epoch.")
    return check_entry(entry) + logged_at_ms.to_bytes(STAMP_SIZE, "big")


@dataclass(frozen=True, slots=True)
class Entry:
    """One leaf of the log, split into its parts."""

    commitment: bytes
    tags: frozenset[bytes]
    logged_at_ms: int

    @classmethod
    def parse(cls, leaf: bytes) -> Entry:
        """Split leaf data; EntryMalformed if it is not an entry followed by a time."""
        if len(leaf) < COMMITMENT_SIZE + STAMP_SIZE:
            raise EntryMalformed(
                "A log leaf is too short to be an entry.", detail={"size": len(leaf)}
            )
        body, when = leaf[:-STAMP_SIZE], leaf[-STAMP_SIZE:]
        check_entry(body)
        tags = body[COMMITMENT_SIZE:]
        return cls(
            commitment=body[:COMMITMENT_SIZE],
            tags=frozenset(tags[i : i + TAG_SIZE] for i in range(0, len(tags), TAG_SIZE)),
            logged_at_ms=int.from_bytes(when, "big"),
        )
