"""A device profile on disk: one person's keys on one device, its host, and the talks it is in.

A profile is a directory holding two files, both readable by the owner only:

- ``keystore.bcks`` — the identity key's seed, the device id, the host's URL and a random 32-byte
  **local key**, encrypted under the passphrase (:mod:`backchannel.crypto.keystore`, Argon2id).
- ``state.bcst`` — the Olm account and sessions (pickled by vodozemac under the local key) and
  every talks' local history: the events this device applied, the introductions it holds, its
  record openings; sealed under the local key with XChaCha20-Poly1305. This is the **local
  encrypted cache** of the room history: nothing the device decrypted is written in the clear.

One process at a time opens a profile (an exclusive lock on ``.lock``); every change is written
atomically before deliveries are acknowledged to the host, so a crash loses nothing acknowledged.

Talks are created by a **convener** (usually the mediator's device), which declares its party and
member; others join with an **invite**: a string the convener passes out of band naming the host,
the talks, the party it admits, a one-off secret, and the convener's signed introduction. Joining
checks that the host serves the same convener keys the invite names and shows the convener's
fingerprint to compare aloud; the secret proves to the convener which party the newcomer is.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.utils

from backchannel.client.directory import Directory, Introduction
from backchannel.client.host import HostClient
from backchannel.client.participant import Participant
from backchannel.crypto import (
    Device,
    Identity,
    SasExchange,
    Sessions,
    ShortCodes,
    fingerprint,
    keystore,
    verify_device,
)
from backchannel.crypto.signed import b64, canonical_json, unb64
from backchannel.engine import events as ev
from backchannel.engine.rules import Level, Role
from backchannel.errors import (
    BackchannelError,
    InviteMalformed,
    KeystoreLocked,
    ProfileBusy,
    ProfileExists,
    ProfileMissing,
    TalksUnknown,
    VerificationTimedOut,
)

KEYSTORE = "keystore.bcks"
STATE = "state.bcst"
LOCK = ".lock"
STATE_PURPOSE = b"backchannel/profile-state/v1"
#: What a watermark key is derived for (BLAKE2b personalisation: at most 16 bytes).
WATERMARK_PURPOSE = b"bc-watermark-v1"
INVITE_PREFIX = "bc1:"
#: One-time keys published at creation; topped up as peers use them.
ONE_TIME_KEYS = 20
#: A device posts its cosigned checkpoint whenever the record grew this much since its last.
POST_EVERY = 10


@dataclass(frozen=True, slots=True)
class Invite:
    """What an invite string carries: where to go, what it admits, and who issued it."""

    host: str
    code: str
    talks_host_id: str
    talks_id: str
    title: str
    party: str
    secret: bytes
    convener: Introduction

    def encode(self) -> str:
        """The string passed out of band."""
        data = {
            "code": self.code,
            "convener": self.convener.to_json(),
            "host": self.host,
            "party": self.party,
            "secret": b64(self.secret),
            "talks": self.talks_host_id,
            "talks_id": self.talks_id,
            "title": self.title,
            "v": 1,
        }
        return INVITE_PREFIX + base64.urlsafe_b64encode(canonical_json(data)).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Invite:
        """Parse an invite string; :class:`InviteMalformed` with the reason otherwise."""
        text = text.strip()
        if not text.startswith(INVITE_PREFIX):
            raise InviteMalformed(f"an invite starts with {INVITE_PREFIX!r}")
        body = text[len(INVITE_PREFIX) :]
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            if data.get("v") != 1:
                raise InviteMalformed("an invite of an unknown version")
            invite = cls(
                host=str(data["host"]),
                code=str(data["code"]),
                talks_host_id=str(data["talks"]),
                talks_id=str(data["talks_id"]),
                title=str(data["title"]),
                party=str(data["party"]),
                secret=unb64(data["secret"]),
                convener=Introduction.from_json(data["convener"]),
            )
        except InviteMalformed:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise InviteMalformed("the invite is damaged: copy it again, whole") from exc
        except BackchannelError as exc:
            raise InviteMalformed(f"the invite's introduction is malformed: {exc}") from exc
        return invite


class Profile:
    """An open profile: use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        path: Path,
        *,
        name: str,
        identity: Identity,
        device: Device,
        host_url: str,
        local_key: bytes,
        lock: int,
    ) -> None:
        self.path = path
        self.name = name
        self.identity = identity
        self.device = device
        self.host_url = host_url
        self.host = HostClient(host_url, device)
        self.sessions = Sessions(device)
        self.talks: dict[str, Participant] = {}
        self.titles: dict[str, str] = {}
        self.cursor = 0
        #: Deliveries for talks this profile does not know (acknowledged and counted, never read).
        self.stray = 0
        self._local_key = local_key
        self._lock = lock

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
    ) -> Profile:
        """A new identity and device, registered at the host; refuses an existing profile."""
        if (path / KEYSTORE).exists():
            raise ProfileExists(f"a profile already exists in {path}; it is never overwritten")
        if len(passphrase) < 8:
            raise KeystoreLocked("choose a passphrase of at least 8 characters")
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        lock = _lock(path)
        identity = Identity.generate()
        device = Device(f"dev-{secrets.token_hex(8)}")
        local_key = nacl.utils.random(32)
        profile = cls(
            path,
            name=name,
            identity=identity,
            device=device,
            host_url=host_url,
            local_key=local_key,
            lock=lock,
        )
        try:
            profile.host.register(identity)
            profile.host.publish_one_time_keys(ONE_TIME_KEYS)
            secrets_json = {
                "device_id": device.device_id,
                "host": host_url,
                "identity": b64(identity.seed),
                "local_key": b64(local_key),
                "name": name,
                "v": 1,
            }
            profile.save()
            keystore.save(
                path / KEYSTORE, canonical_json(secrets_json), passphrase, **(kdf_limits or {})
            )
        except BaseException:
            profile.close(save=False)
            raise
        return profile

    @classmethod
    def open(cls, path: Path, passphrase: str) -> Profile:
        """Unlock the profile in ``path``."""
        if not (path / KEYSTORE).exists():
            raise ProfileMissing(
                f"no profile in {path}: create one with 'backchannel profile create'"
            )
        lock = _lock(path)
        try:
            data = json.loads(keystore.load(path / KEYSTORE, passphrase))
            local_key = unb64(data["local_key"])
            state = json.loads(
                keystore.open_local((path / STATE).read_bytes(), local_key, STATE_PURPOSE)
            )
            device = Device.unpickle(data["device_id"], state["account"], local_key)
            profile = cls(
                path,
                name=data["name"],
                identity=Identity.from_seed(unb64(data["identity"])),
                device=device,
                host_url=data["host"],
                local_key=local_key,
                lock=lock,
            )
            profile.sessions = Sessions.unpickle(device, state["sessions"], local_key)
            profile.cursor = int(state["cursor"])
            profile.stray = int(state.get("stray", 0))
            for alias, talks in state["talks"].items():
                profile.titles[alias] = talks["title"]
                profile.talks[alias] = Participant.restore(
                    profile.host, profile.identity, profile.sessions, talks["participant"]
                )
        except BaseException:
            os.close(lock)
            raise
        return profile

    def save(self) -> None:
        """Write the state, encrypted, atomically."""
        state = {
            "account": self.device.pickle(self._local_key),
            "cursor": self.cursor,
            "sessions": self.sessions.pickle(self._local_key),
            "stray": self.stray,
            "talks": {
                alias: {"title": self.titles.get(alias, ""), "participant": p.snapshot()}
                for alias, p in self.talks.items()
            },
        }
        sealed = keystore.seal_local(canonical_json(state), self._local_key, STATE_PURPOSE)
        keystore.write_private(self.path / STATE, sealed)

    def close(self, *, save: bool = True) -> None:
        """Save, release the lock and close the host connection (once)."""
        if self._lock < 0:
            return
        try:
            if save:
                self.save()
        finally:
            self.host.close()
            if self._lock >= 0:
                os.close(self._lock)
                self._lock = -1

    def __enter__(self) -> Profile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- who am I ----------------------------------------------------------------------------

    @property
    def fingerprint(self) -> str:
        """The identity key's fingerprint, to read aloud."""
        return fingerprint(self.identity.public_key)

    def watermark_key(self, alias: str) -> bytes:
        """The secret that marks this device's copies of a talks' documents (and traces them):
        derived from the local key, so it never leaves the profile and needs no storage."""
        return keystore.derive_local(
            self._local_key, WATERMARK_PURPOSE, self.participant(alias).talks_host_id
        )

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
    ) -> Participant:
        """Convene new talks: declare this device's party (and member) in them."""
        self._fresh_alias(alias)
        talks_host_id = self.host.create_talks()
        participant = self._participant(alias, talks_host_id, alias, party, member, convener=None)
        self.titles[alias] = title
        self._declare(participant, party, member, level, mediator, party_name)
        self.save()
        return participant

    def invite(self, alias: str, party: str, ttl_seconds: int = 7 * 24 * 3600) -> Invite:
        """An invite admitting one device of ``party`` to the talks (convener only)."""
        participant = self.participant(alias)
        if participant.convener != self.device.device_id or participant.introduction is None:
            raise InviteMalformed("only the device that convened these talks issues invites")
        code = self.host.invite(participant.talks_host_id, ttl_seconds)
        secret = participant.issue_invite(party)
        self.host.publish_one_time_keys(2)
        self.save()
        return Invite(
            host=self.host_url,
            code=code,
            talks_host_id=participant.talks_host_id,
            talks_id=participant.view.id,
            title=self.titles.get(alias, ""),
            party=party,
            secret=secret,
            convener=participant.introduction,
        )

    def join(
        self,
        invite: Invite,
        *,
        alias: str | None = None,
        member: str | None,
        level: Level = Level.SIGN,
        party_name: str = "",
    ) -> Participant:
        """Join talks with an invite, as the root of the invited party (and its ``member``)."""
        alias = alias or invite.talks_id
        self._fresh_alias(alias)
        if invite.host.rstrip("/") != self.host_url.rstrip("/"):
            raise InviteMalformed(
                f"the invite is for host {invite.host}, this profile uses {self.host_url}"
            )
        try:
            convener = invite.convener.verify(invite.talks_host_id)
        except BackchannelError as exc:
            raise InviteMalformed(f"the invite's convener does not verify: {exc}") from exc
        talks_host_id = self.host.accept(invite.code)
        if talks_host_id != invite.talks_host_id:
            raise InviteMalformed(
                "the host admitted this device to other talks than the invite names"
            )
        # The host must serve exactly the keys the invite names: otherwise it is in the middle.
        try:
            served = verify_device(
                self.host.device_certificate(convener.host_device), convener.identity
            )
        except BackchannelError as exc:
            raise InviteMalformed(
                f"the host serves other keys for the convener than the invite names: {exc}"
            ) from exc
        if served.curve25519 != convener.curve25519:
            raise InviteMalformed(
                "the host serves other keys for the convener than the invite names"
            )
        participant = self._participant(
            alias,
            talks_host_id,
            invite.talks_id,
            invite.party,
            member,
            convener=convener.host_device,
        )
        participant.directory.admit(convener)
        participant.known_introductions[convener.host_device] = invite.convener.to_json()
        self.titles[alias] = invite.title
        participant.introduce_to(convener.host_device, invite.secret)
        self._declare(participant, invite.party, member, level, False, party_name)
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
        convener: str | None,
    ) -> Participant:
        certificate = self.device.certify(self.identity)
        introduction = Introduction.make(
            self.identity, certificate, talks_host_id, party, member, root=True
        )
        participant = Participant(
            self.host,
            self.identity,
            Directory(),
            talks_host_id,
            talks_id,
            me=member or party,
            engine_device=None if member is None else self.device.device_id,
            sessions=self.sessions,
            introduction=introduction,
            convener=convener or self.device.device_id,
        )
        self.talks[alias] = participant
        return participant

    def _declare(
        self,
        participant: Participant,
        party: str,
        member: str | None,
        level: Level,
        mediator: bool,
        party_name: str,
    ) -> None:
        role = Role.MEDIATOR if mediator else Role.PARTY
        self.act(participant, ev.AddParty, actor=party, party=party, role=role, name=party_name)
        if member is not None:
            self.act(
                participant,
                ev.AddMember,
                actor=party,
                member=member,
                party=party,
                first_device=self.device.device_id,
                fingerprint=fingerprint(self.device.ed25519),
            )
            self.act(
                participant,
                ev.Grant,
                actor=party,
                grant=f"g-{secrets.token_hex(4)}",
                member=member,
                level=level,
            )

    # --- acting and syncing ------------------------------------------------------------------

    def act(self, participant: Participant, kind: type[ev.Event], /, **fields: Any) -> ev.Event:
        """Build an event of ``kind`` now (by this device's member unless ``actor`` is given),
        check it with this device's engine, and send it to its audience."""
        actor = fields.pop("actor", participant.me)
        device = participant.engine_device if actor == participant.me else None
        event = kind(at=self._now(participant, actor), actor=actor, device=device, **fields)
        participant.act(event)
        self.save()
        return event

    def sync(self, timeout: int = 0) -> dict[str, list[ev.Event]]:
        """Receive everything waiting (long-polling up to ``timeout`` s for the first batch)."""
        received: dict[str, list[ev.Event]] = {}
        by_host_id = {p.talks_host_id: alias for alias, p in self.talks.items()}
        sessions_before = self._session_count()
        while True:
            deliveries, cursor = self.host.sync(since=self.cursor, timeout=timeout, limit=100)
            if not deliveries:
                break
            for delivery in deliveries:
                alias = by_host_id.get(delivery.talks_id)
                if alias is None:
                    self.stray += 1
                    continue
                events = self.talks[alias].receive([delivery])
                received.setdefault(alias, []).extend(events)
            self.cursor = cursor
            # Durable first, acknowledged second: a crash in between only re-reads.
            self.save()
            self.host.ack([d.position for d in deliveries])
            timeout = 0
        used = self._session_count() - sessions_before
        if used > 0:
            self.host.publish_one_time_keys(used)
        for participant in self.talks.values():
            participant.watch()
            # Post a cosigned checkpoint in the talks from time to time, for peers to compare.
            if participant.witness.size >= participant.witness.posted_size + POST_EVERY:
                participant.post_checkpoint()
        self.save()
        return received

    # --- verifying another device ---------------------------------------------------------

    def verify_with_sas(self, alias: str, peer_name: str, *, timeout: float = 120) -> ShortCodes:
        """Run a SAS exchange with another device of the talks (both sides run it at once).

        Each side sends an ephemeral key inside its Olm session with the other and waits for the
        other's; both derive the same short codes unless someone sits in the middle. The caller
        shows them, and marks the device verified (:meth:`mark_verified`) once people compared.
        """
        participant = self.participant(alias)
        peer = participant.directory.find(peer_name)
        exchange = SasExchange()
        participant.send_items({peer.host_device: [{"sas": b64(exchange.public_key)}]})
        deadline = time.monotonic() + timeout
        while peer.host_device not in participant.sas_inbox:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise VerificationTimedOut(
                    f"{peer_name} did not answer; run verify-device on both devices at once"
                )
            self.sync(timeout=max(1, min(5, int(remaining))))
        theirs = participant.sas_inbox.pop(peer.host_device)
        sides = sorted(
            [(self.device.device_id, b64(exchange.public_key)), (peer.host_device, b64(theirs))]
        )
        info = "backchannel/sas/v1|" + "|".join(f"{d}={k}" for d, k in sides)
        return exchange.complete(theirs, info)

    def mark_verified(self, alias: str, peer_name: str) -> str:
        """Record that the device's identity was compared out of band; its host device id."""
        participant = self.participant(alias)
        peer = participant.directory.find(peer_name)
        participant.verified.add(peer.host_device)
        self.save()
        return peer.host_device

    def _session_count(self) -> int:
        return sum(len(sessions) for sessions in self.sessions.peers.values())

    @staticmethod
    def _now(participant: Participant, actor: str) -> datetime:
        # An actor's events must not go back in time, even if the clock does.
        now = datetime.now(UTC).replace(microsecond=0)
        last = participant.view.last_at_of(actor)
        return now if last is None or now >= last else last


def _lock(path: Path) -> int:
    handle = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        raise ProfileBusy(f"another process has the profile in {path} open") from None
    return handle


class SyncLoop:
    """Keep a profile synced in a background thread, long-polling the host.

    Every call on the profile from other threads must hold :attr:`lock` too (the loop holds it
    while it applies a batch, not while it waits). ``on_events`` gets each batch of newly applied
    events by talks alias; ``on_error`` gets a failure (the loop retries after ``backoff`` s).
    """

    def __init__(
        self,
        profile: Profile,
        on_events: Callable[[dict[str, list[ev.Event]]], None],
        *,
        on_error: Callable[[BackchannelError], None] | None = None,
        poll_seconds: int = 20,
        backoff: float = 2.0,
    ) -> None:
        self.profile = profile
        self.lock = threading.RLock()
        self._on_events = on_events
        self._on_error = on_error
        self._poll = poll_seconds
        self._backoff = backoff
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backchannel-sync", daemon=True)
        # Waiting happens on a second connection, so a long poll never blocks the profile's own.
        self._waiter = HostClient(profile.host_url, profile.device)

    def start(self) -> SyncLoop:
        """Start the thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop at once: after this returns the loop never touches the profile again.

        A long poll under way is not waited for (up to ``poll_seconds``): its thread sees the
        stop when it ends, takes nothing, closes its connection and exits.
        """
        with self.lock:
            self._stop.set()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._once()
        finally:
            self._waiter.close()

    def _once(self) -> None:
        try:
            with self.lock:
                since = self.profile.cursor
            # Wait without the lock until something is queued after our cursor...
            waiting, _ = self._waiter.sync(since=since, timeout=self._poll, limit=1)
            if not waiting:
                return
            # ...then take everything under the lock, through the profile, unless stopped.
            with self.lock:
                if self._stop.is_set():
                    return
                received = self.profile.sync()
            if received:
                self._on_events(received)
        except BackchannelError as error:
            if self._stop.is_set():
                return
            if self._on_error is not None:
                self._on_error(error)
            self._stop.wait(self._backoff)
