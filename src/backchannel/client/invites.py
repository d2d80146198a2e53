"""Invites: the strings passed out of band that let a device into a talks, and device links.

An **invite** (``bc1:…``) names the host, the talks (host id and the convener's name for them),
what it admits (:class:`~backchannel.client.admission.Admission`), a one-off secret, and the
sponsor's signed introduction. Joining checks that the host serves exactly the keys the invite
names for the sponsor (else the host sits in the middle) and shows the sponsor's fingerprint to
compare aloud; the secret proves to the sponsor what the newcomer was invited for.

A **device link** (``bc1d:…``, written to a file) is an invite for another device of the same
member that also carries the member's identity key, sealed under a passphrase with Argon2id and
XChaCha20-Poly1305 (:mod:`backchannel.crypto.keystore`): a person's devices share one identity.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from backchannel.client.admission import Admission, Purpose
from backchannel.client.directory import Introduction
from backchannel.crypto import keystore
from backchannel.crypto.signed import b64, canonical_json, unb64
from backchannel.engine.names import NO_NAMES, Names
from backchannel.errors import BackchannelError, InviteMalformed, KeystoreLocked

INVITE_PREFIX = "bc1:"
LINK_PREFIX = "bc1d:"


@dataclass(frozen=True, slots=True)
class Invite:
    """What an invite string carries: where to go, what it admits, and who issued it."""

    host: str
    code: str
    talks_host_id: str
    talks_id: str
    title: str
    admission: Admission
    secret: bytes
    sponsor: Introduction
    title_names: Names = NO_NAMES  # the title in other languages; absent from older invites

    @property
    def party(self) -> str:
        """The party the invite admits into (or a member or device of)."""
        return self.admission.party

    def to_json(self) -> dict[str, Any]:
        """The invite's fields."""
        return {
            "admission": self.admission.to_json(),
            "code": self.code,
            "host": self.host,
            "secret": b64(self.secret),
            "sponsor": self.sponsor.to_json(),
            "talks": self.talks_host_id,
            "talks_id": self.talks_id,
            "title": self.title,
            **({"title_names": self.title_names.to_json()} if self.title_names else {}),
            "v": 2,
        }

    def encode(self) -> str:
        """The string passed out of band."""
        body = base64.urlsafe_b64encode(canonical_json(self.to_json())).decode().rstrip("=")
        return INVITE_PREFIX + body

    @classmethod
    def from_json(cls, data: Any) -> Invite:
        """An invite from its fields; :class:`InviteMalformed` with the reason otherwise."""
        try:
            if not isinstance(data, dict) or data.get("v") != 2:
                raise InviteMalformed("an invite of an unknown version: ask for a new one")
            return cls(
                host=str(data["host"]),
                code=str(data["code"]),
                talks_host_id=str(data["talks"]),
                talks_id=str(data["talks_id"]),
                title=str(data["title"]),
                admission=Admission.from_json(data["admission"]),
                secret=unb64(data["secret"]),
                sponsor=Introduction.from_json(data["sponsor"]),
                title_names=Names.from_json(data.get("title_names", {})),
            )
        except InviteMalformed:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise InviteMalformed("the invite is damaged: copy it again, whole") from exc
        except BackchannelError as exc:
            raise InviteMalformed(f"the invite's introduction is malformed: {exc}") from exc

    @classmethod
    def decode(cls, text: str) -> Invite:
        """Parse an invite string; :class:`InviteMalformed` with the reason otherwise."""
        text = text.strip()
        if not text.startswith(INVITE_PREFIX):
            raise InviteMalformed(f"an invite starts with {INVITE_PREFIX!r}")
        try:
            data = _unbase(text[len(INVITE_PREFIX) :])
        except (ValueError, binascii.Error) as exc:
            raise InviteMalformed("the invite is damaged: copy it again, whole") from exc
        return cls.from_json(data)


@dataclass(frozen=True, slots=True)
class Link:
    """A device link: an invite for a device of the same member, and that member's identity."""

    invite: Invite
    identity_seed: bytes

    def seal(self, passphrase: str, **limits: int) -> str:
        """The link as text, sealed under ``passphrase``."""
        data = canonical_json(
            {"invite": self.invite.to_json(), "identity": b64(self.identity_seed)}
        )
        sealed = keystore.seal(data, passphrase, **limits)
        return LINK_PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    @classmethod
    def open(cls, text: str, passphrase: str) -> Link:
        """A link from :meth:`seal`'s text; :class:`InviteMalformed` or a wrong passphrase's
        :class:`KeystoreLocked` otherwise."""
        text = text.strip()
        if not text.startswith(LINK_PREFIX):
            raise InviteMalformed(f"a device link starts with {LINK_PREFIX!r}")
        body = text[len(LINK_PREFIX) :]
        try:
            sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (ValueError, binascii.Error) as exc:
            raise InviteMalformed("the device link is damaged: copy it again, whole") from exc
        try:
            data = json.loads(keystore.unseal(sealed, passphrase))
            invite = Invite.from_json(data["invite"])
            seed = unb64(data["identity"])
        except KeystoreLocked:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise InviteMalformed("the device link is damaged: copy it again, whole") from exc
        if invite.admission.purpose is not Purpose.DEVICE or len(seed) != 32:
            raise InviteMalformed("this is not a device link")
        return cls(invite, seed)


def _unbase(body: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
