"""Envelopes: one Olm ciphertext per recipient device, each bound to where it belongs.

A room message is encrypted separately to every recipient device over a pairwise Olm session
(vodozemac), so each pair of devices gets forward secrecy and post-compromise recovery from the
double ratchet, and messages are authenticated by MACs only — deniable, unlike formal acts.

Before encryption the payload is bound to its **context** — talks id, room id, sending device,
message id — inside the encrypted plaintext. After decryption the recipient checks that the context
is the one it expects, so a host cannot move a ciphertext to another room, replay it as another
message, or claim another sender: any mismatch is :class:`DecryptionFailed`.

The sealed plaintext is **padded** (:mod:`backchannel.crypto.padding`, Padmé buckets of at least
256 bytes) before Olm encrypts it and unpadded after it decrypts, so the host learns a message's
length only to its bucket.

Wire form of one ciphertext: one byte of Olm message type (0 pre-key, 1 normal), then the Olm
message bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import vodozemac

from backchannel.crypto.device import Device
from backchannel.crypto.padding import pad, unpad
from backchannel.crypto.signed import canonical_json
from backchannel.errors import DecryptionFailed

_PRE_KEY, _NORMAL = 0, 1


@dataclass(frozen=True, slots=True)
class Context:
    """Where a payload belongs; checked after every decryption."""

    talks: str
    room: str
    sender: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The context as it is sealed with the payload."""
        return {
            "talks": self.talks,
            "room": self.room,
            "sender": self.sender,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Recipient:
    """A device to encrypt to: its id, Curve25519 key and, for a first message, a one-time key."""

    device_id: str
    curve25519: bytes
    one_time_key: bytes | None = None


class Sessions:
    """A device's Olm sessions with its peers (by peer device id), and sealing/opening with them."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.peers: dict[str, list[vodozemac.Session]] = {}

    def has_session(self, device_id: str) -> bool:
        """Whether a session with that device exists (else sealing needs its one-time key)."""
        return bool(self.peers.get(device_id))

    def seal(
        self, payload: bytes, context: Context, recipients: list[Recipient]
    ) -> dict[str, bytes]:
        """Encrypt ``payload`` bound to ``context``, once per recipient device."""
        if context.sender != self.device.device_id:
            raise ValueError("the context's sender must be this device")
        plaintext = pad(canonical_json({"context": context.as_dict(), "payload": payload.hex()}))
        sealed: dict[str, bytes] = {}
        for recipient in recipients:
            session = self._outbound(recipient)
            kind, body = session.encrypt(plaintext).to_parts()
            sealed[recipient.device_id] = bytes([kind]) + bytes(body)
        return sealed

    def open(self, ciphertext: bytes, sender_curve25519: bytes, expected: Context) -> bytes:
        """Decrypt a ciphertext from ``expected.sender`` and check its context."""
        if len(ciphertext) < 2 or ciphertext[0] not in (_PRE_KEY, _NORMAL):
            raise DecryptionFailed("not an Olm ciphertext")
        try:
            message = vodozemac.AnyOlmMessage.from_parts(ciphertext[0], ciphertext[1:])
            plaintext = unpad(self._decrypt(expected.sender, sender_curve25519, message))
            sealed = json.loads(plaintext)
            context, payload = sealed["context"], bytes.fromhex(sealed["payload"])
        except DecryptionFailed:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise DecryptionFailed("the ciphertext does not decrypt") from exc
        if context != expected.as_dict():
            raise DecryptionFailed("the ciphertext belongs to another room, message or sender")
        return payload

    def _outbound(self, recipient: Recipient) -> vodozemac.Session:
        existing = self.peers.get(recipient.device_id)
        if existing:
            return existing[-1]
        if recipient.one_time_key is None:
            raise ValueError(f"no session with {recipient.device_id}: claim a one-time key first")
        session = self.device.account.create_outbound_session(
            vodozemac.Curve25519PublicKey.from_bytes(recipient.curve25519),
            vodozemac.Curve25519PublicKey.from_bytes(recipient.one_time_key),
        )
        self.peers[recipient.device_id] = [session]
        return session

    def _decrypt(self, sender: str, sender_key: bytes, message: vodozemac.AnyOlmMessage) -> bytes:
        sessions = self.peers.setdefault(sender, [])
        pre_key = message.to_pre_key()
        for session in reversed(sessions):
            if pre_key is not None and not session.session_matches(pre_key):
                continue
            try:
                return bytes(session.decrypt(message))
            except ValueError:
                continue
        if pre_key is None:
            raise DecryptionFailed("no session decrypts this message")
        try:
            session, plaintext = self.device.account.create_inbound_session(
                vodozemac.Curve25519PublicKey.from_bytes(sender_key), pre_key
            )
        except ValueError as exc:
            raise DecryptionFailed("the first message of a session does not decrypt") from exc
        sessions.append(session)
        return bytes(plaintext)

    def pickle(self, key: bytes) -> dict[str, list[str]]:
        """Every session, encrypted with a 32-byte key, for the keystore."""
        return {peer: [s.pickle(key) for s in sessions] for peer, sessions in self.peers.items()}

    @classmethod
    def unpickle(cls, device: Device, pickled: dict[str, list[str]], key: bytes) -> Sessions:
        """Sessions restored from :meth:`pickle`."""
        restored = cls(device)
        restored.peers = {
            peer: [vodozemac.Session.from_pickle(p, key) for p in sessions]
            for peer, sessions in pickled.items()
        }
        return restored
