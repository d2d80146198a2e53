"""The state of one talks: plain frozen values, replaced (never mutated) by :func:`engine.apply`.

Entities are kept in :class:`~backchannel.engine.table.Table` maps (persistent: a change shares
the rest, and order is kept); nothing in the engine mutates a state it was given, so two replays
of the same events give equal states.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from backchannel.engine import escrow
from backchannel.engine.names import NO_NAMES, Names
from backchannel.engine.rules import (
    Action,
    ArticleStatus,
    DepositStatus,
    Label,
    Level,
    RelayMode,
    Role,
    RoomKind,
)
from backchannel.engine.scores import Agenda, Scores
from backchannel.engine.table import Table


@dataclass(frozen=True, slots=True)
class Party:
    """A side of the talks; the mediator is a party with role ``mediator``."""

    id: str
    role: Role
    name: str = ""
    names: Names = NO_NAMES


@dataclass(frozen=True, slots=True)
class Device:
    """One device of a member: an id and its public-key fingerprint, nothing secret."""

    id: str
    member: str
    fingerprint: str
    revoked_at: datetime | None = None  # the record's time at the revocation

    @property
    def revoked(self) -> bool:
        """Whether a revocation of this device is in the record before the present place."""
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class Member:
    """A person in a party's delegation."""

    id: str
    party: str
    name: str = ""
    names: Names = NO_NAMES


@dataclass(frozen=True, slots=True)
class MandateGrant:
    """One grant of a mandate; ``grantor`` None means the party's root authority."""

    id: str
    member: str
    level: Level
    grantor: str | None
    at: datetime
    expires: datetime | None = None
    revoked_at: datetime | None = None  # the record's time at the revocation


@dataclass(frozen=True, slots=True)
class Room:
    """A conversation with a fixed kind; ``members`` is who is in it now."""

    id: str
    kind: RoomKind
    party: str | None
    name: str = ""
    names: Names = NO_NAMES
    members: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Message:
    """A message, an offer, or a relay; ``readers`` is fixed when it is sent.

    For a gist relay, ``source`` is the carried message: it stays in the record for the mediator
    and is hidden from readers who could not read the source (see :func:`engine.view`).
    """

    id: str
    room: str
    author: str
    at: datetime
    text: str
    label: Label
    readers: frozenset[str]
    lang: str = ""
    proposal: bool = False
    relay: RelayMode | None = None
    source: str | None = None
    relayed_by: str | None = None


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """``member`` of ``party`` asked ``to_party`` to open talks, directly or ``via`` a mediator."""

    id: str
    party: str
    member: str | None
    to_party: str
    via: str | None
    at: datetime
    text: str = ""


@dataclass(frozen=True, slots=True)
class Consent:
    """A party's acceptance (ad referendum) or signature of a proposal.

    ``proposal`` is the original offer's id; ``copy`` the message the act named (the offer itself
    or a verbatim relay of it), whose readers are the devices that received the act.
    """

    proposal: str
    party: str
    member: str
    at: datetime
    signed: bool
    copy: str


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A party's root confirmed ``member``'s acceptance ad referendum of a copy of an offer."""

    proposal: str
    copy: str
    party: str
    member: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ArticleVersion:
    """One version of an article, as its pen-holder wrote it (brackets included)."""

    number: int
    text: str
    author: str
    at: datetime
    lang: str = ""


@dataclass(frozen=True, slots=True)
class ArticleConsent:
    """A party agreed, initialled or signed one version of an article."""

    party: str
    member: str
    version: int
    stage: ArticleStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class Article:
    """An article of the negotiating text: every version, and every party's consents to them."""

    id: str
    title: str
    position: int  # order in the text: articles are numbered as they were first drafted
    versions: tuple[ArticleVersion, ...]
    consents: tuple[ArticleConsent, ...] = ()

    @property
    def current(self) -> ArticleVersion:
        """The latest version: the only one a party can still consent to."""
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class Deposited:
    """One deposit in the escrow. ``commitment`` is None where this view holds only its notice
    (sealed from this device) until a match reveals it; ``version`` counts its amendments."""

    id: str
    party: str
    member: str
    at: datetime
    status: DepositStatus = DepositStatus.OPEN
    version: int = 1
    commitment: escrow.Commitment | None = None
    actions: tuple[escrow.Action, ...] = ()
    text: str = ""  # the commitment as deposited (JSON), where this view holds it

    @property
    def sealed(self) -> bool:
        """Whether this view holds only the deposit's notice."""
        return self.commitment is None


@dataclass(frozen=True, slots=True)
class Match:
    """A match the mediator announced: the deposits it names and, as JSON text, the settled
    terms and the plan."""

    id: str
    deposits: tuple[str, ...]
    settled: str
    plan: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DirectAgreement:
    """A direct match's outcome as the record holds it: the words (:func:`.direct.words`) and
    the parties that signed them so far; ``agreed`` once both did."""

    session: str
    parties: tuple[str, str]
    outcome: str
    signed: tuple[str, ...]
    at: datetime

    @property
    def agreed(self) -> bool:
        """Whether both parties signed the same words."""
        return set(self.signed) == set(self.parties)


@dataclass(frozen=True, slots=True)
class Submission:
    """A party's latest scores. ``scores`` is None where this view holds only the notice (the
    scores are sealed from this device); ``count`` counts the party's submissions so far."""

    party: str
    member: str
    at: datetime
    version: int  # the agenda version scored
    count: int = 1
    scores: Scores | None = None
    text: str = ""  # the scores as submitted (JSON), where this view holds them

    @property
    def sealed(self) -> bool:
        """Whether this view holds only the submission's notice."""
        return self.scores is None

    def __repr__(self) -> str:
        return f"Submission(party={self.party!r}, version={self.version}, count={self.count})"


@dataclass(frozen=True, slots=True)
class Entry:
    """One accepted event in order: its sequence number, time, actor and action."""

    seq: int
    at: datetime
    actor: str
    action: Action


@dataclass(frozen=True, slots=True)
class Talks:
    """Everything the engine knows about one talks."""

    id: str
    title: str = ""
    parties: Mapping[str, Party] = field(default_factory=Table)
    members: Mapping[str, Member] = field(default_factory=Table)
    devices: Mapping[str, Device] = field(default_factory=Table)
    grants: Mapping[str, MandateGrant] = field(default_factory=Table)
    rooms: Mapping[str, Room] = field(default_factory=Table)
    messages: Mapping[str, Message] = field(default_factory=Table)
    #: Contact requests by id, in record order.
    requests: Mapping[str, ContactRequest] = field(default_factory=Table)
    consents: tuple[Consent, ...] = ()
    confirmations: tuple[Confirmation, ...] = ()
    articles: Mapping[str, Article] = field(default_factory=Table)
    #: The escrow's deposits by id, in record order (sealed where this view holds a notice).
    deposits: Mapping[str, Deposited] = field(default_factory=Table)
    matches: Mapping[str, Match] = field(default_factory=Table)
    #: The last accepted event (its ``seq`` counts them), None before the first.
    last: Entry | None = None
    #: The record's time at the last accepted event (see rules.CLOCK_TOLERANCE), None before.
    clock: datetime | None = None
    #: Days after which devices stop opening a document (0: kept; ev.SetRetention sets it).
    document_retention_days: int = 0
    #: Direct matches by session id, in record order (engine/direct.py).
    direct: Mapping[str, DirectAgreement] = field(default_factory=Table)
    #: What the parties score (ev.SetAgenda sets each version), None before the first.
    agenda: Agenda | None = None
    #: Party id → its latest submission of scores, in the order parties first submitted.
    submissions: Mapping[str, Submission] = field(default_factory=Table)

    @property
    def contacts(self) -> tuple[ContactRequest, ...]:
        """Every contact request, in record order."""
        return tuple(self.requests.values())

    @property
    def last_at(self) -> datetime | None:
        """Time of the last accepted event, or None before the first."""
        return None if self.last is None else self.last.at

    def acceptance(self, party: str, copy: str) -> Consent | None:
        """The first acceptance ad referendum of ``copy`` by a member of ``party`` so far in the
        record: what the party's root confirms."""
        return next(
            (c for c in self.consents if c.party == party and c.copy == copy and not c.signed),
            None,
        )

    def sealed_counts(self) -> dict[str, int]:
        """Party id → how many of its deposits are open: what every device may know."""
        counts = dict.fromkeys(self.parties, 0)
        for deposit in self.deposits.values():
            if deposit.status is DepositStatus.OPEN:
                counts[deposit.party] = counts.get(deposit.party, 0) + 1
        return counts

    @property
    def mediator(self) -> Party | None:
        """The party with the mediator role, if any."""
        return next((p for p in self.parties.values() if p.role is Role.MEDIATOR), None)

    def uses(self, new_id: str, *, wide: bool) -> bool:
        """Whether ``new_id`` is taken: among the talks-wide ids, or (not ``wide``) any id this
        view knows. A membership test per table, never a copy of them."""
        tables: tuple[Mapping[str, Any], ...] = (
            self.parties,
            self.members,
            self.devices,
            self.grants,
            self.articles,
        )
        if any(new_id in table for table in tables):
            return True
        if wide:
            return False
        return new_id in self.rooms or new_id in self.messages or new_id in self.requests

    def wide_ids(self) -> frozenset[str]:
        """Every id of the talks-wide state: parties, members, devices, grants and articles.

        Every device holds these, so a talks-wide act's fresh id is judged on them alone: the
        same act gets the same verdict on every device that holds the same record prefix.
        """
        ids: set[str] = set()
        for table in (self.parties, self.members, self.devices, self.grants, self.articles):
            ids.update(table)
        return frozenset(ids)

    def used_ids(self) -> frozenset[str]:
        """Every id this view knows is taken: the talks-wide ones, and rooms, messages and
        contact requests."""
        ids = set(self.wide_ids())
        for table in (self.rooms, self.messages):
            ids.update(table)
        ids.update(self.requests)
        return frozenset(ids)


_TALKS_FIELDS = tuple(f.name for f in fields(Talks))


def evolve(talks: Talks, **changes: Any) -> Talks:
    """``talks`` with ``changes``: :func:`dataclasses.replace`, without re-running ``__init__``
    (the engine makes one per event, and it is the hot path of a replay)."""
    new = object.__new__(Talks)
    for name in _TALKS_FIELDS:
        object.__setattr__(new, name, changes[name] if name in changes else getattr(talks, name))
    return new
