"""A device profile: one person's keys on one device, its host, and the talks it is in.

:class:`Profile` wires the parts, once, when it is created or opened: its files
(:mod:`.files`: keystore, sealed state, lock), its identity and device keys, one
:class:`~backchannel.client.driver.Driver` for the host, and one
:class:`~backchannel.client.participant.Participant` per talks. It convenes talks, issues
invites (:mod:`.invites`: for a party, a member of the device's party, or another device of its
member), joins with one, acts and syncs. Every change is saved before deliveries are
acknowledged, so a crash loses nothing acknowledged. SAS verification is :mod:`.sas`, the
background sync loop :mod:`.sync`.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.utils

from backchannel.client.admission import Admission, Purpose
from backchannel.client.direct_session import Inbox
from backchannel.client.directory import Introduction
from backchannel.client.driver import Driver, sessions_used
from backchannel.client.files import ProfileFiles, Secrets, derive
from backchannel.client.host import HostClient
from backchannel.client.invites import Invite, Link
from backchannel.client.joining import Declaration
from backchannel.client.outbox import Outbox
from backchannel.client.participant import Participant
from backchannel.crypto import Device, Identity, Sessions, TagKey, fingerprint, verify_device
from backchannel.engine import events as ev
from backchannel.engine.names import NO_NAMES, Names
from backchannel.engine.rules import Level
from backchannel.errors import (
    BackchannelError,
    InviteInvalid,
    InviteMalformed,
    KeystoreLocked,
    NotFound,
    PeerUnknown,
    ProfileExists,
    RuleViolation,
    TalksUnknown,
)

#: What a watermark key is derived for (BLAKE2b personalisation: at most 16 bytes).
WATERMARK_PURPOSE = b"bc-watermark-v1"
#: What the device's recipient-tag key is derived for.
TAG_PURPOSE = b"bc-tag-key-v1"
#: What the key sealing documents on their way out (resumable uploads) is derived for.
OUTBOX_PURPOSE = b"bc-doc-outbox-v1"


class Profile:
    """An open profile: use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        files: ProfileFiles,
        found: Secrets,
        device: Device,
        sessions: Sessions | None = None,
    ) -> None:
        self.files = files
        self.path = files.path
        self.name = found.name
        self.identity = Identity.from_seed(found.identity_seed)
        self.device = device
        self.host_url = found.host
        self.host = HostClient(found.host, device)
        self.sessions = sessions or Sessions(device)
        self.tag_key = TagKey(derive(found.local_key, TAG_PURPOSE))
        #: Direct match rounds received, until a session takes them (kept in the sealed state).
        self.direct = Inbox()
        self.driver = Driver(self.host, self.sessions, save=self.save, inbox=self.direct)
        self.talks: dict[str, Participant] = {}
        self.titles: dict[str, str] = {}
        self.title_names: dict[str, Names] = {}  # each talks' title in other languages
        self._local_key = found.local_key

    # --- opening and closing -----------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: Path,
        passphrase: str,
        *,
        host_url: str,
        name: str = "",
        kdf_limits: dict[str, int] | None = None,
        identity_seed: bytes | None = None,
    ) -> Profile:
        """A new device (and identity, unless ``identity_seed`` comes from a device link),
        registered at the host; refuses an existing profile."""
        if len(passphrase) < 8:
            raise KeystoreLocked("choose a passphrase of at least 8 characters")
        files = ProfileFiles.new(path)
        identity = (
            Identity.generate() if identity_seed is None else Identity.from_seed(identity_seed)
        )
        device = Device(f"dev-{secrets.token_hex(8)}")
        found = Secrets(device.device_id, host_url, identity.seed, nacl.utils.random(32), name)
        profile = cls(files, found, device)
        try:
            profile.host.register(profile.identity)
            profile.host.top_up_one_time_keys()
            profile.save()
            files.write_secrets(found, passphrase, **(kdf_limits or {}))
        except BaseException:
            profile.close(save=False)
            raise
        return profile

    @classmethod
    def open(cls, path: Path, passphrase: str) -> Profile:
        """Unlock the profile in ``path``."""
        files = ProfileFiles.existing(path)
        try:
            found = files.read_secrets(passphrase)
            state = files.read_state(found.local_key)
            device = Device.unpickle(found.device_id, state["account"], found.local_key)
            sessions = Sessions.unpickle(device, state["sessions"], found.local_key)
            profile = cls(files, found, device, sessions)
            profile.driver.cursor = int(state["cursor"])
            profile.driver.stray = int(state.get("stray", 0))
            profile.direct.held = Inbox.restore(state.get("direct", {})).held
            for alias, talks in state["talks"].items():
                profile.titles[alias] = talks["title"]
                profile.title_names[alias] = Names.from_json(talks.get("title_names", {}))
                profile.talks[alias] = Participant.restore(
                    talks["participant"],
                    identity=profile.identity,
                    tag_key=profile.tag_key,
                    device_id=device.device_id,
                    random=nacl.utils.random,
                )
        except BaseException:
            files.close()
            raise
        return profile

    def save(self) -> None:
        """Write the state, sealed, atomically."""
        state = {
            "account": self.device.pickle(self._local_key),
            "cursor": self.driver.cursor,
            "sessions": self.sessions.pickle(self._local_key),
            "stray": self.driver.stray,
            "direct": self.direct.snapshot(),
            "talks": {
                alias: {
                    "title": self.titles.get(alias, ""),
                    "title_names": self.title_names.get(alias, NO_NAMES).to_json(),
                    "participant": p.snapshot(),
                }
                for alias, p in self.talks.items()
            },
        }
        self.files.write_state(state, self._local_key)

    def close(self, *, save: bool = True) -> None:
        """Save, release the lock and close the host connection (once)."""
        if not self.files.open:
            return
        try:
            if save:
                self.save()
        finally:
            self.host.close()
            self.files.close()

    def __enter__(self) -> Profile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- who am I ----------------------------------------------------------------------------

    @property
    def fingerprint(self) -> str:
        """The identity key's fingerprint, to read aloud."""
        return fingerprint(self.identity.public_key)

    @property
    def stray(self) -> int:
        """Deliveries for talks this profile does not know (acknowledged, never read)."""
        return self.driver.stray

    def watermark_key(self, alias: str) -> bytes:
        """The secret that marks this device's copies of a talks' documents (and traces them):
        derived from the local key, so it never leaves the profile and needs no storage."""
        return derive(self._local_key, WATERMARK_PURPOSE, self.participant(alias).talks_host_id)

    def outbox(self) -> Outbox:
        """The documents this profile is sending (sealed notes and ciphertext spools)."""
        return Outbox(self.path / "outbox", derive(self._local_key, OUTBOX_PURPOSE))

    def participant(self, alias: str) -> Participant:
        """The talks this profile knows as ``alias``."""
        try:
            return self.talks[alias]
        except KeyError:
            known = ", ".join(sorted(self.talks)) or "none yet"
            raise TalksUnknown(
                f"no talks named {alias!r} in this profile (known: {known})"
            ) from None

    # --- talks -------------------------------------------------------------------------------

    def create_talks(
        self,
        alias: str,
        *,
        party: str,
        member: str | None,
        level: Level = Level.SIGN,
        mediator: bool = False,
        title: str = "",
        party_name: str = "",
        title_names: Names = NO_NAMES,
        party_names: Names = NO_NAMES,
        member_name: str = "",
        member_names: Names = NO_NAMES,
    ) -> Participant:
        """Convene new talks: declare this device's party (and member) in them, each named by
        default and in other languages (``*_names``)."""
        self._fresh_alias(alias)
        talks_host_id = self.host.create_talks()
        participant = self._participant(alias, talks_host_id, alias, party, member, root=True)
        self.titles[alias] = title
        self.title_names[alias] = title_names
        participant.joining.declaration = Declaration(
            party, member, level, mediator, party_name, party_names, member_name, member_names
        )
        self._follow_up(participant)
        self.save()
        return participant

    def invite(self, alias: str, party: str, ttl_seconds: int = 7 * 24 * 3600) -> Invite:
        """An invite admitting the device of ``party``'s root (convener only)."""
        return self._invite(alias, Admission(Purpose.PARTY, party), ttl_seconds)

    def invite_member(
        self,
        alias: str,
        member: str,
        *,
        level: Level,
        name: str = "",
        ttl_seconds: int = 7 * 24 * 3600,
    ) -> Invite:
        """An invite admitting a new member of this device's party (a root's device only)."""
        participant = self.participant(alias)
        party = participant.introduction.party if participant.introduction else ""
        return self._invite(
            alias, Admission(Purpose.MEMBER, party, member, level, name), ttl_seconds
        )

    def link_device(
        self, alias: str, passphrase: str, ttl_seconds: int = 24 * 3600, **limits: int
    ) -> str:
        """A device link for another device of this device's member, sealed under
        ``passphrase``: it carries this identity key, so keep it as secret as the keystore."""
        participant = self.participant(alias)
        intro = participant.introduction
        if intro is None or intro.member is None:
            raise InviteMalformed("only a member's device adds devices for its member")
        admission = Admission(Purpose.DEVICE, intro.party, intro.member)
        invite = self._invite(alias, admission, ttl_seconds)
        return Link(invite, self.identity.seed).seal(passphrase, **limits)

    def _invite(self, alias: str, admission: Admission, ttl_seconds: int) -> Invite:
        participant = self.participant(alias)
        secret = participant.issue_invite(admission)
        code = self.host.invite(participant.talks_host_id, ttl_seconds)
        self.host.top_up_one_time_keys()
        self.save()
        assert participant.introduction is not None
        return Invite(
            host=self.host_url,
            code=code,
            talks_host_id=participant.talks_host_id,
            talks_id=participant.view.id,
            title=self.titles.get(alias, ""),
            title_names=self.title_names.get(alias, NO_NAMES),
            admission=admission,
            secret=secret,
            sponsor=participant.introduction,
        )

    def join(
        self,
        invite: Invite,
        *,
        alias: str | None = None,
        member: str | None = None,
        level: Level = Level.SIGN,
        party_name: str = "",
        party_names: Names = NO_NAMES,
        member_name: str = "",
        member_names: Names = NO_NAMES,
    ) -> Participant:
        """Join talks with an invite: as the root of the invited party (and its ``member``), as
        the invited member, or as another device of the linked member. The device introduces
        itself to its sponsor; once welcomed (a later sync), a party's device declares itself."""
        alias = alias or invite.talks_id
        self._fresh_alias(alias)
        if invite.host.rstrip("/") != self.host_url.rstrip("/"):
            raise InviteMalformed(
                f"the invite is for host {invite.host}, this profile uses {self.host_url}"
            )
        try:
            sponsor = invite.sponsor.verify(invite.talks_host_id)
        except BackchannelError as exc:
            raise InviteMalformed(f"the invite's sponsor does not verify: {exc}") from exc
        # The host must serve exactly the keys the invite names, or it is in the middle: checked
        # with the invite code before accepting it, so such a host admits this device nowhere.
        try:
            served = verify_device(
                self.host.device_certificate(sponsor.host_device, invite=invite.code),
                sponsor.identity,
            )
        except NotFound as exc:
            # The host shows the sponsor only to the holder of a live invite.
            raise InviteInvalid(
                "the invite is unknown to the host, already used or expired: ask for a new one"
            ) from exc
        except BackchannelError as exc:
            raise InviteMalformed(
                f"the host serves other keys for the sponsor than the invite names: {exc}"
            ) from exc
        if served.curve25519 != sponsor.curve25519:
            raise InviteMalformed(
                "the host serves other keys for the sponsor than the invite names"
            )
        talks_host_id = self.host.accept(invite.code)
        if talks_host_id != invite.talks_host_id:
            raise InviteMalformed(
                "the host admitted this device to other talks than the invite names"
            )
        admission = invite.admission
        party, root = admission.party, True
        if admission.purpose is Purpose.MEMBER:
            member, root = admission.member, False
        elif admission.purpose is Purpose.DEVICE:
            if self.identity.public_key != sponsor.identity:
                raise InviteMalformed("a device link admits a device of the same identity")
            member, root = admission.member, sponsor.root
        participant = self._participant(
            alias, talks_host_id, invite.talks_id, party, member, root=root, sponsor=invite.sponsor
        )
        if admission.purpose is Purpose.PARTY:
            participant.joining.declaration = Declaration(
                party,
                member,
                level,
                name=party_name,
                names=party_names,
                member_name=member_name,
                member_names=member_names,
            )
        self.titles[alias] = invite.title
        self.title_names[alias] = invite.title_names
        self.driver.send(participant, participant.introduce_to(sponsor.host_device, invite.secret))
        self.save()
        return participant

    def _fresh_alias(self, alias: str) -> None:
        if alias in self.talks:
            raise ProfileExists(f"this profile already has talks named {alias!r}")

    def _participant(
        self,
        alias: str,
        talks_host_id: str,
        talks_id: str,
        party: str,
        member: str | None,
        *,
        root: bool,
        sponsor: Introduction | None = None,
    ) -> Participant:
        certificate = self.device.certify(self.identity)
        introduction = Introduction.make(
            self.identity,
            certificate,
            talks_host_id,
            party,
            member,
            root=root,
            tag_key=self.tag_key.public,
        )
        peer = None if sponsor is None else sponsor.verify(talks_host_id)
        participant = Participant(
            talks_host_id,
            talks_id,
            identity=self.identity,
            tag_key=self.tag_key,
            device_id=self.device.device_id,
            me=member or party,
            engine_device=None if member is None else self.device.device_id,
            introduction=introduction,
            sponsor=None if peer is None else peer.host_device,
            random=nacl.utils.random,
        )
        if sponsor is not None and peer is not None:
            participant.directory.admit(peer)
            participant.known_introductions[peer.host_device] = sponsor.to_json()
        self.talks[alias] = participant
        return participant

    # --- acting and syncing ------------------------------------------------------------------

    def act(self, participant: Participant, kind: type[ev.Event], /, **fields: Any) -> ev.Event:
        """Build an event of ``kind`` now (by this device's member unless ``actor`` is given),
        check it with this device's engine, send it, and apply it at its place in the record.

        Raises the rule's error if the engine refuses it before it is sent, or at its place
        (another act the record puts first changed what it may do).
        """
        actor = fields.pop("actor", participant.me)
        device = participant.engine_device if actor == participant.me else None
        at = datetime.now(UTC).replace(microsecond=0)
        event = kind(at=at, actor=actor, device=device, **fields)
        sent = participant.act(event)
        self.save()  # kept to send again if this process dies before the host answers
        self.driver.send(participant, sent)
        self.sync()
        if sent.commitment is not None:
            refusal = participant.ledger.refusal_of(sent.commitment)
            if refusal is not None:
                raise RuleViolation(
                    f"this act crossed another the record puts first, and is refused at its "
                    f"place: {refusal.message} ({refusal.code})"
                )
        return event

    def sync(self, timeout: int = 0) -> dict[str, list[ev.Event]]:
        """Receive everything waiting (long-polling up to ``timeout`` s for the first batch),
        apply it in record order, and answer what the talks ask of this device."""
        by_host_id = {p.talks_host_id: alias for alias, p in self.talks.items()}
        before = sessions_used(self.sessions)
        received = self.driver.sync(
            {p.talks_host_id: p for p in self.talks.values()}, timeout=timeout
        )
        if sessions_used(self.sessions) != before:
            # A session started, so a one-time key may have been claimed: make it good.
            self.host.top_up_one_time_keys()
        self.save()
        return {by_host_id[host_id]: events for host_id, events in received.items()}

    def _follow_up(self, participant: Participant) -> None:
        self.driver.sync({participant.talks_host_id: participant})

    def revoke_device(self, alias: str, name: str) -> str:
        """Revoke a device in the talks (this device's member's, or one of its party's as the
        party's root): no new event is addressed to it. A device of this identity is revoked
        at the host too. Its host device id."""
        participant = self.participant(alias)
        peer = participant.directory.find(name) if name != self.device.device_id else None
        target = self.device.device_id if peer is None else peer.host_device
        engine_device = participant.engine_device if peer is None else peer.engine_device
        if engine_device is None or engine_device not in participant.view.devices:
            raise PeerUnknown(f"{name!r} is not a member's device in these talks")
        owner = participant.view.devices[engine_device].member
        actor = participant.me if owner == participant.me else participant.view.members[owner].party
        self.act(participant, ev.RevokeDevice, actor=actor, target=engine_device)
        if target == self.device.device_id:
            self.host.revoke_device(target)
        elif peer is not None and peer.identity == self.identity.public_key:
            self.host.revoke_device(target, self.identity)
        return target
