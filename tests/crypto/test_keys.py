"""Identity keys, device certificates, signed acts, fingerprints, SAS and the keystore."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import nacl.pwhash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel.crypto import (
    Device,
    Identity,
    SasExchange,
    fingerprint,
    keystore,
    sign_act,
    verify_act,
    verify_device,
)
from backchannel.errors import CryptoError, KeystoreLocked, SignatureInvalid
from backchannel.server import auth

FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}


def test_certificate_verifies_and_matches_the_hosts_bytes() -> None:
    """A device certified by its identity verifies, with exactly the bytes the host checks."""
    identity, device = Identity.generate(), Device("laptop")
    certificate = device.certify(identity)
    assert verify_device(certificate, identity.public_key) == certificate
    assert certificate.message() == auth.certificate_message(
        "laptop", identity.public_key, device.curve25519, device.ed25519
    )


def test_device_of_another_identity_or_altered_is_refused() -> None:
    """A certificate from an unknown identity, or with any field changed, is refused."""
    identity, stranger, device = Identity.generate(), Identity.generate(), Device("laptop")
    with pytest.raises(SignatureInvalid):
        verify_device(device.certify(stranger), identity.public_key)
    certificate = device.certify(identity)
    for altered in (
        certificate.__class__(**{**_fields(certificate), "device_id": "phone"}),
        certificate.__class__(**{**_fields(certificate), "curve25519": Device("x").curve25519}),
        certificate.__class__(**{**_fields(certificate), "signature": bytes(64)}),
    ):
        with pytest.raises(SignatureInvalid):
            verify_device(altered, identity.public_key)


def _fields(certificate) -> dict:
    return {name: getattr(certificate, name) for name in certificate.__slots__}


@settings(max_examples=40)
@given(
    st.dictionaries(st.text(max_size=8), st.text(max_size=30) | st.integers(), max_size=5),
    st.none() | st.binary(min_size=32, max_size=32),
)
def test_signed_acts_round_trip_and_resist_change(act: dict, words: bytes | None) -> None:
    """A formal act verifies under its signer for its talks and words; another act, other
    talks, other words or another key fail."""
    identity = Identity.generate()
    signed = sign_act(identity, "talks-1", act, words)
    assert verify_act(signed, identity.public_key) == act
    for changed in (
        dataclasses.replace(signed, act={**act, "extra": 1}),
        dataclasses.replace(signed, talks="talks-2"),
        dataclasses.replace(signed, words=bytes(32) if words != bytes(32) else None),
    ):
        with pytest.raises(SignatureInvalid):
            verify_act(changed, identity.public_key)
    with pytest.raises(SignatureInvalid):
        verify_act(signed, Identity.generate().public_key)


def test_secrets_never_in_repr() -> None:
    """repr shows public keys and [secure], never a seed or an account pickle."""
    identity, device = Identity.generate(), Device("d")
    assert "[secure]" in repr(identity) and identity.seed.hex() not in repr(identity)
    assert "[secure]" in repr(device)


def test_fingerprints_are_stable_and_distinct() -> None:
    """Eight groups of five digits, the same for the same key, different for another."""
    key = Identity.generate().public_key
    shown = fingerprint(key)
    assert shown == fingerprint(key) and len(shown.split()) == 8
    assert all(len(group) == 5 and group.isdigit() for group in shown.split())
    assert shown != fingerprint(Identity.generate().public_key)


def test_sas_codes_agree_and_a_man_in_the_middle_shows() -> None:
    """Both sides derive the same codes; a substituted key gives different codes."""
    alice, bob, mallory = SasExchange(), SasExchange(), SasExchange()
    info = "backchannel/sas/alice-laptop/bob-phone"
    codes = alice.complete(bob.public_key, info)
    assert codes == bob.complete(alice.public_key, info)
    assert len(codes.display().split()) == 3 and len(codes.emoji) == 7
    alice2, bob2 = SasExchange(), SasExchange()
    # Mallory sits between: each side completes with Mallory's key instead of the other's.
    assert alice2.complete(mallory.public_key, info) != bob2.complete(mallory.public_key, info)
    with pytest.raises(CryptoError, match="already completed"):
        alice.complete(bob.public_key, info)


@settings(max_examples=10, deadline=None)
@given(st.binary(max_size=2000), st.text(min_size=1, max_size=40))
def test_keystore_round_trip(profile: bytes, passphrase: str) -> None:
    """What is saved with a passphrase comes back with it."""
    assert keystore.unseal(keystore.seal(profile, passphrase, **FAST), passphrase) == profile


def test_keystore_refuses_wrong_passphrase_and_any_change(tmp_path: Path) -> None:
    """A wrong passphrase, and a flip of any byte (header included), are KeystoreLocked."""
    path = tmp_path / "profile" / "device.keystore"
    keystore.save(path, b"identity seed and account", "correct horse", **FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keystore.load(path, "correct horse") == b"identity seed and account"
    with pytest.raises(KeystoreLocked):
        keystore.load(path, "wrong horse")
    data = path.read_bytes()
    for index in range(len(data)):
        altered = bytearray(data)
        altered[index] ^= 0x04
        with pytest.raises(KeystoreLocked):
            keystore.unseal(bytes(altered), "correct horse")
    with pytest.raises(KeystoreLocked):
        keystore.unseal(data[:20], "correct horse")
    assert b"identity seed" not in data


@given(
    st.binary(min_size=32, max_size=32),
    st.sampled_from([b"bc-watermark-v1", b"other"]),
    st.text(max_size=20),
)
def test_derived_local_keys_are_stable_and_independent(
    key: bytes, purpose: bytes, ctx: str
) -> None:
    """One key per (local key, purpose, context), 32 bytes; changing any of them changes it."""
    from backchannel.crypto.keystore import derive_local

    derived = derive_local(key, purpose, ctx)
    assert len(derived) == 32 and derived == derive_local(key, purpose, ctx)
    assert derived != key
    assert derived != derive_local(key, purpose + b"x", ctx)
    assert derived != derive_local(key, purpose, ctx + "x")
    assert derived != derive_local(bytes(b ^ 1 for b in key), purpose, ctx)
    with pytest.raises(ValueError, match="16 bytes"):
        derive_local(key, b"x" * 17, ctx)
