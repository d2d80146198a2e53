"""Signed bytes: what every Ed25519 signature in Backchannel covers, and identity keys.

A signature covers a context line, a newline, and the canonical JSON of a small object, so a
signature made for one purpose can never be replayed for another:

    message = CONTEXT + b"\\n" + canonical_json(fields)
    canonical_json(x) = json.dumps(x, sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False).encode("utf-8")

Binary values inside the object are standard base64 with padding. The host verifies the same bytes
(``server/auth.py`` imports them from here). Identity keys sign device certificates and **formal
acts** (mandates, membership, acceptances, signatures), which are attributable on purpose; plain
messages are never signed with them, so they stay deniable (see ``docs/security.md``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.signing import SigningKey, VerifyKey

from backchannel.errors import SignatureInvalid

CERT_CONTEXT = b"backchannel/device-cert/v1"
CHALLENGE_CONTEXT = b"backchannel/auth-challenge/v1"
REVOKE_CONTEXT = b"backchannel/device-revoke/v1"
ACT_CONTEXT = b"backchannel/formal-act/v2"
INTRO_CONTEXT = b"backchannel/introduction/v1"


def canonical_json(value: Any) -> bytes:
    """The one byte encoding of a JSON value that signatures cover."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def b64(data: bytes) -> str:
    """Standard base64 with padding: how binary travels in JSON."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Decode standard base64 strictly (ValueError on anything else)."""
    return base64.b64decode(text.encode("ascii"), validate=True)


def signed_message(context: bytes, fields: dict[str, Any]) -> bytes:
    """The bytes an Ed25519 signature covers: context line, newline, canonical JSON."""
    return context + b"\n" + canonical_json(fields)


def challenge_message(device_id: str, challenge: bytes) -> bytes:
    """What a device signs to answer the host's authentication challenge."""
    return signed_message(CHALLENGE_CONTEXT, {"challenge": b64(challenge), "device_id": device_id})


def revocation_message(device_id: str, identity: bytes) -> bytes:
    """What an identity key signs to revoke one of its devices at the host."""
    return signed_message(REVOKE_CONTEXT, {"device_id": device_id, "identity": b64(identity)})


def verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Check an Ed25519 signature; :class:`SignatureInvalid` if it does not verify."""
    try:
        VerifyKey(public_key).verify(message, signature)
    except (BadSignatureError, NaclCryptoError, ValueError, TypeError) as exc:
        raise SignatureInvalid("the signature does not verify") from exc


@dataclass(frozen=True, slots=True)
class Identity:
    """A person's Ed25519 identity (master) key. Its secret never appears in ``repr``."""

    _key: SigningKey = field(repr=False)

    @classmethod
    def generate(cls) -> Identity:
        """A new identity from the system's randomness (libsodium)."""
        return cls(SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> Identity:
        """The identity whose 32-byte seed was saved in a keystore."""
        return cls(SigningKey(seed))

    @property
    def seed(self) -> bytes:
        """The secret seed, for the keystore only."""
        return bytes(self._key)

    @property
    def public_key(self) -> bytes:
        """The 32-byte public key others verify with."""
        return bytes(self._key.verify_key)

    def sign(self, message: bytes) -> bytes:
        """A detached signature of ``message``."""
        return self._key.sign(message).signature

    def __repr__(self) -> str:
        return f"Identity(public_key={b64(self.public_key)}, secret=[secure])"


def words_digest(text: str) -> bytes:
    """SHA-256 of the exact words a consent binds (UTF-8, as written: no normalisation)."""
    return hashlib.sha256(text.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class SignedAct:
    """A formal act signed by its actor's identity key, for one talks and, for a consent, one
    set of words: the signature covers the host's talks id, the act (a dict of JSON values,
    whose ``action`` names its kind) and the digest of the words it consents to."""

    talks: str
    act: dict[str, Any]
    words: bytes | None
    signer: bytes
    signature: bytes

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return act_message(self.talks, self.act, self.words)


def act_message(talks: str, act: dict[str, Any], words: bytes | None) -> bytes:
    """What an act's signature covers: the talks it belongs to, the act, the words it binds."""
    fields = {"talks": talks, "act": act, "words": None if words is None else b64(words)}
    return signed_message(ACT_CONTEXT, fields)


def sign_act(
    identity: Identity, talks: str, act: dict[str, Any], words: bytes | None = None
) -> SignedAct:
    """Sign an act in ``talks`` (the host's id): attributable to ``identity`` by anyone holding
    its public key, and valid in no other talks and for no other words."""
    signature = identity.sign(act_message(talks, act, words))
    return SignedAct(talks, act, words, identity.public_key, signature)


def verify_act(signed: SignedAct, public_key: bytes) -> dict[str, Any]:
    """The act, if ``public_key`` signed it for these talks and words; SignatureInvalid else."""
    if signed.signer != public_key:
        raise SignatureInvalid("the act is signed by another key")
    try:
        verify(public_key, signed.message(), signed.signature)
    except SignatureInvalid:
        raise SignatureInvalid(
            "the act's signature does not verify for these talks and these words"
        ) from None
    return signed.act
