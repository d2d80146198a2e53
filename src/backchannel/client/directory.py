"""Who is who in a talks: devices, the identities that certify them, and what they act as.

Every device of a talks knows every other through an **introduction**: the device's certificate
(its keys, signed by its owner's identity) and the party, member and root authority it claims,
signed by the same identity under ``INTRO_CONTEXT`` and bound to the talks' host id, so it cannot
be replayed into other talks. The host never sees one: introductions travel inside Olm envelopes.

Trust is decided here, never by the host. A device accepts an introduction only (a) from the
device itself, when this device is the talks' convener and the introduction carries the secret of
an invite it issued for that party (the invite went out of band, so the host cannot forge it), or
(b) forwarded by the convener, whose identity the joiner took from the invite. Identities are then
compared out of band (fingerprints, SAS) to mark a device verified.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from backchannel.crypto import DeviceCertificate, fingerprint, verify_device
from backchannel.crypto.signed import INTRO_CONTEXT, Identity, b64, signed_message, unb64, verify
from backchannel.errors import IntroductionRejected, PeerUnknown, RuleViolation


@dataclass(frozen=True, slots=True)
class Peer:
    """A device of the talks as this device knows it: host id, keys, and who holds it.

    ``member`` is the member it acts as (None for a device that holds only a party's root
    authority); ``root`` says it also holds its party's root authority key.
    """

    host_device: str
    curve25519: bytes
    identity: bytes
    party: str
    member: str | None
    engine_device: str | None
    root: bool = False
    tag_key: bytes = b""  # its X25519 recipient-tag key (crypto/tags.py)

    def actors(self) -> frozenset[str]:
        """The engine actors this device may act as: its member, and its party if it is root."""
        found = {self.member} if self.member is not None else set()
        return frozenset(found | ({self.party} if self.root else set()))


@dataclass
class Directory:
    """Who is who, verified out of band: host device ids ↔ members, devices and identities.

    A device revoked in the talks stays known (its earlier acts still verify by its identity)
    but leaves :meth:`live`: nothing new is addressed to it.
    """

    peers: dict[str, Peer] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)

    def live(self) -> list[Peer]:
        """The peers new events are addressed to: every known device not revoked."""
        return [p for d, p in sorted(self.peers.items()) if d not in self.revoked]

    def by_engine_device(self, device: str) -> Peer | None:
        """The peer holding an engine device id."""
        return next((p for p in self.peers.values() if p.engine_device == device), None)

    def root_of(self, party: str) -> Peer | None:
        """A live device of a party's root authority."""
        return next((p for p in self.live() if p.root and p.party == party), None)

    def identity_of(self, actor: str) -> bytes:
        """The identity key of a member, or of a party's root authority."""
        for peer in self.peers.values():
            if actor in peer.actors():
                return peer.identity
        raise RuleViolation(f"no known identity acts as {actor}")

    def find(self, name: str) -> Peer:
        """A peer by host device id, member, or party (its root's device)."""
        for peer in self.peers.values():
            if name in (peer.host_device, peer.member) or (peer.root and name == peer.party):
                return peer
        raise PeerUnknown(f"no device of these talks is {name!r}")

    def admit(self, peer: Peer) -> bool:
        """Add ``peer``; False if already known. A clash with a known device is refused."""
        known = self.peers.get(peer.host_device)
        if known is not None:
            if known != peer:
                raise IntroductionRejected(f"device {peer.host_device} was introduced otherwise")
            return False
        for other in self.peers.values():
            if other.identity != peer.identity and other.actors() & peer.actors():
                taken = ", ".join(sorted(other.actors() & peer.actors()))
                raise IntroductionRejected(f"another identity already acts as {taken}")
        self.peers[peer.host_device] = peer
        return True

    def devices_json(self, verified: Collection[str]) -> list[dict[str, Any]]:
        """Every other device of the talks as ``talks list --json`` and the web app show it: who
        holds it, its owner's identity fingerprint to compare out of band, and whether it was
        (``verified``: the host device ids compared so far)."""
        return [
            {
                "device": peer.host_device,
                "party": peer.party,
                "member": peer.member,
                "root": peer.root,
                "fingerprint": fingerprint(peer.identity),
                "verified": peer.host_device in verified,
                "revoked": peer.host_device in self.revoked,
            }
            for peer in sorted(self.peers.values(), key=lambda p: p.host_device)
        ]

    def sizes_json(self, sizes: dict[str, int]) -> list[dict[str, Any]]:
        """Record sizes by peer device (its state last compared), with who holds each device."""
        return [
            {"device": d, "party": peer.party, "member": peer.member, "size": n}
            for d, n in sorted(sizes.items())
            if (peer := self.peers.get(d)) is not None
        ]


@dataclass(frozen=True, slots=True)
class Introduction:
    """A device's certificate and the actors it claims, signed by its identity for one talks."""

    certificate: DeviceCertificate
    talks: str
    party: str
    member: str | None
    root: bool
    tag_key: bytes
    engine_device: str | None
    signature: bytes

    @classmethod
    def make(
        cls,
        identity: Identity,
        certificate: DeviceCertificate,
        talks: str,
        party: str,
        member: str | None,
        root: bool,
        tag_key: bytes,
        engine_device: str | None = None,
    ) -> Introduction:
        """Introduce this device, signed by its owner's identity. ``engine_device`` is the id
        the talks know the member's device by (default: its host id; None for a root only)."""
        if member is not None and engine_device is None:
            engine_device = certificate.device_id
        unsigned = cls(certificate, talks, party, member, root, tag_key, engine_device, b"")
        signature = identity.sign(unsigned.message())
        return cls(certificate, talks, party, member, root, tag_key, engine_device, signature)

    def _fields(self) -> dict[str, Any]:
        cert = self.certificate
        return {
            "certificate": b64(cert.signature),
            "curve25519": b64(cert.curve25519),
            "device_id": cert.device_id,
            "ed25519": b64(cert.ed25519),
            "engine_device": self.engine_device,
            "identity": b64(cert.identity),
            "member": self.member,
            "party": self.party,
            "root": self.root,
            "tag_key": b64(self.tag_key),
            "talks": self.talks,
        }

    def message(self) -> bytes:
        """The signed bytes."""
        return signed_message(INTRO_CONTEXT, self._fields())

    def to_json(self) -> dict[str, Any]:
        """The introduction as it travels (inside an envelope) and is stored."""
        return {**self._fields(), "signature": b64(self.signature)}

    @classmethod
    def from_json(cls, data: Any) -> Introduction:
        """Parse; :class:`IntroductionRejected` if a field is missing or of the wrong type."""
        try:
            member = data["member"]
            if not isinstance(data["party"], str) or not isinstance(data["root"], bool):
                raise TypeError("party is text and root a boolean")
            if member is not None and not isinstance(member, str):
                raise TypeError("member is text or null")
            certificate = DeviceCertificate(
                str(data["device_id"]),
                unb64(data["identity"]),
                unb64(data["curve25519"]),
                unb64(data["ed25519"]),
                unb64(data["certificate"]),
            )
            tag_key = unb64(data["tag_key"])
            if len(tag_key) != 32:
                raise ValueError("a tag key is 32 bytes")
            engine_device = data["engine_device"]
            if (engine_device is None) != (member is None) or not isinstance(
                engine_device, str | None
            ):
                raise TypeError("a member's device has an engine id; a root-only device none")
            return cls(
                certificate,
                str(data["talks"]),
                data["party"],
                member,
                data["root"],
                tag_key,
                engine_device,
                unb64(data["signature"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IntroductionRejected(f"a malformed introduction: {exc}") from exc

    def verify(self, talks: str) -> Peer:
        """The peer it introduces, once its certificate and signature check out for ``talks``."""
        if self.talks != talks:
            raise IntroductionRejected("the introduction belongs to other talks")
        if self.member is None and not self.root:
            raise IntroductionRejected("a device acts as a member, its party's root, or both")
        cert = verify_device(self.certificate, self.certificate.identity)
        verify(cert.identity, self.message(), self.signature)
        return Peer(
            host_device=cert.device_id,
            curve25519=cert.curve25519,
            identity=cert.identity,
            party=self.party,
            member=self.member,
            engine_device=self.engine_device,
            root=self.root,
            tag_key=self.tag_key,
        )
