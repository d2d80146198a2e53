"""A talks' record as one self-contained file, and its offline verification.

A device **exports** what it can prove: the host-signed checkpoint and every leaf commitment of
the log, the cosigned checkpoints its peers posted, the introductions that bind identities to
parties and members, and the openings (salt and event) of every entry it holds, each with its
inclusion proof, its actor's signature (formal acts) and its mandate token (grants). Messages are
opened only ``with_content``; formal acts (contact requests included) always are — they are
attributable on purpose.

**Verification** needs nothing but the file: the checkpoint's signature under the log key the
file names, the root recomputed from the entries, each opening against its entry and its proof,
each cosignature against its device's identity, each formal act's signature, and each member's
mandate at the time of each act — its token's chain to its party's root, bound to the actor's
key, not revoked by a revocation earlier in the log, not expired. A root's confirmation must carry
the token of a member who accepted the same copy earlier in the record, with the root's own
``confirms`` block for that copy. Anything that fails names the entry and the reason
(:class:`BundleInvalid`). The verified timeline answers who asked first, and shows each consent's
stage (agreed ad referendum, signed, confirmed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backchannel import authority
from backchannel.client.directory import Directory, Introduction
from backchannel.client.participant import FORMAL, Participant, signed
from backchannel.client.witness import witness_key
from backchannel.crypto.signed import SignedAct, b64, canonical_json, unb64, verify_act
from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.engine.rules import ARTICLE_STAGES, REQUIRED_LEVEL, Level, Stage
from backchannel.errors import BackchannelError, BundleInvalid
from backchannel.record.checkpoint import (
    Checkpoint,
    Note,
    NoteKey,
    check_cosignature,
    open_checkpoint,
)
from backchannel.record.entry import COMMITMENT_SIZE
from backchannel.record.leaf import commit
from backchannel.record.merkle import InclusionProof, check_inclusion, leaf_hash
from backchannel.record.tree import MerkleTree

FORMAT = "backchannel-record/v1"

#: Events whose words are the talks' content: opened in a bundle only ``with_content``. A draft of
#: the negotiating text is content too, but a formal act: signed, and checked against a mandate.
CONTENT = (ev.Send, ev.Propose, ev.Relay, ev.Carry, ev.DraftArticle)

#: What each consent act does to an offer (VCLT: ad referendum, signature, later confirmation).
STAGES = {
    ev.Accept: Stage.AGREED_AD_REF.value,
    ev.Sign: Stage.SIGNED.value,
    ev.Confirm: Stage.CONFIRMED.value,
}


# --- the verified timeline -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Act:
    """One verified event: where it sits in the log, who did it, and under which mandate."""

    index: int
    event: ev.Event
    party: str
    mandate: authority.Mandate | None  # None when a root authority acts, or for messages
    confirms: str | None = None  # for a confirmation: the member whose acceptance it confirms

    def _mandate_json(self) -> Any:
        if self.event.actor == self.party:
            return "root"
        return None if self.mandate is None else [x.to_json() for x in self.mandate.links]

    def to_json(self) -> dict[str, Any]:
        """The act as ``record verify --json`` and ``record timeline --json`` print it."""
        data: dict[str, Any] = {
            "index": self.index,
            "at": self.event.at.isoformat(),
            "actor": self.event.actor,
            "party": self.party,
            "action": self.event.action.value,
            "mandate": "root"
            if self.mandate is None
            else [x.to_json() for x in self.mandate.links],
        }
        stage = STAGES.get(type(self.event))
        if stage is not None:
            data["stage"] = stage
            data["proposal"] = getattr(self.event, "proposal", None)
        if isinstance(self.event, ev.Confirm):
            data["confirms"] = self.confirms
        event = self.event
        if isinstance(event, ev.RequestContact):
            data["to_party"], data["via"] = event.to_party, event.via
        if isinstance(event, ev.DraftArticle):
            data["article"] = event.article
        if isinstance(event, ev.ArticleConsent):
            data["article"], data["version"] = event.article, event.version
            data["stage"] = ARTICLE_STAGES[event.action][0].value
        return data


@dataclass
class Verified:
    """What an offline verification established."""

    talks: str
    size: int
    root: bytes
    checkpoint: str
    acts: list[Act] = field(default_factory=list)
    cosigners: list[str] = field(default_factory=list)
    sealed: int = 0  # log entries the file does not open

    def initiator(self) -> dict[str, Any] | None:
        """The first contact request in log order: who asked, through whom, when."""
        for act in self.acts:
            event = act.event
            if isinstance(event, ev.RequestContact):
                return {
                    "party": act.party,
                    "member": None if event.actor == act.party else event.actor,
                    "at": event.at.isoformat(),
                    "via": event.via,
                    "request": event.request,
                    "to_party": event.to_party,
                }
        return None

    def to_json(self) -> dict[str, Any]:
        """The ``record verify --json`` object."""
        return {
            "verified": True,
            "talks": self.talks,
            "size": self.size,
            "root": self.root.hex(),
            "checkpoint": self.checkpoint,
            "cosigned_by": self.cosigners,
            "opened": len(self.acts),
            "sealed": self.sealed,
            "initiator": self.initiator(),
            "timeline": [act.to_json() for act in self.acts],
        }


# --- building a bundle -----------------------------------------------------------------------


def build(
    *,
    talks: str,
    talks_host_id: str,
    vkey: str,
    checkpoint: str,
    entries: list[bytes],
    proofs: Mapping[int, InclusionProof],
    openings: Mapping[int, tuple[bytes, Mapping[str, Any]]],
    items: Mapping[bytes, Mapping[str, Any]],
    introductions: list[dict[str, Any]],
    cosigned: Mapping[str, str],
    with_content: bool,
) -> dict[str, Any]:
    """The bundle's JSON value. ``openings``: log index → (salt, encoded event); ``items``:
    canonical event bytes → the item it travelled in (its signature and mandate token)."""
    events = []
    for index in sorted(openings):
        salt, encoded = openings[index]
        if not with_content and isinstance(codec.decode(encoded), CONTENT):
            continue
        item = items.get(canonical_json(encoded), {})
        events.append(
            {
                "index": index,
                "salt": b64(salt),
                "event": dict(encoded),
                "act": item.get("act"),
                "mandate": item.get("mandate"),
                "proof": [b64(h) for h in proofs[index].path],
            }
        )
    return {
        "format": FORMAT,
        "talks": talks,
        "talks_host_id": talks_host_id,
        "with_content": with_content,
        "log": {"vkey": vkey, "checkpoint": checkpoint, "entries": [b64(e) for e in entries]},
        "cosigned": dict(sorted(cosigned.items())),
        "introductions": introductions,
        "events": events,
    }


def export(participant: Participant, *, with_content: bool = False) -> dict[str, Any]:
    """Everything ``participant`` can prove about its talks' record, as a bundle."""
    participant.watch()
    witness = participant.witness
    if witness.note is None or witness.vkey is None:
        raise BundleInvalid("the host has recorded nothing for these talks yet")
    openings: dict[int, tuple[bytes, Mapping[str, Any]]] = {}
    for salt, encoded in participant.openings:
        index = witness.index_of(commit(salt, encoded))
        if index is not None and (with_content or not isinstance(codec.decode(encoded), CONTENT)):
            openings[index] = (salt, encoded)
    proofs = {
        index: participant.host.log_inclusion(participant.talks_host_id, index, witness.size)
        for index in openings
    }
    cosigned = dict(witness.cosigned_notes)
    own = witness.cosigned(participant.device_id, participant.identity)
    if own is not None:
        cosigned[participant.device_id] = own
    return build(
        talks=participant.view.id,
        talks_host_id=participant.talks_host_id,
        vkey=witness.vkey,
        checkpoint=witness.note,
        entries=witness.entries,
        proofs=proofs,
        openings=openings,
        items={canonical_json(item["event"]): item for item in participant.applied},
        introductions=list(participant.known_introductions.values()),
        cosigned=cosigned,
        with_content=with_content,
    )


# --- verifying one ---------------------------------------------------------------------------


def dumps(bundle: Mapping[str, Any]) -> bytes:
    """The bundle's one byte encoding: compact JSON, so that no byte is free to change."""
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def loads(raw: bytes) -> Verified:
    """Parse and verify a bundle file's bytes."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleInvalid(f"the file is not UTF-8 text (byte {exc.start})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BundleInvalid(f"the file is not JSON (line {exc.lineno}: {exc.msg})") from exc
    if dumps(data) != raw:
        raise BundleInvalid("the file is not in the bundle's canonical encoding")
    return verify(data)


def verify(bundle: Any) -> Verified:
    """Check everything in ``bundle`` offline; :class:`BundleInvalid` names what fails."""
    try:
        return _Verifier(bundle).run()
    except BundleInvalid:
        raise
    except BackchannelError as exc:
        raise BundleInvalid(f"{exc.message} ({exc.code})") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BundleInvalid(f"the file is not a record bundle: {exc!r}") from exc


class _Verifier:
    def __init__(self, bundle: Any) -> None:
        if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
            raise BundleInvalid(f"the file is not a {FORMAT} bundle")
        if set(bundle) != _KEYS:
            raise BundleInvalid(f"a bundle holds exactly {sorted(_KEYS)}")
        self.bundle = bundle
        self.talks = str(bundle["talks"])
        self.directory = Directory()
        self.grants: list[tuple[int, ev.Grant, str]] = []  # (index, grant, token)
        self.revokes: list[tuple[int, ev.Revoke]] = []
        self.accepted: set[tuple[str, str]] = set()  # (member, copy) of verified acceptances
        self.last_at: dict[str, datetime] = {}

    def run(self) -> Verified:
        log = self.bundle["log"]
        key = NoteKey.from_vkey(str(log["vkey"]))
        checkpoint = _at("the checkpoint", lambda: open_checkpoint(str(log["checkpoint"]), key))
        entries = [_bytes(e) for e in log["entries"]]
        tree = MerkleTree(entries)
        if tree.size != checkpoint.size or tree.root() != checkpoint.root:
            raise BundleInvalid(
                f"the {len(entries)} entries do not hash to the checkpoint's root "
                f"({checkpoint.size} entries)"
            )
        if Note.parse(str(log["checkpoint"])).encode() != log["checkpoint"] or set(log) != {
            "vkey",
            "checkpoint",
            "entries",
        }:
            raise BundleInvalid("the checkpoint is not in its canonical encoding")
        host_id = str(self.bundle["talks_host_id"])
        for data in self.bundle["introductions"]:
            introduction = Introduction.from_json(data)
            if introduction.to_json() != data:
                raise BundleInvalid("an introduction is not in its canonical encoding")
            self.directory.admit(introduction.verify(host_id))
        result = Verified(self.talks, checkpoint.size, checkpoint.root, str(log["checkpoint"]))
        result.cosigners = self._cosignatures(key, checkpoint, entries)
        indexes: list[int] = []
        for data in self.bundle["events"]:
            index = int(data["index"])
            if indexes and index <= indexes[-1]:
                raise BundleInvalid(f"entry {index}: events are not in log order")
            indexes.append(index)
            act = _at(f"entry {index}", lambda d=data: self._event(d, entries, checkpoint))
            result.acts.append(act)
        result.sealed = checkpoint.size - len(indexes)
        return result

    def _cosignatures(self, key: NoteKey, ours: Checkpoint, entries: list[bytes]) -> list[str]:
        found = []
        for device, note in dict(self.bundle["cosigned"]).items():
            peer = self.directory.peers.get(device)
            if peer is None:
                raise BundleInvalid(f"a cosignature by {device}, whom no introduction names")
            cosigner = witness_key(peer.host_device, peer.identity)
            _at(f"{device}'s cosignature", lambda n=note, k=cosigner: check_cosignature(n, k))
            theirs = _at(f"{device}'s checkpoint", lambda n=note: open_checkpoint(n, key))
            if theirs.size > ours.size:
                continue  # newer than this file: nothing here to compare it with
            if MerkleTree(entries[: theirs.size]).root() != theirs.root:
                raise BundleInvalid(f"{device} cosigned a history this record contradicts")
            found.append(device)
        return found

    def _event(self, data: Mapping[str, Any], entries: list[bytes], head: Checkpoint) -> Act:
        """The act at one entry; ``head`` is the checkpoint the entries were checked against."""
        index = int(data["index"])
        if set(data) != _EVENT_KEYS:
            raise BundleInvalid(f"entry {index}: an event holds exactly {sorted(_EVENT_KEYS)}")
        if not 0 <= index < len(entries):
            raise BundleInvalid(f"entry {index} is outside the log")
        encoded = data["event"]
        if commit(_bytes(data["salt"]), encoded) != entries[index][:COMMITMENT_SIZE]:
            raise BundleInvalid(f"entry {index}: the event does not open its commitment")
        proof = InclusionProof(index, head.size, tuple(_bytes(h) for h in data["proof"]))
        check_inclusion(proof, leaf_hash(entries[index]), head.root)
        event = codec.decode(encoded)
        if isinstance(event, CONTENT) and not self.bundle["with_content"]:
            raise BundleInvalid(f"entry {index}: a message in a bundle exported without content")
        if not isinstance(event, ev.Grant | ev.Confirm) and data["mandate"] is not None:
            raise BundleInvalid(f"entry {index}: only a grant or a confirmation carries a token")
        last = self.last_at.get(event.actor)
        if last is not None and event.at < last:
            raise BundleInvalid(f"entry {index}: {event.actor}'s clock goes back")
        self.last_at[event.actor] = event.at
        party = self._party_of(event.actor)
        if isinstance(event, CONTENT) and not signed(event):
            if data["act"] is not None:
                raise BundleInvalid(
                    f"entry {index}: a message is deniable and carries no signature"
                )
            return Act(index, event, party, None)
        identity = self.directory.identity_of(event.actor)
        verify_act(SignedAct(dict(encoded), identity, _bytes(data["act"] or "")), identity)
        if isinstance(event, CONTENT) and not isinstance(event, FORMAL):
            return Act(index, event, party, None)  # words signed to be carried verbatim
        if isinstance(event, ev.Grant):
            self._grant(index, event, data.get("mandate"))
        if isinstance(event, ev.Revoke):
            self.revokes.append((index, event))
        if isinstance(event, ev.Confirm):
            member = self._confirm(index, event, party, data.get("mandate"))
            return Act(index, event, party, None, confirms=member)
        mandate = None if event.actor == party else self._mandate(index, event, identity)
        if isinstance(event, ev.Accept):
            self.accepted.add((event.actor, event.proposal))
        return Act(index, event, party, mandate)

    def _party_of(self, actor: str) -> str:
        for peer in self.directory.peers.values():
            if actor in peer.actors():
                return peer.party
        raise BundleInvalid(f"no introduction names {actor}")

    def _grant(self, index: int, grant: ev.Grant, token: Any) -> None:
        if not isinstance(token, str):
            raise BundleInvalid(f"entry {index}: grant {grant.grant!r} has no mandate token")
        party = self._party_of(grant.member)
        root = self.directory.identity_of(party)
        mandate = authority.read(token, root)
        last = mandate.last
        if (last.grant, last.member, last.level) != (grant.grant, grant.member, grant.level):
            raise BundleInvalid(f"entry {index}: the token says something else than the grant")
        if last.holder != self.directory.identity_of(grant.member):
            raise BundleInvalid(f"entry {index}: the token is bound to another key")
        self.grants.append((index, grant, token))

    def _confirm(self, index: int, confirm: ev.Confirm, party: str, token: Any) -> str:
        """The member whose acceptance ``confirm`` confirms, from the token it carries."""
        if confirm.actor != party:
            raise BundleInvalid(f"entry {index}: only {party}'s root authority confirms")
        if not isinstance(token, str):
            raise BundleInvalid(
                f"entry {index}: the confirmation of {confirm.proposal!r} has no token"
            )
        mandate = authority.read(token, self.directory.identity_of(party))
        member = mandate.last.member
        if mandate.talks != self.talks or mandate.party != party:
            raise BundleInvalid(f"entry {index}: the confirmation's token is for other talks")
        if confirm.proposal not in mandate.confirms:
            raise BundleInvalid(
                f"entry {index}: the token carries no confirmation of {confirm.proposal!r} "
                f"signed by {party}'s root"
            )
        if mandate.last.holder != self.directory.identity_of(member):
            raise BundleInvalid(f"entry {index}: the confirmed token is bound to another key")
        if (member, confirm.proposal) not in self.accepted:
            raise BundleInvalid(
                f"entry {index}: {member} accepted no {confirm.proposal!r} earlier in the record"
            )
        return member

    def _mandate(self, index: int, event: ev.Event, identity: bytes) -> authority.Mandate:
        """The actor's mandate for the act at ``index``: its latest token not yet revoked."""
        needs = REQUIRED_LEVEL.get(event.action, Level.OBSERVE)
        revoked = self._revoked_before(index)
        root = self.directory.identity_of(self._party_of(event.actor))
        failure: BackchannelError | None = None
        for _, grant, token in reversed(self.grants):
            if grant.member != event.actor:
                continue
            try:
                return authority.check(
                    token,
                    root,
                    talks=self.talks,
                    holder=identity,
                    needs=needs,
                    at=event.at,
                    revoked=revoked,
                )
            except BackchannelError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        raise BundleInvalid(f"entry {index}: {event.actor} acts without any mandate in the record")

    def _revoked_before(self, index: int) -> set[str]:
        """Revocation ids of every grant a Revoke earlier in the log took back."""
        revoked: set[str] = set()
        for at, revoke in self.revokes:
            if at >= index:
                continue
            for granted, grant, token in self.grants:
                if granted < at and grant.member == revoke.member:
                    root = self.directory.identity_of(self._party_of(grant.member))
                    revoked.add(authority.read(token, root).last.revocation_id)
        return revoked


_KEYS = {
    "format",
    "talks",
    "talks_host_id",
    "with_content",
    "log",
    "cosigned",
    "introductions",
    "events",
}
_EVENT_KEYS = {"index", "salt", "event", "act", "mandate", "proof"}


def _bytes(text: Any) -> bytes:
    """Base64 that must be canonical: a changed padding bit is a changed file."""
    raw = unb64(str(text))
    if b64(raw) != text:
        raise BundleInvalid("a value is not in canonical base64")
    return raw


def _at(where: str, check: Any) -> Any:
    try:
        return check()
    except BundleInvalid:
        raise
    except BackchannelError as exc:
        raise BundleInvalid(f"{where}: {exc.message} ({exc.code})") from exc
