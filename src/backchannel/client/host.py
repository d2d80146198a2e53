"""A device's connection to a host: every route, typed, with device-key login.

The host answers errors as RFC 9457 problem details with a stable ``code``; this client raises the
matching :class:`~backchannel.errors.BackchannelError` subclass (e.g. ``keys.claimed`` →
:class:`OneTimeKeyClaimed`), or :class:`HostRefused` for a code it does not know. Binary values
travel as base64. A token that expires is renewed once, transparently, by signing a new challenge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from backchannel import errors
from backchannel.crypto.device import Device, DeviceCertificate
from backchannel.crypto.signed import (
    Identity,
    b64,
    challenge_message,
    revocation_message,
    unb64,
)
from backchannel.record.merkle import ConsistencyProof, InclusionProof


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the host answered a send: its place in the talks, and in the record if logged."""

    seq: int
    leaf_index: int | None
    logged_at_ms: int | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One ciphertext addressed to this device, at its position in the device's queue."""

    position: int
    talks_id: str
    seq: int
    sender_device: str
    sent_at: int
    ciphertext: bytes


@dataclass(frozen=True, slots=True)
class BlobState:
    """What the host holds of a blob: its declared chunk count and size, and what is missing."""

    chunks: int
    size: int
    missing: tuple[int, ...]
    complete: bool


def _blob_state(data: dict[str, Any]) -> BlobState:
    return BlobState(
        int(data["chunks"]), int(data["size"]), tuple(data["missing"]), bool(data["complete"])
    )


def _error_classes() -> dict[str, type[errors.BackchannelError]]:
    found: dict[str, type[errors.BackchannelError]] = {}
    pending: list[type[errors.BackchannelError]] = [errors.BackchannelError]
    while pending:
        cls = pending.pop()
        # Only classes built from (message, detail) can be raised from a problem document.
        if cls.__init__ is errors.BackchannelError.__init__:
            found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found


_ERRORS = _error_classes()

#: Unclaimed one-time keys a device keeps on the host (vodozemac holds at most 50).
TOP_UP_TARGET = 20


class HostClient:
    """One device's session with one host."""

    def __init__(
        self,
        base_url: str,
        device: Device,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.device = device
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        self._token: str | None = None

    def close(self) -> None:
        """Close the connection."""
        self._http.close()

    def __enter__(self) -> HostClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- identity, device, login ----------------------------------------------------------

    def register(self, identity: Identity) -> DeviceCertificate:
        """Register this device under ``identity`` (which signs its certificate)."""
        certificate = self.device.certify(identity)
        self._call(
            "POST",
            "/v1/devices",
            {
                "device_id": certificate.device_id,
                "identity": b64(certificate.identity),
                "curve25519": b64(certificate.curve25519),
                "ed25519": b64(certificate.ed25519),
                "certificate": b64(certificate.signature),
            },
            auth=False,
        )
        return certificate

    def login(self) -> None:
        """Answer a fresh challenge with the device key and keep the bearer token."""
        device_id = self.device.device_id
        issued = self._call("POST", "/v1/auth/challenge", {"device_id": device_id}, auth=False)
        challenge = unb64(issued["challenge"])
        signature = self.device.sign(challenge_message(device_id, challenge))
        answer = {"device_id": device_id, "challenge": b64(challenge), "signature": b64(signature)}
        self._token = self._call("POST", "/v1/auth/token", answer, auth=False)["token"]

    def device_certificate(self, device_id: str, invite: str | None = None) -> DeviceCertificate:
        """Another device's public keys and certificate, as the host holds them (verify them!).

        The host shows a device only to its peers (devices in a talks with it); a joiner not
        admitted yet passes the host ``invite`` code it holds."""
        params = None if invite is None else {"invite": invite}
        data = self._call("GET", f"/v1/devices/{device_id}", params=params)
        return DeviceCertificate(
            data["device_id"],
            unb64(data["identity"]),
            unb64(data["curve25519"]),
            unb64(data["ed25519"]),
            unb64(data["certificate"]),
        )

    def revoke_device(self, device_id: str, identity: Identity | None = None) -> None:
        """Revoke a device at the host: this one by its token, or another device of the same
        identity by that identity's signature."""
        if identity is None:
            self._call("POST", f"/v1/devices/{device_id}/revoke", {})
            return
        signature = identity.sign(revocation_message(device_id, identity.public_key))
        body = {"signature": b64(signature)}
        self._call("POST", f"/v1/devices/{device_id}/revoke", body, auth=False)

    # --- one-time keys ----------------------------------------------------------------------

    def publish_one_time_keys(self, count: int) -> int:
        """Generate and upload ``count`` one-time keys; returns how many are unclaimed."""
        keys = self.device.publish_one_time_keys(count)
        body = {"keys": [{"key_id": k, "key": b64(v)} for k, v in sorted(keys.items())]}
        return int(self._call("POST", "/v1/keys/one-time", body)["unclaimed"])

    def claim_one_time_key(self, device_id: str, invite: str | None = None) -> bytes:
        """Claim one of a peer's one-time keys (each is handed out once), or its fallback key
        once none is left. Only a peer may claim: a device sharing a talks with it, or (before
        it is admitted) one holding a live host ``invite`` code to such a talks."""
        body: dict[str, Any] = {"device_id": device_id}
        if invite is not None:
            body["invite"] = invite
        return unb64(self._call("POST", "/v1/keys/claim", body)["key"])

    def key_status(self) -> tuple[int, bool]:
        """How many of this device's one-time keys are unclaimed, and whether it has a fallback."""
        data = self._call("GET", "/v1/keys/one-time")
        return int(data["unclaimed"]), bool(data["fallback"])

    def publish_fallback_key(self) -> None:
        """Generate and upload a fresh fallback key (it replaces the previous one on the host)."""
        key_id, key = self.device.publish_fallback_key()
        self._call("POST", "/v1/keys/fallback", {"key_id": key_id, "key": b64(key)})

    def top_up_one_time_keys(self, target: int = TOP_UP_TARGET) -> int:
        """Bring the unclaimed one-time keys back up to ``target`` (from the host's count, so
        claims since the last upload are made good) and make sure a fallback key is there;
        returns how many keys were uploaded. Call after registering and after each sync: the
        device account pickle changes, so save the profile afterwards."""
        unclaimed, fallback = self.key_status()
        missing = max(0, min(target, self.device.account.max_number_of_one_time_keys) - unclaimed)
        if missing:
            self.publish_one_time_keys(missing)
        if not fallback:
            self.publish_fallback_key()
        return missing

    # --- talks ------------------------------------------------------------------------------

    def create_talks(self) -> str:
        """A new talks (an opaque id); this device is admitted."""
        return str(self._call("POST", "/v1/talks", {})["talks_id"])

    def talks_devices(self, talks_id: str) -> list[str]:
        """The device ids admitted to a talks."""
        return [m["device_id"] for m in self._call("GET", f"/v1/talks/{talks_id}")["members"]]

    def invite(self, talks_id: str, ttl_seconds: int = 3600) -> str:
        """A single-use invite code for another device."""
        return str(
            self._call("POST", f"/v1/talks/{talks_id}/invites", {"ttl_seconds": ttl_seconds})[
                "code"
            ]
        )

    def accept(self, code: str) -> str:
        """Accept an invite; returns the talks id this device is now admitted to."""
        return str(self._call("POST", "/v1/invites/accept", {"code": code})["talks_id"])

    # --- messages -----------------------------------------------------------------------------

    def send(
        self,
        talks_id: str,
        client_msg_id: str,
        ciphertexts: dict[str, bytes],
        entry: bytes | None = None,
    ) -> Receipt:
        """Send one ciphertext per recipient device (idempotent per ``client_msg_id``).

        ``entry`` (the event's commitment and recipient tags, ``record/entry.py``) is appended to
        the talks' record, with the host's time, in the same transaction.
        """
        body: dict[str, Any] = {
            "client_msg_id": client_msg_id,
            "ciphertexts": {device: b64(data) for device, data in ciphertexts.items()},
        }
        if entry is not None:
            body["entry"] = b64(entry)
        data = self._call("POST", f"/v1/talks/{talks_id}/messages", body)
        return Receipt(int(data["seq"]), data.get("leaf_index"), data.get("logged_at"))

    def log_entries(self, talks_id: str, start: int = 0, end: int | None = None) -> list[bytes]:
        """Leaf commitments ``[start, end)`` of the talks' record."""
        params: dict[str, Any] = {"start": start} | ({} if end is None else {"end": end})
        data = self._call("GET", f"/v1/talks/{talks_id}/log/entries", params=params)
        return [unb64(entry) for entry in data["entries"]]

    def log_checkpoint(self, talks_id: str) -> dict[str, Any]:
        """The talks' latest checkpoint: ``checkpoint`` (the signed note) and ``vkey``."""
        return dict(self._call("GET", f"/v1/talks/{talks_id}/log/checkpoint"))

    def log_inclusion(self, talks_id: str, index: int, size: int) -> InclusionProof:
        """The audit path of leaf ``index`` in the tree of ``size`` leaves."""
        params = {"index": index, "size": size}
        data = self._call("GET", f"/v1/talks/{talks_id}/log/inclusion", params=params)
        path = tuple(unb64(h) for h in data["path"])
        return InclusionProof(int(data["leaf_index"]), int(data["tree_size"]), path)

    def log_consistency(self, talks_id: str, first: int, second: int) -> ConsistencyProof:
        """The consistency proof from ``first`` leaves to ``second``."""
        params = {"from": first, "to": second}
        data = self._call("GET", f"/v1/talks/{talks_id}/log/consistency", params=params)
        path = tuple(unb64(h) for h in data["path"])
        return ConsistencyProof(int(data["from"]), int(data["to"]), path)

    def sync(
        self, since: int = 0, timeout: int = 0, limit: int = 100
    ) -> tuple[list[Delivery], int]:
        """Deliveries after position ``since`` (waiting up to ``timeout`` s); the next cursor."""
        params = {"since": since, "timeout": timeout, "limit": limit}
        data = self._call("GET", "/v1/sync", params=params)
        deliveries = [
            Delivery(
                d["position"],
                d["talks_id"],
                d["seq"],
                d["sender_device"],
                d["sent_at"],
                unb64(d["ciphertext"]),
            )
            for d in data["deliveries"]
        ]
        return deliveries, int(data["next"])

    def ack(self, positions: list[int]) -> int:
        """Acknowledge deliveries by position."""
        return int(self._call("POST", "/v1/sync/ack", {"positions": positions})["acked"])

    # --- plumbing -----------------------------------------------------------------------------

    # --- blobs (documents' ciphertext) -------------------------------------------------------

    def declare_blob(self, talks_id: str, blob_id: str, chunks: int, size: int) -> BlobState:
        """Declare a blob (again, to resume: the answer names the chunks still missing)."""
        body = {"chunks": chunks, "size": size}
        return _blob_state(self._call("PUT", f"/v1/talks/{talks_id}/blobs/{blob_id}", body))

    def blob_state(self, talks_id: str, blob_id: str) -> BlobState:
        """Which chunks of a blob the host holds."""
        return _blob_state(self._call("GET", f"/v1/talks/{talks_id}/blobs/{blob_id}"))

    def put_chunk(self, talks_id: str, blob_id: str, index: int, data: bytes) -> BlobState:
        """Upload one chunk of this device's blob."""
        path = f"/v1/talks/{talks_id}/blobs/{blob_id}/chunks/{index}"
        return _blob_state(self._call("PUT", path, {"data": b64(data)}))

    def get_chunk(self, talks_id: str, blob_id: str, index: int) -> bytes:
        """One chunk of a complete blob, as the host returns it (the caller verifies it)."""
        path = f"/v1/talks/{talks_id}/blobs/{blob_id}/chunks/{index}"
        data = self._call("GET", path)
        try:
            return unb64(data["data"])
        except (KeyError, TypeError, ValueError) as exc:
            raise errors.DocumentCorrupt("the host's chunk is malformed") from exc

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, Any] | None = None,
        auth: bool = True,
    ) -> Any:
        for attempt in (1, 2):
            headers = {}
            if auth:
                if self._token is None:
                    self.login()
                headers["authorization"] = f"Bearer {self._token}"
            try:
                response = self._http.request(
                    method, path, json=body, params=params, headers=headers
                )
            except httpx.HTTPError as exc:
                raise errors.HostUnreachable(f"the host did not answer: {exc}") from exc
            if response.status_code < 400:
                return response.json()
            problem = _problem(response)
            if auth and attempt == 1 and problem.get("code") == "auth.expired":
                self._token = None
                continue
            raise _raise(problem, response.status_code)
        raise AssertionError("unreachable")  # pragma: no cover


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"title": response.reason_phrase}
    return data if isinstance(data, dict) else {"title": response.reason_phrase}


def _raise(problem: dict[str, Any], status: int) -> errors.BackchannelError:
    code = str(problem.get("code", ""))
    message = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
    cls = _ERRORS.get(code)
    if cls is not None:
        return cls(message)
    return errors.HostRefused(message, detail={"code": code, "status": status})
