"""A device's keys (a vodozemac Olm account) and the certificate its owner's identity signs.

Clients accept a device only with a certificate from an identity they know; membership of rooms is
decided by clients from signed events, never by the host. The certificate covers exactly the bytes
the host checks at registration (``CERT_CONTEXT`` and canonical JSON of the device id and the three
public keys, base64).
"""

from __future__ import annotations

from dataclasses import dataclass

import vodozemac

from backchannel.crypto.signed import CERT_CONTEXT, Identity, b64, signed_message, unb64, verify
from backchannel.errors import SignatureInvalid


def certificate_message(
    device_id: str, identity: bytes, curve25519: bytes, ed25519: bytes
) -> bytes:
    """What an identity key signs to vouch for one of its devices."""
    return signed_message(
        CERT_CONTEXT,
        {
            "device_id": device_id,
            "curve25519": b64(curve25519),
            "ed25519": b64(ed25519),
            "identity": b64(identity),
        },
    )


@dataclass(frozen=True, slots=True)
class DeviceCertificate:
    """An identity's signature over a device's id and public keys."""

    device_id: str
    identity: bytes
    curve25519: bytes
    ed25519: bytes
    signature: bytes

    def message(self) -> bytes:
        """The signed bytes."""
        return certificate_message(self.device_id, self.identity, self.curve25519, self.ed25519)


def verify_device(certificate: DeviceCertificate, trusted_identity: bytes) -> DeviceCertificate:
    """The certificate, if ``trusted_identity`` signed it; :class:`SignatureInvalid` otherwise."""
    if certificate.identity != trusted_identity:
        raise SignatureInvalid(f"device {certificate.device_id} belongs to another identity")
    verify(trusted_identity, certificate.message(), certificate.signature)
    return certificate


class Device:
    """One device: an Olm account (Curve25519 + Ed25519) under a device id.

    Mutable on purpose: generating one-time keys and creating sessions change the account, which
    is then pickled (encrypted) into the keystore.
    """

    def __init__(self, device_id: str, account: vodozemac.Account | None = None) -> None:
        self.device_id = device_id
        self.account = account or vodozemac.Account()

    @property
    def curve25519(self) -> bytes:
        """The device's Curve25519 identity key."""
        return bytes(self.account.curve25519_key.to_bytes())

    @property
    def ed25519(self) -> bytes:
        """The device's Ed25519 signing key (public)."""
        return unb64(_pad(self.account.ed25519_key.to_base64()))

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature by the device key (challenge answers, record cosignatures)."""
        return unb64(_pad(self.account.sign(message).to_base64()))

    def certify(self, identity: Identity) -> DeviceCertificate:
        """The certificate ``identity`` signs for this device."""
        message = certificate_message(
            self.device_id, identity.public_key, self.curve25519, self.ed25519
        )
        return DeviceCertificate(
            self.device_id,
            identity.public_key,
            self.curve25519,
            self.ed25519,
            identity.sign(message),
        )

    def publish_one_time_keys(self, count: int) -> dict[str, bytes]:
        """Generate ``count`` one-time keys and return them (key id → Curve25519 key) to upload."""
        self.account.generate_one_time_keys(count)
        keys = {key_id: bytes(key.to_bytes()) for key_id, key in self.account.one_time_keys.items()}
        self.account.mark_keys_as_published()
        return keys

    def publish_fallback_key(self) -> tuple[str, bytes]:
        """A fresh fallback key (key id, Curve25519 key) to upload: the host hands it out once
        the one-time keys are all claimed, so a session can always start. vodozemac keeps the
        previous one too until a session uses the new one, so sessions begun on it still open."""
        # The binding has both (vodozemac 0.9+); its type stubs do not list them yet.
        self.account.generate_fallback_key()  # type: ignore[attr-defined]
        fallback: dict[str, vodozemac.Curve25519PublicKey] = self.account.fallback_key  # type: ignore[attr-defined]
        ((key_id, key),) = fallback.items()
        self.account.mark_keys_as_published()
        return key_id, bytes(key.to_bytes())

    def pickle(self, key: bytes) -> str:
        """The account, encrypted with a 32-byte key, for the keystore."""
        return self.account.pickle(key)

    @classmethod
    def unpickle(cls, device_id: str, pickled: str, key: bytes) -> Device:
        """A device restored from :meth:`pickle`."""
        return cls(device_id, vodozemac.Account.from_pickle(pickled, key))

    def __repr__(self) -> str:
        return f"Device({self.device_id!r}, curve25519={b64(self.curve25519)}, secret=[secure])"


def _pad(text: str) -> str:
    # vodozemac writes unpadded base64.
    return text + "=" * (-len(text) % 4)
