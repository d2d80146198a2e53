"""C2SP checkpoints and cosignatures: round trips, the spec's own example, strict parsing, and
rejection of any changed byte. Keys come from fixed seeds; timestamps are plain integers."""

from __future__ import annotations

import base64
import hashlib

import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.errors import CheckpointMalformed, RecordError, SignatureInvalid
from backchannel.record.checkpoint import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    Note,
    NoteKey,
    NoteSignature,
    check_cosignature,
    cosign,
    key_id,
    open_checkpoint,
    open_note,
    sign_checkpoint,
)

LOG = "backchannel.example/talks/7f3a"
LOG_SK = nacl.signing.SigningKey(b"\x01" * 32)
LOG_KEY = NoteKey.for_signing_key(LOG, LOG_SK)
WITNESS = "party.example/us/device-1"
WITNESS_SK = nacl.signing.SigningKey(b"\x02" * 32)
WITNESS_KEY = NoteKey.for_signing_key(WITNESS, WITNESS_SK, COSIGNATURE_V1)
ROOT = hashlib.sha256(b"root").digest()
CHECKPOINT = Checkpoint(LOG, 20852163, ROOT)
TIMESTAMP = 1679315147

origins = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x2FFF, exclude_characters="+").filter(
        lambda ch: not ch.isspace()
    ),
    min_size=1,
    max_size=20,
)
extension_lines = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1)
checkpoints = st.builds(
    Checkpoint,
    origin=origins,
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(extension_lines, max_size=3).map(tuple),
)


def signed_note() -> bytes:
    """The reference checkpoint, signed by the log and cosigned by one witness."""
    note = sign_checkpoint(CHECKPOINT, LOG, LOG_SK)
    return (
        note.with_signatures(cosign(CHECKPOINT, WITNESS, WITNESS_SK, TIMESTAMP)).encode().encode()
    )


def test_spec_example_note_verifies_with_its_vkey() -> None:
    """The signed-note spec's example verifier key parses and verifies the spec's example note."""
    key = NoteKey.from_vkey("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
    note = (
        "This is an example message.\n\n"
        "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFX"
        "mRKuwHjG1Yu72IneyaQM=\n"
    )
    assert open_note(note, key) == "This is an example message.\n"
    assert key.vkey() == "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"


def test_checkpoint_body_format() -> None:
    """The body is origin, decimal size and base64 root, each ending in a newline."""
    body = CHECKPOINT.body()
    assert body == f"{LOG}\n20852163\n{base64.b64encode(ROOT).decode()}\n"
    note = sign_checkpoint(CHECKPOINT, LOG, LOG_SK).encode()
    assert note.startswith(body + "\n— " + LOG + " ")
    sig = base64.b64decode(note.rsplit(" ", 1)[1])
    assert (
        sig[:4] == hashlib.sha256(LOG.encode() + b"\n\x01" + bytes(LOG_SK.verify_key)).digest()[:4]
    )
    assert len(sig) == 4 + 64


@settings(max_examples=60)
@given(checkpoints)
def test_checkpoint_round_trip(checkpoint: Checkpoint) -> None:
    """Any checkpoint signed by the log opens back to itself, from text or bytes."""
    sk = nacl.signing.SigningKey(b"\x03" * 32)
    key = NoteKey.for_signing_key(checkpoint.origin, sk)
    text = sign_checkpoint(checkpoint, checkpoint.origin, sk).encode()
    assert open_checkpoint(text, key) == checkpoint
    assert open_checkpoint(text.encode("utf-8"), key) == checkpoint
    assert Checkpoint.from_body(checkpoint.body()) == checkpoint


def test_every_changed_bit_of_a_checkpoint_note_is_rejected() -> None:
    """Flipping any single bit of the text or of the log's signature line stops the note from
    opening; flipping any bit of the text or of the witness's line fails the cosignature check.
    (A changed line of the *other* signer is just an unknown signature, ignored by design.)"""
    data = signed_note()
    assert open_checkpoint(data, LOG_KEY) == CHECKPOINT
    assert check_cosignature(data, WITNESS_KEY) == TIMESTAMP
    witness_line = data.index(f"\n\u2014 {WITNESS} ".encode()) + 1
    log_line = data.index("\n\n\u2014 ".encode()) + 2
    for pos in range(len(data)):
        for bit in range(8):
            bad = bytearray(data)
            bad[pos] ^= 1 << bit
            if pos < witness_line:
                with pytest.raises((CheckpointMalformed, SignatureInvalid)):
                    open_checkpoint(bytes(bad), LOG_KEY)
            if not log_line <= pos < witness_line:
                with pytest.raises((CheckpointMalformed, SignatureInvalid)):
                    check_cosignature(bytes(bad), WITNESS_KEY)


@settings(max_examples=40)
@given(checkpoints, st.data())
def test_any_changed_byte_is_rejected(checkpoint: Checkpoint, data: st.DataObject) -> None:
    """Replacing any byte of a random signed checkpoint note with another value is rejected."""
    sk = nacl.signing.SigningKey(b"\x04" * 32)
    key = NoteKey.for_signing_key(checkpoint.origin, sk)
    raw = bytearray(sign_checkpoint(checkpoint, checkpoint.origin, sk).encode().encode())
    pos = data.draw(st.integers(0, len(raw) - 1), label="position")
    value = data.draw(st.integers(0, 255).filter(lambda v: v != raw[pos]), label="value")
    raw[pos] = value
    with pytest.raises((CheckpointMalformed, SignatureInvalid)):
        open_checkpoint(bytes(raw), key)


def test_unknown_signers_are_ignored() -> None:
    """Signatures by other keys, even sharing the name or the key ID, do not affect the result."""
    other = nacl.signing.SigningKey(b"\x05" * 32)
    base = sign_checkpoint(CHECKPOINT, LOG, LOG_SK)
    stranger = sign_checkpoint(CHECKPOINT, "someone.else/log", other).signatures[0]
    same_name = NoteSignature(LOG, b"\xde\xad\xbe\xef", b"x" * 64)
    same_id = NoteSignature("impostor", LOG_KEY.key_id, b"x" * 64)
    note = Note(base.text, (stranger, same_name, same_id, *base.signatures))
    assert open_checkpoint(note.encode(), LOG_KEY) == CHECKPOINT


def test_failing_signature_by_the_known_key_rejects_the_note() -> None:
    """A second signature line by the log's key that does not verify rejects the whole note."""
    base = sign_checkpoint(CHECKPOINT, LOG, LOG_SK)
    forged = NoteSignature(LOG, LOG_KEY.key_id, b"\x00" * 64)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        open_checkpoint(base.with_signatures(forged).encode(), LOG_KEY)


def test_note_without_the_expected_key_is_rejected() -> None:
    """A note signed only by another key raises SignatureInvalid naming the expected key."""
    other = nacl.signing.SigningKey(b"\x06" * 32)
    note = sign_checkpoint(CHECKPOINT, LOG, other).encode()
    with pytest.raises(SignatureInvalid, match="no signature by"):
        open_checkpoint(note, LOG_KEY)


def _note(text: str, tail: str | None = None) -> str:
    sig = sign_checkpoint(CHECKPOINT, LOG, LOG_SK).signatures[0].line()
    return text + "\n" + (sig if tail is None else tail)


GOOD_BODY = CHECKPOINT.body()
ROOT_B64 = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (GOOD_BODY + "— x abc\n", "no blank line"),
        (GOOD_BODY + "\n", "no signature"),
        (_note(GOOD_BODY).rstrip("\n"), "does not end with a newline"),
        (_note(GOOD_BODY).replace("— ", "- "), "em dash"),
        (_note(GOOD_BODY).replace(LOG + " ", LOG + "\t"), "control character"),
        (_note(GOOD_BODY, f"— {LOG}\n"), "no signature after"),
        (_note(GOOD_BODY, "— a+b AAAAAAAA\n"), "'\\+'"),
        (_note(GOOD_BODY, "— a\u00a0b AAAAAAAA\n"), "space"),
        (_note(GOOD_BODY, "— ab AAAAAAA\n"), "base64"),
        (_note(GOOD_BODY, "— ab AAAAAAB=\n"), "canonical base64"),
        (_note(GOOD_BODY, "— ab AAAA\n"), "shorter than a key ID"),
        (_note(GOOD_BODY, "— ab AAAAAAAA\n" * 101), "more than 100"),
    ],
)
def test_malformed_notes_are_rejected_with_a_reason(note: str, reason: str) -> None:
    """Each way of bending the signed-note format raises CheckpointMalformed saying why."""
    with pytest.raises(CheckpointMalformed, match=reason):
        Note.parse(note)


def test_invalid_utf8_is_rejected() -> None:
    """A note that is not UTF-8 is malformed."""
    with pytest.raises(CheckpointMalformed, match="UTF-8"):
        Note.parse(b"\xff\n\n")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (f"{LOG}\n5\n", "origin, size and root"),
        (f"{LOG}\n05\n{ROOT_B64}\n", "leading zeros"),
        (f"{LOG}\n+5\n{ROOT_B64}\n", "leading zeros"),
        (f"{LOG}\n١٢\n{ROOT_B64}\n", "leading zeros"),
        (f"{LOG}\n{2**64}\n{ROOT_B64}\n", "64 bits"),
        (f"{LOG}\n5\n{base64.b64encode(b'short').decode()}\n", "32 bytes"),
        (f"{LOG}\n5\n{ROOT_B64}\n\nextension\n", "empty"),
        (f"{LOG}\n5\n{ROOT_B64}", "newline"),
    ],
)
def test_malformed_checkpoint_bodies_are_rejected(body: str, reason: str) -> None:
    """Checkpoint bodies that bend tlog-checkpoint's note text rules raise CheckpointMalformed."""
    with pytest.raises(CheckpointMalformed, match=reason):
        Checkpoint.from_body(body)


def test_checkpoint_for_another_origin_is_rejected() -> None:
    """A validly signed checkpoint naming a different origin than expected is refused."""
    note = sign_checkpoint(CHECKPOINT, LOG, LOG_SK).encode()
    with pytest.raises(CheckpointMalformed, match=r"not 'other\.example/log'"):
        open_checkpoint(note, LOG_KEY, origin="other.example/log")


def test_vkey_round_trip_and_mismatched_id() -> None:
    """Verifier keys encode name, key ID and typed key; a wrong ID is refused."""
    for key in (LOG_KEY, WITNESS_KEY):
        assert NoteKey.from_vkey(key.vkey()) == key
    name, _, material = LOG_KEY.vkey().split("+")
    with pytest.raises(CheckpointMalformed, match="ID does not match"):
        NoteKey.from_vkey(f"{name}+00000000+{material}")
    with pytest.raises(CheckpointMalformed):
        NoteKey.from_vkey("no-plus-signs")


@settings(max_examples=200)
@given(st.binary(min_size=32, max_size=32))
def test_vkey_round_trips_when_the_key_material_holds_a_plus(public_key: bytes) -> None:
    """Base64 key material may contain '+': only the first two '+' separate the parts."""
    key = NoteKey("backchannel/localhost/t", public_key)
    assert NoteKey.from_vkey(key.vkey()) == key


def test_vkey_with_a_plus_in_its_material() -> None:
    """A key whose base64 form has a '+' (found by a device checking a real host's key)."""
    key = NoteKey("backchannel/localhost/t", bytes([0xFB]) * 32)
    assert "+" in key.vkey().split("+", 2)[2]
    assert NoteKey.from_vkey(key.vkey()) == key


def test_cosignature_format_follows_tlog_cosignature() -> None:
    """The cosignature carries key ID (type 0x04), 8-byte timestamp and an Ed25519 signature over
    'cosignature/v1', the time line and the checkpoint body."""
    sig = cosign(CHECKPOINT, WITNESS, WITNESS_SK, TIMESTAMP)
    assert sig.key_id == key_id(WITNESS, 0x04, bytes(WITNESS_SK.verify_key))
    assert sig.key_id != key_id(WITNESS, ED25519, bytes(WITNESS_SK.verify_key))
    assert sig.signature[:8] == TIMESTAMP.to_bytes(8, "big")
    message = f"cosignature/v1\ntime {TIMESTAMP}\n{CHECKPOINT.body()}".encode()
    WITNESS_SK.verify_key.verify(message, sig.signature[8:])


def test_cosignature_round_trip_and_log_signature_still_opens() -> None:
    """A cosigned note opens for the log and yields the witness's timestamp."""
    data = signed_note()
    assert open_checkpoint(data, LOG_KEY) == CHECKPOINT
    assert check_cosignature(data, WITNESS_KEY) == TIMESTAMP


def test_cosignature_rejections() -> None:
    """Missing cosigner, a changed timestamp, a log signature passed off as a cosignature,
    a timestamp beyond 2**63 - 1 and keys of the wrong type are all refused."""
    plain = sign_checkpoint(CHECKPOINT, LOG, LOG_SK)
    with pytest.raises(SignatureInvalid, match="no signature by"):
        check_cosignature(plain, WITNESS_KEY)
    good = cosign(CHECKPOINT, WITNESS, WITNESS_SK, TIMESTAMP)
    moved = NoteSignature(
        good.name, good.key_id, (TIMESTAMP + 1).to_bytes(8, "big") + good.signature[8:]
    )
    with pytest.raises(SignatureInvalid):
        check_cosignature(plain.with_signatures(moved), WITNESS_KEY)
    as_log = NoteKey.for_signing_key(LOG, LOG_SK, COSIGNATURE_V1)
    with pytest.raises(SignatureInvalid):
        check_cosignature(plain, as_log)
    huge = NoteSignature(good.name, good.key_id, b"\xff" * 8 + good.signature[8:])
    with pytest.raises(SignatureInvalid, match="timestamp"):
        check_cosignature(plain.with_signatures(huge), WITNESS_KEY)
    with pytest.raises(CheckpointMalformed):
        cosign(CHECKPOINT, WITNESS, WITNESS_SK, 2**63)
    with pytest.raises(CheckpointMalformed):
        check_cosignature(plain, LOG_KEY)
    with pytest.raises(CheckpointMalformed):
        open_checkpoint(plain, WITNESS_KEY)


@settings(max_examples=30)
@given(checkpoints, st.integers(0, 2**63 - 1))
def test_cosignature_round_trip_for_any_checkpoint(checkpoint: Checkpoint, timestamp: int) -> None:
    """Any checkpoint cosigned at any valid timestamp checks and returns that timestamp."""
    note = sign_checkpoint(checkpoint, checkpoint.origin, LOG_SK)
    cosigned = note.with_signatures(cosign(checkpoint, WITNESS, WITNESS_SK, timestamp))
    assert check_cosignature(cosigned.encode(), WITNESS_KEY) == timestamp


def test_errors_belong_to_the_record_tree() -> None:
    """Malformed notes are 400 record errors with a stable code."""
    err = CheckpointMalformed("x")
    assert isinstance(err, RecordError)
    assert (err.code, err.status) == ("record.checkpoint_malformed", 400)
