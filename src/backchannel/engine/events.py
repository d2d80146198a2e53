"""Events: the immutable facts fed to the engine, one frozen dataclass per action.

Every event names its time (``at``, timezone-aware), its ``actor`` (a member id, or a party id when
the party's root authority acts) and optionally the ``device`` it came from. Ids are chosen by the
caller: the engine never generates ids, reads a clock or draws randomness.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from backchannel.engine.names import NO_NAMES, Names
from backchannel.engine.rules import Action, Label, Level, RelayMode, Role, RoomKind


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """What every event carries."""

    at: datetime
    actor: str
    device: str | None = None

    action: ClassVar[Action] = Action.SEND  # each subclass names its own


@dataclass(frozen=True, slots=True, kw_only=True)
class AddParty(Event):
    """A party joins the talks; its root authority (``actor`` = the party id) declares it."""

    party: str
    role: Role = Role.PARTY
    name: str = ""
    names: Names = NO_NAMES  # the name in other languages (omitted from the encoding if none)
    action: ClassVar[Action] = Action.ADD_PARTY


@dataclass(frozen=True, slots=True, kw_only=True)
class AddMember(Event):
    """The party's root authority adds a member with a first device (no mandate yet)."""

    member: str
    party: str
    name: str = ""
    names: Names = NO_NAMES
    first_device: str
    fingerprint: str
    action: ClassVar[Action] = Action.ADD_MEMBER


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateRoom(Event):
    """A room of a kind; ``party`` owns a caucus or delegation room, and is None for a plenary."""

    room: str
    kind: RoomKind
    party: str | None = None
    name: str = ""
    names: Names = NO_NAMES
    action: ClassVar[Action] = Action.CREATE_ROOM


@dataclass(frozen=True, slots=True, kw_only=True)
class Join(Event):
    """``member`` enters ``room`` (the actor is the member, or a member of its party's root)."""

    room: str
    member: str
    action: ClassVar[Action] = Action.JOIN


@dataclass(frozen=True, slots=True, kw_only=True)
class Leave(Event):
    """``member`` leaves ``room``; it reads nothing sent afterwards."""

    room: str
    member: str
    action: ClassVar[Action] = Action.LEAVE


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant(Event):
    """The actor grants ``member`` a mandate of ``level``, optionally until ``expires``."""

    grant: str
    member: str
    level: Level
    expires: datetime | None = None
    action: ClassVar[Action] = Action.GRANT


@dataclass(frozen=True, slots=True, kw_only=True)
class Revoke(Event):
    """The actor revokes every mandate ``member`` holds; grants it made become void."""

    member: str
    action: ClassVar[Action] = Action.REVOKE


@dataclass(frozen=True, slots=True, kw_only=True)
class AddDevice(Event):
    """A new device for ``member`` (the actor is the member itself or its party's root)."""

    member: str
    new_device: str
    fingerprint: str
    action: ClassVar[Action] = Action.ADD_DEVICE


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeDevice(Event):
    """``target`` may no longer act or read anything new."""

    target: str
    action: ClassVar[Action] = Action.REVOKE_DEVICE


@dataclass(frozen=True, slots=True, kw_only=True)
class Send(Event):
    """A message in ``room`` under a carry label."""

    message: str
    room: str
    text: str
    label: Label
    lang: str = ""
    action: ClassVar[Action] = Action.SEND


@dataclass(frozen=True, slots=True, kw_only=True)
class Propose(Event):
    """An offer in ``room``: a message that can later be accepted and signed."""

    message: str
    room: str
    text: str
    label: Label
    lang: str = ""
    action: ClassVar[Action] = Action.PROPOSE


@dataclass(frozen=True, slots=True, kw_only=True)
class Relay(Event):
    """The mediator carries ``source`` into ``room``, verbatim or as a gist in its own ``text``."""

    message: str
    source: str
    room: str
    mode: RelayMode
    text: str = ""
    lang: str = ""
    action: ClassVar[Action] = Action.RELAY


@dataclass(frozen=True, slots=True, kw_only=True)
class Carry(Event):
    """A relay as the target room's readers receive it: they never saw the source.

    The mediator's devices apply the full :class:`Relay`; a reader who was not in the source room
    applies this projection instead. It carries the source's label (so the mode can be checked)
    and, for a verbatim relay, the original's id, author and words (whose signature the client
    checks); a gist names no source at all, so the original is not even identified.
    """

    message: str
    room: str
    mode: RelayMode
    label: Label
    text: str
    lang: str = ""
    source: str | None = None
    original_author: str | None = None
    proposal: bool = False
    action: ClassVar[Action] = Action.CARRY


@dataclass(frozen=True, slots=True, kw_only=True)
class Accept(Event):
    """The actor's party accepts ``proposal`` ad referendum (the proposal or a verbatim copy)."""

    proposal: str
    action: ClassVar[Action] = Action.ACCEPT


@dataclass(frozen=True, slots=True, kw_only=True)
class Sign(Event):
    """The actor signs ``proposal`` for its party."""

    proposal: str
    action: ClassVar[Action] = Action.SIGN


@dataclass(frozen=True, slots=True, kw_only=True)
class Confirm(Event):
    """The party's root authority (``actor`` = the party id) confirms the acceptance ad
    referendum a member of its party made on ``proposal`` (the same copy): VCLT Art. 8."""

    proposal: str
    action: ClassVar[Action] = Action.CONFIRM


@dataclass(frozen=True, slots=True, kw_only=True)
class DraftArticle(Event):
    """The pen-holder writes ``article`` of the negotiating text: a new article, or the next
    version of one. Square brackets mark language not agreed yet; ``[a | b]`` offers alternatives.
    An empty ``title`` keeps the article's title."""

    article: str
    text: str
    title: str = ""
    lang: str = ""
    action: ClassVar[Action] = Action.DRAFT_ARTICLE


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreeArticle(Event):
    """The actor's party agrees ``version`` of ``article`` ad referendum."""

    article: str
    version: int
    action: ClassVar[Action] = Action.AGREE_ARTICLE


@dataclass(frozen=True, slots=True, kw_only=True)
class InitialArticle(Event):
    """The actor initials ``version`` of ``article`` for its party, authenticating the text."""

    article: str
    version: int
    action: ClassVar[Action] = Action.INITIAL_ARTICLE


@dataclass(frozen=True, slots=True, kw_only=True)
class SignArticle(Event):
    """The actor signs ``version`` of ``article`` for its party."""

    article: str
    version: int
    action: ClassVar[Action] = Action.SIGN_ARTICLE


#: The acts by which a party consents to an article.
ArticleConsent = AgreeArticle | InitialArticle | SignArticle


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRetention(Event):
    """Devices stop opening the talks' documents ``days`` after each was recorded (the
    mediator's root authority sets it; without a mediator, any party's root)."""

    days: int
    action: ClassVar[Action] = Action.SET_RETENTION


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestContact(Event):
    """The actor asks ``to_party`` to open talks, directly (``via`` None) or through a mediator."""

    request: str
    to_party: str
    via: str | None = None
    text: str = ""
    action: ClassVar[Action] = Action.REQUEST_CONTACT


@dataclass(frozen=True, slots=True, kw_only=True)
class Deposit(Event):
    """A member deposits one commitment of its party in the escrow, sealed until it matches.

    ``commitment`` is a document in the escrow file format (:mod:`.escrow`) holding exactly one
    commitment, whose id is ``deposit``, and the actions it names. Only the mediator's devices and
    the depositing party's own receive it; every other device applies a :class:`DepositNotice`.
    """

    deposit: str
    commitment: str
    action: ClassVar[Action] = Action.DEPOSIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Amend(Event):
    """The depositing party replaces its open deposit ``deposit`` with a new ``commitment``."""

    deposit: str
    commitment: str
    action: ClassVar[Action] = Action.AMEND


@dataclass(frozen=True, slots=True, kw_only=True)
class Withdraw(Event):
    """The depositing party withdraws its open deposit ``deposit``: it can no longer match."""

    deposit: str
    action: ClassVar[Action] = Action.WITHDRAW


@dataclass(frozen=True, slots=True, kw_only=True)
class DepositNotice(Event):
    """A deposit (or, ``amended``, an amendment) as the devices outside its audience receive it:
    its id, author and place in the record, never its commitment. Like :class:`Carry`, it names
    the record entry it stands for but cannot open it."""

    deposit: str
    amended: bool = False
    action: ClassVar[Action] = Action.DEPOSIT_NOTICE


@dataclass(frozen=True, slots=True, kw_only=True)
class AnnounceMatch(Event):
    """A member of the mediator's party announces a match: the matched ``deposits``, the
    ``settled`` terms, the ``plan`` and the ``revealed`` commitments (each matched deposit's, in
    the same order, as deposited), each as JSON text (a list), as :func:`deposit.found` gives
    them over the deposits the mediator holds. The parties concerned learn the matched
    commitments from it, and only on a match."""

    match: str
    deposits: str
    settled: str
    plan: str
    revealed: str
    action: ClassVar[Action] = Action.ANNOUNCE_MATCH


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchNotice(Event):
    """A match as the devices of parties outside it receive it: its id and the ``deposits`` it
    closed (JSON text, a list, as announced), never what they held, settled or planned. Like
    :class:`DepositNotice`, it names the announcement's record entry but cannot open it."""

    match: str
    deposits: str
    action: ClassVar[Action] = Action.MATCH_NOTICE


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectMatch(Event):
    """A member signs, for its party, the outcome of a direct match with ``other`` in talks
    without a mediator: ``outcome`` is the canonical JSON of :func:`.direct.words` (the session,
    both parties, both sides' matched commitments, the settled terms and the plan). The match is
    agreed once both parties signed the same words for the session."""

    session: str
    other: str
    outcome: str
    action: ClassVar[Action] = Action.DIRECT_MATCH


@dataclass(frozen=True, slots=True, kw_only=True)
class SetAgenda(Event):
    """A member of the mediator's party sets what the parties score: the issues and their
    options, as an agenda document (:mod:`.scores`). Each one is the agenda's next version;
    scores of an earlier version stay, but only the current version's are analysed."""

    agenda: str
    action: ClassVar[Action] = Action.SET_AGENDA


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitScores(Event):
    """A member submits its party's scores of agenda ``version`` (a scores document,
    :mod:`.scores`); it replaces the party's earlier submission. Only the mediator's devices and
    the submitting party's own receive it; every other device applies a :class:`ScoresNotice`."""

    version: int
    scores: str
    action: ClassVar[Action] = Action.SUBMIT_SCORES


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoresNotice(Event):
    """A submission as the devices outside its audience receive it: who submitted, for which
    agenda version, at which place in the record; never the scores."""

    version: int
    action: ClassVar[Action] = Action.SCORES_NOTICE
