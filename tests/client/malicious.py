"""A malicious host and a modified device, for tests only.

A malicious host is the real host, wrapped so its record routes lie.

The wrapper answers the four record routes (checkpoint, inclusion, consistency, entries) of the
devices it targets from a **forged** log — the true entries read from the host's own database,
then transformed — and signs forged checkpoints with the host's real log key, exactly as a
compromised host could. Every other request goes to the real app. Nothing in ``src/`` can reach
this: it is an ASGI wrapper the tests put in front of ``create_app``.

A modified device (:func:`forge`) is a real profile whose acts skip its own engine and tokens.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from nacl.signing import SigningKey
from starlette.types import ASGIApp, Receive, Scope, Send

from backchannel.client import acts
from backchannel.client.driver import Driver
from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.client.wire import Outgoing
from backchannel.crypto.signed import b64, sign_act
from backchannel.crypto.tags import padded
from backchannel.engine import events as ev
from backchannel.record.checkpoint import Checkpoint, NoteKey, sign_checkpoint
from backchannel.record.leaf import commit
from backchannel.record.tree import MerkleTree
from backchannel.store import open_store

_ROUTE = re.compile(r"^/v1/talks/([^/]+)/log/(checkpoint|inclusion|consistency|entries)$")

#: Entries as the database holds them → entries as the targeted devices are shown them.
Forgery = Callable[[list[bytes]], list[bytes]]


class MaliciousHost:
    """The host's app, with its record forged for the bearer tokens in :attr:`targets`."""

    def __init__(self, app: ASGIApp, db_url: str, log_key: SigningKey, host_name: str) -> None:
        self.app = app
        self.db_url = db_url
        self.log_key = log_key
        self.host_name = host_name
        self.forgery: Forgery | None = None
        self.targets: set[str] = set()  # bearer tokens; empty: every device
        #: Withhold from the targets every delivery of these talks events (by seq).
        self.withheld: set[int] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("path") == "/v1/sync"
            and self.withheld
            and self._targeted(scope)
        ):
            await self.app(scope, receive, self._withholding(send))
            return
        match = _ROUTE.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or self.forgery is None or not self._targeted(scope):
            await self.app(scope, receive, send)
            return
        talks_id, route = match.groups()
        query = dict(
            part.split("=", 1) for part in scope["query_string"].decode().split("&") if part
        )
        body = self._answer(talks_id, route, {k: int(v) for k, v in query.items()})
        data = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    def _withholding(self, send: Send) -> Send:
        """A ``send`` that removes the withheld deliveries from a sync answer."""
        start: dict[str, Any] = {}
        body = bytearray()

        async def filtered(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            data = json.loads(bytes(body))
            if isinstance(data, dict) and "deliveries" in data:
                data["deliveries"] = [
                    d for d in data["deliveries"] if d["seq"] not in self.withheld
                ]
            raw = json.dumps(data).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", b"%d" % len(raw)))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": raw})

        return filtered  # type: ignore[return-value]

    def _targeted(self, scope: Scope) -> bool:
        if not self.targets:
            return True
        headers = dict(scope["headers"])
        token = headers.get(b"authorization", b"").decode().removeprefix("Bearer ")
        return token in self.targets

    def _answer(self, talks_id: str, route: str, query: dict[str, int]) -> dict[str, Any]:
        store = open_store(self.db_url, migrate=False)
        try:
            truth = store.log_entries(talks_id, 0, store.log_size(talks_id))
        finally:
            store.close()
        assert self.forgery is not None
        entries = self.forgery(truth)
        tree = MerkleTree()
        tree.extend(entries)
        size = tree.size
        if route == "checkpoint":
            origin = f"backchannel/{self.host_name}/{talks_id}"
            note = sign_checkpoint(Checkpoint(origin, size, tree.root()), origin, self.log_key)
            return {
                "origin": origin,
                "tree_size": size,
                "root": b64(tree.root()),
                "checkpoint": note.encode(),
                "vkey": NoteKey(origin, bytes(self.log_key.verify_key)).vkey(),
            }
        if route == "inclusion":
            proof = tree.inclusion_proof(query["index"], query.get("size", size))
            return {
                "leaf_index": proof.leaf_index,
                "tree_size": proof.tree_size,
                "path": [b64(h) for h in proof.path],
            }
        if route == "consistency":
            second = query.get("to", size)
            proof = tree.consistency_proof(query["from"], second)
            return {"from": proof.first_size, "to": second, "path": [b64(h) for h in proof.path]}
        start, end = query["start"], query.get("end", size)
        return {"start": start, "tree_size": size, "entries": [b64(e) for e in entries[start:end]]}


# --- a modified device -------------------------------------------------------------------------


def forge(
    driver: Driver,
    participant: Participant,
    event: ev.Event,
    *,
    to: Iterable[str] | None = None,
    **item: Any,
) -> Outgoing:
    """Send ``event`` as a modified device would: signed and recorded like an honest act, but
    past its own engine and token checks, with ``item``'s fields replacing the honest item's
    (e.g. ``mandate``, ``words``, ``signature``, ``original``), to the devices ``to`` (default:
    every live device). Returns what was sent."""
    honest = acts.sign(participant.identity, participant.talks_host_id, participant.tip(), event)
    if "words" in item and honest.signature is not None:
        # Signed for the words it names, as a modified device would sign them.
        act = sign_act(participant.identity, participant.talks_host_id, honest.event, item["words"])
        honest = replace(honest, signature=act.signature)
    salt = os.urandom(32)
    sent = replace(honest, salt=salt, **item)
    commitment = commit(salt, sent.event)
    devices = [p.host_device for p in participant.directory.live()] if to is None else list(to)
    tags = [
        participant.tag_key.tag(
            participant.directory.peers[d].tag_key, participant.talks_host_id, d, commitment
        )
        for d in devices
    ]
    out = Outgoing(
        {d: [sent] for d in devices}, commitment + b"".join(padded(tags, os.urandom)), commitment
    )
    driver.send(participant, out)
    return out


def forge_as(profile: Profile, event: ev.Event, *, alias: str = "t", **item: Any) -> Outgoing:
    """:func:`forge` from a profile's device."""
    return forge(profile.driver, profile.talks[alias], event, **item)
