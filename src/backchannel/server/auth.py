"""How a device proves who it is to the host: signed bytes, challenges and bearer tokens.

Every signature the host checks is Ed25519 over a context line and the canonical JSON of a small
object, so a signature made for one purpose can never be replayed for another:

    message = CONTEXT + b"\\n" + canonical_json(fields)
    canonical_json(x) = json.dumps(x, sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False).encode("utf-8")

Binary fields inside the signed object are standard base64 with padding (RFC 4648 §4), exactly as
they travel in request bodies. The three signed objects:

* device certificate, by the identity key:
  ``backchannel/device-cert/v1`` + ``{device_id, curve25519, ed25519, identity}``
* challenge response, by the device's Ed25519 key:
  ``backchannel/auth-challenge/v1`` + ``{challenge, device_id}``
* revocation, by the identity key: ``backchannel/device-revoke/v1`` + ``{device_id, identity}``

A challenge is 32 random bytes, single-use and short-lived; answering it yields a random bearer
token, of which the host keeps only the SHA-256 hash.
"""

from __future__ import annotations

import hashlib
import secrets

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from backchannel.crypto.device import certificate_message
from backchannel.crypto.signed import (
    CERT_CONTEXT,
    CHALLENGE_CONTEXT,
    REVOKE_CONTEXT,
    b64,
    canonical_json,
    challenge_message,
    revocation_message,
    signed_message,
)
from backchannel.errors import AuthInvalid, AuthRequired, SignatureInvalid

# The signed bytes are defined once, in crypto/, and re-exported here for the host's modules.
__all__ = [
    "CERT_CONTEXT",
    "CHALLENGE_CONTEXT",
    "REVOKE_CONTEXT",
    "b64",
    "bearer_token",
    "canonical_json",
    "certificate_message",
    "challenge_message",
    "new_secret",
    "revocation_message",
    "secret_hash",
    "signed_message",
    "verify",
]

_BEARER = "bearer "


def verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Check an Ed25519 signature; SignatureInvalid if it does not verify."""
    try:
        VerifyKey(public_key).verify(message, signature)
    except (BadSignatureError, CryptoError, ValueError, TypeError) as exc:
        raise SignatureInvalid("The signature does not verify.") from exc


def new_secret() -> str:
    """A fresh random bearer token or invite code (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> bytes:
    """What the store keeps of a token or invite code: its SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer …`` header; AuthRequired/AuthInvalid if not."""
    if not authorization:
        raise AuthRequired("This route needs a bearer token.")
    if not authorization.lower().startswith(_BEARER):
        raise AuthInvalid("The Authorization header must be 'Bearer <token>'.")
    token = authorization[len(_BEARER) :].strip()
    if not token or len(token) > 256:
        raise AuthInvalid("The bearer token is malformed.")
    return token
