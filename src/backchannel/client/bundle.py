"""A talks' record as one self-contained file, and its offline verification.

A device **exports** what it can prove about the talks (named by the host's id: an alias is the
device's own name for them, bound by nothing): the host-signed checkpoint and every entry of the
log, the cosigned checkpoints its peers posted, the introductions that bind identities to parties
and members, and the openings (salt and event) of every entry it applied, each with its inclusion
proof, its actor's signature (formal acts, and words signed to be carried verbatim), the digest
of the words a consent binds, and its mandate token (grants, confirmations). Messages and the
text's drafts are opened only ``with_content``; other formal acts always are — they are
attributable on purpose.

**Verification** needs nothing but the file, and decides nothing the engine does not:

- the record's checks are :mod:`backchannel.record.audit`'s, as a device's witness makes them —
  the checkpoint under the log key the file names, the entries hashing to its root, the host's
  times running forward, each cosignature by its device's identity and agreeing with this record;
- each opening opens its entry and is proven in the checkpoint;
- each signed act verifies by its actor's identity for *these* talks and the words it names
  (:mod:`.acts`), and each token says what its act says (:mod:`.mandates`);
- then every opened act is **replayed through** :func:`engine.apply` in log order, at the
  record's time of its entry: whatever the engine refuses (an act after a revocation, a
  confirmation of nothing accepted, a consent to other words) fails the file. A consent whose
  subject the file does not open (an offer or a draft sealed without content) is applied with
  ``sealed``: only the rules that do not read the subject apply.

Anything that fails names the entry and the reason (:class:`BundleInvalid`). The verified
timeline answers who asked first, and shows each consent's stage.
"""

from __future__ import annotations

import binascii
import gc
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backchannel import authority, engine
from backchannel.client import acts, mandates
from backchannel.client.directory import Directory, Introduction
from backchannel.client.participant import Participant
from backchannel.client.wire import EventItem
from backchannel.client.witness import witness_key
from backchannel.crypto import SignedAct, verify_act
from backchannel.crypto.signed import b64
from backchannel.engine import codec
from backchannel.engine import events as ev
from backchannel.engine.rules import ACTIONS
from backchannel.errors import BackchannelError, BundleInvalid
from backchannel.record import audit
from backchannel.record.checkpoint import Note, NoteKey
from backchannel.record.entry import Entry
from backchannel.record.leaf import commit
from backchannel.record.merkle import InclusionProof, check_inclusion
from backchannel.record.tree import MerkleTree

FORMAT = "backchannel-record/v2"


def _content(event: ev.Event) -> bool:
    return ACTIONS[event.action].content


# --- the verified timeline -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Act:
    """One verified event: where it sits in the log, who did it, and under which mandate."""

    index: int
    event: ev.Event
    party: str
    mandate: authority.Mandate | None  # None when a root acts, or for words
    confirms: str | None = None  # for a confirmation: the member whose acceptance it confirms
    sealed: bool = False  # a consent whose subject the file does not open

    def to_json(self) -> dict[str, Any]:
        """The act as ``record verify --json`` and ``record timeline --json`` print it."""
        event = self.event
        data: dict[str, Any] = {
            "index": self.index,
            "at": event.at.isoformat(),
            "actor": event.actor,
            "party": self.party,
            "action": event.action.value,
            "mandate": "root"
            if self.mandate is None
            else [x.to_json() for x in self.mandate.links],
        }
        stage = ACTIONS[event.action].stage
        if isinstance(event, ev.Accept | ev.Sign | ev.Confirm) and stage is not None:
            data["stage"], data["proposal"] = stage.value, event.proposal
        if isinstance(event, ev.Confirm):
            data["confirms"] = self.confirms
        if isinstance(event, ev.RequestContact):
            data["to_party"], data["via"] = event.to_party, event.via
        if isinstance(event, ev.DraftArticle):
            data["article"] = event.article
        if isinstance(event, ev.ArticleConsent) and stage is not None:
            data["article"], data["version"] = event.article, event.version
            data["stage"] = stage.value
        if ACTIONS[event.action].words is not None:
            data["subject"] = "sealed" if self.sealed else "opened"
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
    view: engine.Talks | None = None

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


def export(participant: Participant, *, with_content: bool = False) -> dict[str, Any]:
    """Everything ``participant`` can prove about its talks' record, as a bundle: the record as
    its witness last checked it, and every act it applied there that it can open."""
    witness = participant.witness
    if witness.note is None or witness.vkey is None or witness.size == 0:
        raise BundleInvalid("the host has recorded nothing for these talks yet")
    events = []
    for index, held in participant.ledger.applied:
        item = held.item
        if item.salt is None or index >= witness.size:
            continue
        if not with_content and _content(codec.decode(item.event)):
            continue
        events.append(
            {
                "index": index,
                "salt": b64(item.salt),
                "event": dict(item.event),
                "signature": None if item.signature is None else b64(item.signature),
                "words": None if item.words is None else b64(item.words),
                "mandate": item.mandate,
                "proof": [b64(h) for h in witness.inclusion(index).path],
            }
        )
    cosigned = dict(witness.cosigned_notes)
    own = witness.cosigned(participant.device_id, participant.identity, 0)
    if own is not None:
        cosigned[participant.device_id] = own
    return {
        "format": FORMAT,
        "talks_host_id": participant.talks_host_id,
        "with_content": with_content,
        "log": {
            "vkey": witness.vkey,
            "checkpoint": witness.note,
            "entries": [b64(e) for e in witness.leaves[: witness.size]],
        },
        "cosigned": dict(sorted(cosigned.items())),
        "introductions": [
            participant.known_introductions[d] for d in sorted(participant.known_introductions)
        ],
        "events": events,
    }


# --- verifying one ---------------------------------------------------------------------------


def dumps(bundle: Mapping[str, Any]) -> bytes:
    """The bundle's one byte encoding: compact JSON, so that no byte is free to change."""
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def loads(raw: bytes) -> Verified:
    """Parse and verify a bundle file's bytes."""
    with _without_cycle_collection():
        return _loads(raw)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a bundle is parsed and replayed.

    Parsing and replay make millions of objects and no garbage cycles (reference counting frees
    everything); each run of the collector's oldest generation would rescan all of them, which
    made verifying 10^5 events a quarter slower than it needs to be, and worse as bundles grow.
    The collector is only paused (process-wide, for the call) and is enabled again after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _loads(raw: bytes) -> Verified:
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
        with _without_cycle_collection():
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
        self.host_id = str(bundle["talks_host_id"])
        self.directory = Directory()
        # Talks are named by the host's id: an alias is a device's own name, bound by nothing.
        self.talks = engine.Talks(id=self.host_id)
        self.items: list[EventItem] = []  # the items that carried a token, in log order

    def run(self) -> Verified:
        log = self.bundle["log"]
        if set(log) != {"vkey", "checkpoint", "entries"}:
            raise BundleInvalid("the log holds exactly vkey, checkpoint and entries")
        key = NoteKey.from_vkey(str(log["vkey"]))
        note = str(log["checkpoint"])
        head = _at("the checkpoint", lambda: audit.open_head(note, key))
        if Note.parse(note).encode() != note:
            raise BundleInvalid("the checkpoint is not in its canonical encoding")
        leaves = [_bytes(e) for e in log["entries"]]
        try:
            tree, entries = audit.check_entries(MerkleTree(), head, leaves)
        except BackchannelError as exc:
            raise BundleInvalid(
                f"the {len(leaves)} entries do not hash to the checkpoint's root "
                f"({head.size} entries): {exc.message}"
            ) from exc
        for data in self.bundle["introductions"]:
            introduction = Introduction.from_json(data)
            if introduction.to_json() != data:
                raise BundleInvalid("an introduction is not in its canonical encoding")
            self.directory.admit(introduction.verify(self.host_id))
        result = Verified(self.talks.id, head.size, head.root, note)
        result.cosigners = self._cosignatures(key, tree)
        last = -1
        for data in self.bundle["events"]:
            index = int(data["index"])
            if index <= last:
                raise BundleInvalid(f"entry {index}: events are not in log order")
            last = index
            act = _at(f"entry {index}", lambda d=data: self._event(d, entries, tree, head.root))
            result.acts.append(act)
        result.sealed = head.size - len(result.acts)
        result.view = self.talks
        return result

    def _cosignatures(self, key: NoteKey, tree: MerkleTree) -> list[str]:
        found = []
        for device, note in dict(self.bundle["cosigned"]).items():
            peer = self.directory.peers.get(device)
            if peer is None:
                raise BundleInvalid(f"a cosignature by {device}, whom no introduction names")
            cosigner = witness_key(peer.host_device, peer.identity)
            theirs = _at(
                f"{device}'s cosignature",
                lambda n=note, c=cosigner: audit.check_peer(n, c, key, tree),
            )
            if theirs.size <= tree.size:
                found.append(device)
        return found

    def _event(
        self, data: Mapping[str, Any], entries: list[Entry], tree: MerkleTree, root: bytes
    ) -> Act:
        index = int(data["index"])
        if set(data) != _EVENT_KEYS:
            raise BundleInvalid(f"entry {index}: an event holds exactly {sorted(_EVENT_KEYS)}")
        if not 0 <= index < len(entries):
            raise BundleInvalid(f"entry {index} is outside the log")
        encoded = data["event"]
        salt = _bytes(data["salt"])
        if commit(salt, encoded) != entries[index].commitment:
            raise BundleInvalid(f"entry {index}: the event does not open its commitment")
        proof = InclusionProof(index, tree.size, tuple(_bytes(h) for h in data["proof"]))
        check_inclusion(proof, tree.leaf_hash(index), root)
        event = codec.decode(encoded)
        if _content(event) and not self.bundle["with_content"]:
            raise BundleInvalid(f"entry {index}: words in a bundle exported without content")
        item = EventItem(
            event=encoded,
            signature=None if data["signature"] is None else _bytes(data["signature"]),
            words=None if data["words"] is None else _bytes(data["words"]),
            salt=salt,
            mandate=data["mandate"],
        )
        party = self._party_of(event.actor)
        self._signature(event, item)
        sealed = ACTIONS[event.action].words is not None and engine.words(self.talks, event) is None
        before = self.talks
        recorded_at = datetime.fromtimestamp(entries[index].logged_at_ms / 1000, UTC)
        after = engine.apply(before, event, recorded_at=recorded_at, sealed=sealed)
        if not sealed:
            acts.check_placed(before, event, item)
        mandates.check_placed(self.host_id, before, self.directory.identity_of, event, item)
        self.talks = after
        if item.mandate is not None:
            self.items.append(item)  # the tokens acts may stand on
        confirms = None
        if isinstance(event, ev.Confirm):
            accepted = before.acceptance(event.actor, event.proposal)
            confirms = None if accepted is None else accepted.member
        return Act(index, event, party, self._chain(before, event, recorded_at), confirms, sealed)

    def _signature(self, event: ev.Event, item: EventItem) -> None:
        if not acts.signed(event):
            if item.signature is not None or item.words is not None:
                raise BundleInvalid("deniable words carry no signature")
            return
        key = self.directory.identity_of(event.actor)
        verify_act(
            SignedAct(self.host_id, dict(item.event), item.words, key, item.signature or b""), key
        )

    def _chain(
        self, before: engine.Talks, event: ev.Event, at: datetime
    ) -> authority.Mandate | None:
        """The mandate chain a member's act rests on: its standing grant's token."""
        rule = ACTIONS[event.action]
        if event.actor not in before.members or (rule.content and not rule.formal):
            return None
        token = mandates.standing_token(self.items, before, event.actor, at)
        if token is None:
            raise BundleInvalid(f"{event.actor} acts without any mandate token in the record")
        root = self.directory.identity_of(before.members[event.actor].party)
        return authority.read(token, root)

    def _party_of(self, actor: str) -> str:
        for peer in self.directory.peers.values():
            if actor in peer.actors():
                return peer.party
        raise BundleInvalid(f"no introduction names {actor}")


_KEYS = {
    "format",
    "talks_host_id",
    "with_content",
    "log",
    "cosigned",
    "introductions",
    "events",
}
_EVENT_KEYS = {"index", "salt", "event", "signature", "words", "mandate", "proof"}


def _bytes(text: Any) -> bytes:
    """Base64 that must be canonical: a changed padding bit is a changed file."""
    if not isinstance(text, str) or not text.isascii():
        raise BundleInvalid("a value is not base64")
    try:
        raw = binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error as exc:
        raise BundleInvalid("a value is not base64") from exc
    if binascii.b2a_base64(raw, newline=False) != text.encode("ascii"):
        raise BundleInvalid("a value is not in canonical base64")
    return raw


def _at(where: str, check: Any) -> Any:
    try:
        return check()
    except BundleInvalid:
        raise
    except BackchannelError as exc:
        raise BundleInvalid(f"{where}: {exc.message} ({exc.code})") from exc
