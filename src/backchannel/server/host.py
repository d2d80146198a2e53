"""The host's services: what each route does, between the parsed request and the store.

:class:`Host` holds the store, the limits and the clock (all passed in at start-up). Its methods
take parsed values and the authenticated device, apply the host's few rules — a revoked device may
do nothing, a device reads only what is addressed to it and posts only into talks it was admitted
to — and call the (blocking) store in a worker thread. :class:`Notifier` wakes long-polls and
WebSockets of the recipients of a send; it lives on the event loop, in one process.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import anyio
import anyio.to_thread

from backchannel.errors import (
    AuthInvalid,
    AuthRequired,
    BlobIncomplete,
    Forbidden,
    InputError,
    KeysExhausted,
    NotFound,
    PayloadTooLarge,
    ReplayDetected,
    SignatureInvalid,
    StoreConflict,
    StoreError,
    TokenExpired,
)
from backchannel.record.entry import stamp
from backchannel.record.merkle import ConsistencyProof, InclusionProof
from backchannel.server import auth
from backchannel.server.limits import Limits
from backchannel.server.log import RecordService, SignedHead
from backchannel.store import (
    Append,
    Blob,
    Delivery,
    Device,
    Invite,
    OneTimeKey,
    Store,
    Talks,
    Token,
)

_log = logging.getLogger("backchannel.server")
_PURGE_GRACE_MS = 24 * 60 * 60 * 1000

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Issued:
    """A secret the host handed out (token, invite code) and when it stops working (ms)."""

    secret: str
    expires_at: int


class Notifier:
    """Wakes every waiter of a device when something new is addressed to it.

    Lives on the event loop. Sends in this process call :meth:`notify` directly; sends through
    other processes on the same PostgreSQL reach it through the store's :meth:`Store.watch`.
    :meth:`close` (at shutdown) wakes every waiter at once, and every later one immediately, so
    long polls answer and sockets close instead of holding the shutdown up.
    """

    def __init__(self) -> None:
        self._events: dict[str, anyio.Event] = {}
        self.closed = False

    def subscribe(self, device_id: str) -> anyio.Event:
        """The event the next delivery to the device will set (take it before reading)."""
        event = self._events.get(device_id)
        if event is None:
            event = self._events[device_id] = anyio.Event()
            if self.closed:
                event.set()
        return event

    def close(self) -> None:
        """Wake every waiter, now and from now on (the host is shutting down)."""
        self.closed = True
        self.notify(list(self._events))

    def notify(self, device_ids: Iterable[str]) -> None:
        """Wake the waiters of these devices."""
        for device_id in device_ids:
            event = self._events.pop(device_id, None)
            if event is not None:
                event.set()


class Host:
    """The host's services, one method per route."""

    def __init__(
        self,
        store: Store,
        limits: Limits,
        clock: Callable[[], float],
        record: RecordService,
        notifier: Notifier | None = None,
    ) -> None:
        self.store = store
        self.limits = limits
        self.clock = clock
        self.record = record
        self.notifier = notifier or Notifier()
        #: Token hash → (device id, expiry ms) of tokens seen valid: the rate limiter's way to
        #: tell a device from a stranger without touching the database.
        self._tokens: dict[bytes, tuple[str, int]] = {}

    def now_ms(self) -> int:
        """The current time in milliseconds since the epoch (from the injected clock)."""
        return int(self.clock() * 1000)

    async def _run(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))

    # --- devices and authentication ---

    async def register_device(
        self, device_id: str, identity: bytes, curve25519: bytes, ed25519: bytes, certificate: bytes
    ) -> Device:
        """Register a device whose certificate its identity key signed."""
        message = auth.certificate_message(device_id, identity, curve25519, ed25519)
        auth.verify(identity, message, certificate)
        device = Device(device_id, identity, curve25519, ed25519, certificate, self.now_ms())
        try:
            await self._run(self.store.add_device, device)
        except StoreConflict as exc:
            raise StoreConflict(
                "A device with this id or key is already registered.", detail=exc.detail
            ) from exc
        return device

    async def device(self, device_id: str) -> Device:
        """A device's public record; NotFound if unknown."""
        device = await self._run(self.store.get_device, device_id)
        if device is None:
            raise NotFound("No such device.", detail={"device_id": device_id})
        return device

    async def visible_device(self, viewer: Device, device_id: str, invite: str | None) -> Device:
        """A device's record for a peer: a device of the same identity, a device sharing a talks
        with it, or the holder of a live invite to such a talks. To anyone else it does not
        exist (the same NotFound as an unknown id), so its existence and keys stay between its
        peers."""
        target = await self._run(self.store.get_device, device_id)
        hidden = NotFound("No such device.", detail={"device_id": device_id})
        if target is None:
            raise hidden
        if target.identity_key != viewer.identity_key:
            shared = await self._run(self.store.shares_talks, viewer.device_id, device_id)
            if not shared and invite is not None:
                shared = await self._run(
                    self.store.invite_reaches, auth.secret_hash(invite), device_id, self.now_ms()
                )
            if not shared:
                raise hidden
        return target

    async def active_device(self, device_id: str) -> Device:
        """A registered, unrevoked device; NotFound or Forbidden otherwise."""
        device = await self.device(device_id)
        if device.revoked:
            raise Forbidden("This device was revoked.", detail={"device_id": device_id})
        return device

    async def revoke_device(
        self, actor: Device | None, device_id: str, signature: bytes | None
    ) -> Device:
        """Revoke a device: by itself (its token), or by its identity key's signature.

        An unknown id fails exactly as a wrong signature does, and another device's token is
        refused before the target is looked up: neither tells whether the device exists.
        """
        if signature is None:
            if actor is None:
                raise AuthRequired("Revoking needs the device's token or its identity's signature.")
            if actor.device_id != device_id:
                raise Forbidden("A device may revoke only itself without an identity signature.")
        else:
            target = await self._run(self.store.get_device, device_id)
            if target is None:
                raise SignatureInvalid("The signature does not verify.")
            message = auth.revocation_message(device_id, target.identity_key)
            auth.verify(target.identity_key, message, signature)
        revoked = await self._run(self.store.revoke_device, device_id, self.now_ms())
        assert revoked is not None
        self.notifier.notify([device_id])
        return revoked

    async def issue_challenge(self, device_id: str) -> Issued:
        """A fresh single-use challenge for a device to sign.

        An unknown or revoked id gets a challenge too, one that is never stored (so no answer
        to it works): the route says nothing about which devices exist.
        """
        nonce = secrets.token_bytes(32)
        expires_at = self.now_ms() + self.limits.challenge_ttl_s * 1000
        device = await self._run(self.store.get_device, device_id)
        if device is not None and not device.revoked:
            await self._run(self.store.add_challenge, nonce, device_id, expires_at)
        return Issued(auth.b64(nonce), expires_at)

    async def issue_token(self, device_id: str, challenge: bytes, signature: bytes) -> Issued:
        """Exchange a signed challenge for a short-lived bearer token."""
        device = await self._run(self.store.get_device, device_id)
        if device is None:
            raise AuthInvalid("The challenge signature does not verify.")
        try:
            auth.verify(device.ed25519, auth.challenge_message(device_id, challenge), signature)
        except SignatureInvalid as exc:
            raise AuthInvalid("The challenge signature does not verify.") from exc
        if device.revoked:
            raise Forbidden("This device was revoked.", detail={"device_id": device_id})
        outcome = await self._run(self.store.consume_challenge, challenge, device_id, self.now_ms())
        if outcome == "replayed":
            raise ReplayDetected("This challenge was already used.")
        if outcome == "expired":
            raise TokenExpired("This challenge expired; ask for a new one.")
        if outcome == "unknown":
            raise AuthInvalid("This challenge was not issued to this device.")
        token = auth.new_secret()
        expires_at = self.now_ms() + self.limits.token_ttl_s * 1000
        await self._run(self.store.add_token, Token(auth.secret_hash(token), device_id, expires_at))
        self._remember(auth.secret_hash(token), device_id, expires_at)
        return Issued(token, expires_at)

    def _remember(self, token_hash: bytes, device_id: str, expires_at: int) -> None:
        if len(self._tokens) >= self.limits.max_cached_tokens:
            now = self.now_ms()
            self._tokens = {h: v for h, v in self._tokens.items() if v[1] > now}
            while len(self._tokens) >= self.limits.max_cached_tokens:
                self._tokens.pop(next(iter(self._tokens)))
        self._tokens[token_hash] = (device_id, expires_at)

    def known_device(self, token: str) -> str | None:
        """The device a token was seen valid for, from memory only (no database lookup);
        None for a token this process does not know (made up, expired, or issued elsewhere)."""
        known = self._tokens.get(auth.secret_hash(token))
        if known is None or known[1] <= self.now_ms():
            return None
        return known[0]

    async def authenticate(self, token: str) -> Device:
        """The unrevoked device a bearer token belongs to."""
        stored = await self._run(self.store.get_token, auth.secret_hash(token))
        if stored is None:
            raise AuthInvalid("The bearer token is not valid.")
        if stored.expires_at <= self.now_ms():
            raise TokenExpired("The bearer token expired; sign a new challenge.")
        device = await self.active_device(stored.device_id)
        self._remember(stored.token_hash, device.device_id, stored.expires_at)
        return device

    # --- one-time keys ---

    async def upload_one_time_keys(self, device: Device, keys: Sequence[dict[str, Any]]) -> int:
        """Store the device's one-time keys; return how many it has unclaimed."""
        batch = [OneTimeKey(device.device_id, k["key_id"], k["key"]) for k in keys]
        if len({k.key_id for k in batch}) != len(batch):
            raise StoreConflict("A key id appears twice in the upload.")
        await self._run(self.store.add_one_time_keys, device.device_id, batch, self.now_ms())
        return await self._run(self.store.count_one_time_keys, device.device_id)

    async def upload_fallback_key(self, device: Device, key_id: str, key: bytes) -> None:
        """Store the device's fallback key (replacing its previous one)."""
        await self._run(
            self.store.set_fallback_key, OneTimeKey(device.device_id, key_id, key), self.now_ms()
        )

    async def key_count(self, device: Device) -> tuple[int, bool]:
        """How many one-time keys the device has unclaimed, and whether it has a fallback key."""
        count = await self._run(self.store.count_one_time_keys, device.device_id)
        return count, await self._run(self.store.has_fallback_key, device.device_id)

    async def claim_one_time_key(
        self, device: Device, target_id: str, key_id: str | None, invite: str | None = None
    ) -> OneTimeKey:
        """Claim one of a peer's one-time keys, once (its fallback key when none is left).

        Only a peer may claim (a device sharing a talks with the target, or holding a live invite
        to one); to anyone else the target does not exist. So a registered outsider cannot
        exhaust a device's keys, and the fallback key means sessions can always start.
        """
        target = await self.visible_device(device, target_id, invite)
        if target.revoked:
            raise NotFound("No such device.", detail={"device_id": target_id})
        key = await self._run(
            self.store.claim_one_time_key, target_id, device.device_id, self.now_ms(), key_id
        )
        if key is None:
            raise KeysExhausted("This device has no such unclaimed one-time key.")
        return key

    # --- talks ---

    async def create_talks(self, device: Device) -> Talks:
        """Create a talks with a random opaque id; its creator is admitted."""
        talks = Talks(secrets.token_urlsafe(16), device.device_id, self.now_ms())
        await self._run(self.store.create_talks, talks)
        return talks

    async def _admitted_talks(self, device: Device, talks_id: str) -> Talks:
        talks = await self._run(self.store.get_talks, talks_id)
        if talks is None:
            raise NotFound("No such talks.", detail={"talks_id": talks_id})
        if not await self._run(self.store.is_admitted, talks_id, device.device_id):
            raise Forbidden("This device is not admitted to the talks.")
        return talks

    async def talks(self, device: Device, talks_id: str) -> tuple[Talks, list[Device]]:
        """A talks and its admitted devices, for an admitted device."""
        talks = await self._admitted_talks(device, talks_id)
        return talks, await self._run(self.store.members, talks_id)

    async def create_invite(self, device: Device, talks_id: str, ttl_s: int | None) -> Issued:
        """A single-use invite code to the talks, from an admitted device."""
        await self._admitted_talks(device, talks_id)
        code = auth.new_secret()
        now = self.now_ms()
        expires_at = now + (ttl_s or self.limits.default_invite_ttl_s) * 1000
        invite = Invite(auth.secret_hash(code), talks_id, device.device_id, now, expires_at)
        await self._run(self.store.add_invite, invite)
        return Issued(code, expires_at)

    async def accept_invite(self, device: Device, code: str) -> str:
        """Use an invite code; the device is admitted. Returns the talks id."""
        return await self._run(
            self.store.accept_invite, auth.secret_hash(code), device.device_id, self.now_ms()
        )

    # --- messages and sync ---

    async def send(
        self,
        device: Device,
        talks_id: str,
        client_msg_id: str,
        ciphertexts: Mapping[str, bytes],
        entry: bytes | None = None,
    ) -> Append:
        """Store one event with a ciphertext per recipient device and wake the recipients.

        An ``entry`` (the client's commitment to the event and its recipient tags) is appended
        to the talks' log, stamped with the host's time (:func:`record.entry.stamp`), in the
        event's own transaction; a fresh checkpoint is signed afterwards.
        """
        await self._admitted_talks(device, talks_id)
        now = self.now_ms()
        result = await self._run(
            self.store.append_event,
            talks_id,
            device.device_id,
            client_msg_id,
            now,
            ciphertexts,
            None if entry is None else stamp(entry, now),
        )
        if result.created:
            self.notifier.notify(ciphertexts)
            if entry is not None:
                await self._run(self.record.refresh, talks_id)
        return result

    # --- blobs (documents' ciphertext) ---

    async def declare_blob(
        self, device: Device, talks_id: str, blob_id: str, chunks: int, size: int
    ) -> Blob:
        """Declare a blob of the device's in a talks it was admitted to (idempotent)."""
        await self._admitted_talks(device, talks_id)
        if size > self.limits.max_blob_bytes:
            raise PayloadTooLarge(
                f"A document's blob is at most {self.limits.max_blob_bytes} bytes."
            )
        if not chunks <= size <= chunks * self.limits.max_chunk_bytes:
            raise InputError(
                "size: must be between one and max_chunk_bytes bytes per chunk",
                detail={"field": "size"},
            )
        blob = Blob(talks_id, blob_id, device.device_id, chunks, size, self.now_ms())
        return await self._run(self.store.declare_blob, blob)

    async def blob(self, device: Device, talks_id: str, blob_id: str) -> Blob:
        """A blob's state (which chunks it holds), for a device of its talks."""
        await self._admitted_talks(device, talks_id)
        blob = await self._run(self.store.get_blob, talks_id, blob_id)
        if blob is None:
            raise NotFound("No such blob.", detail={"blob_id": blob_id})
        return blob

    async def put_chunk(
        self, device: Device, talks_id: str, blob_id: str, index: int, data: bytes
    ) -> Blob:
        """Store one chunk of the device's own blob."""
        await self._admitted_talks(device, talks_id)
        return await self._run(
            self.store.put_blob_chunk, talks_id, blob_id, device.device_id, index, data
        )

    async def chunk(self, device: Device, talks_id: str, blob_id: str, index: int) -> bytes:
        """One chunk of a complete blob, for a device of its talks."""
        blob = await self.blob(device, talks_id, blob_id)
        if not blob.complete:
            raise BlobIncomplete("This document's upload is not complete yet.")
        data = await self._run(self.store.blob_chunk, talks_id, blob_id, index)
        if data is None:
            raise NotFound("No such chunk.", detail={"index": index})
        return data

    # --- the record ---

    async def log_checkpoint(self, device: Device, talks_id: str) -> SignedHead:
        """The talks' latest signed checkpoint, for an admitted device."""
        await self._admitted_talks(device, talks_id)
        return await self._run(self.record.checkpoint, talks_id)

    async def log_inclusion(
        self, device: Device, talks_id: str, index: int, size: int | None
    ) -> InclusionProof:
        """An inclusion proof in the talks' log, for an admitted device."""
        await self._admitted_talks(device, talks_id)
        return await self._run(self.record.inclusion, talks_id, index, size)

    async def log_consistency(
        self, device: Device, talks_id: str, first: int, second: int | None
    ) -> ConsistencyProof:
        """A consistency proof between two sizes of the talks' log, for an admitted device."""
        await self._admitted_talks(device, talks_id)
        return await self._run(self.record.consistency, talks_id, first, second)

    async def log_entries(
        self, device: Device, talks_id: str, start: int, end: int | None
    ) -> tuple[int, list[bytes]]:
        """A page of the talks' leaf entries and the tree size, for an admitted device."""
        await self._admitted_talks(device, talks_id)
        return await self._run(self.record.entries, talks_id, start, end)

    async def deliveries(self, device: Device, since: int, limit: int) -> list[Delivery]:
        """The device's deliveries after position ``since`` (nothing addressed to others)."""
        return await self._run(self.store.deliveries, device.device_id, since, limit)

    async def sync(
        self, device: Device, since: int, timeout_s: float, limit: int
    ) -> list[Delivery]:
        """The device's deliveries after ``since``, waiting up to ``timeout_s`` for the first."""
        woken = self.notifier.subscribe(device.device_id)
        found = await self.deliveries(device, since, limit)
        if found or timeout_s <= 0:
            return found
        with anyio.move_on_after(timeout_s):
            await woken.wait()
        await self.active_device(device.device_id)
        return await self.deliveries(device, since, limit)

    async def ack(self, device: Device, positions: Sequence[int]) -> int:
        """Mark the device's own deliveries as received (purged at once with no retention)."""
        marked = await self._run(self.store.ack, device.device_id, positions, self.now_ms())
        if self.limits.retention_days == 0:
            await self._run(self.store.purge_acknowledged, self.now_ms(), -1)
        return marked

    # --- housekeeping ---

    async def purge_forever(self, every_s: float) -> None:
        """Delete long-expired tokens and challenges, deliveries acknowledged longer ago than the
        retention, and blobs whose upload was given up, now and then (runs until cancelled).

        Credentials are kept for a day past expiry so a late client still hears
        ``auth.expired`` rather than ``auth.invalid``; a store hiccup is logged and retried
        next round. Purging a delivery leaves its event and the record as they were.
        """
        while True:
            try:
                now = self.now_ms()
                await self._run(self.store.purge_expired, now - _PURGE_GRACE_MS)
                await self._run(self.store.purge_acknowledged, now, self.limits.retention_days)
                abandoned = now - self.limits.abandoned_blob_s * 1000
                await self._run(self.store.purge_abandoned_blobs, abandoned)
            except StoreError as exc:
                _log.warning("purging failed: %s", exc.code)
            await anyio.sleep(every_s)
