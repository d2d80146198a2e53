"""The rules of the talks, as data. Everything that decides what an event may do lives here.

- **Every action** has one row in :data:`ACTIONS` (:class:`ActionRule`): the mandate a member
  needs for it, whether only a party's root authority performs it, whether it is a *formal* act
  (signed with the actor's identity key: attributable on purpose), whether every device of the
  talks receives it (*talks-wide*), whether it carries the talks' words (*content*: sealed in a
  record bundle exported without content), and, for a consent, the stage it brings and the words
  it consents to. Whatever classifies events elsewhere (signing, fan-out, bundles, the state
  digest) reads this table; ``tests/engine/test_rules.py`` checks it covers every action.
- **Every carry label** has one row in :data:`LABELS` (:class:`LabelRule`): the relay modes it
  allows (``mediator-only`` never relayed; ``carry-gist`` only in the mediator's own words;
  ``carry-verbatim`` verbatim or as a gist), whether it may only be sent where nobody but its
  author's party and the mediator listen (:data:`PRIVATE_ROOM_KINDS`), and whether the words are
  signed by their author (only words the mediator may carry verbatim: other words stay deniable).
- **Mandates** are ordered: ``observe < speak < propose < accept < sign``. A grant is never wider
  than what its grantor holds (attenuation).
- **Rooms** have a kind that fixes which parties may be in them (:func:`may_be_in_room`):
  a ``caucus`` holds one party's members and the mediator's; a ``delegation`` room holds one party
  only (never the mediator, unless it is the mediator's own room); a ``plenary`` holds every party.
- A member reads a message only if, when it was sent, the member was in the room, held at least
  ``observe`` and had a device that was not revoked.
- **The record is the order and the clock.** Events take effect in the record's order, and
  authority is judged at an act's place there: a revocation (of a mandate or a device) binds
  every act the record puts after it, whatever time the act claims, and an expiry binds every act
  whose place in the record is past it. The record's time at a place is the host's time stamp on
  the entry (a scenario replayed without a host: the latest time claimed so far). An act's claimed
  time may differ from it by at most :data:`CLOCK_TOLERANCE`, so claimed times run forward along
  the record within that tolerance, and never ahead of the host's clock by more.
- **Consent** to an offer goes through stages (:class:`Stage`, VCLT Arts. 8, 10 and 12): a member
  accepts it ad referendum, a member signs it, and the party's **root authority** confirms what
  its member accepted ad referendum. Confirmation is the root's own act: no member's mandate,
  however wide, reaches it.
- The **negotiating text** is one draft of articles. The mediator holds the pen (any party does in
  talks without one): drafting needs ``propose``. Each party consents to an article's current
  version in order (:data:`ARTICLE_NEEDS`): ad referendum (``accept``) once no bracket is left,
  initialled (``accept``) once every party agreed, signed (``sign``) once every party initialled.
  A new version starts its consents afresh; an article every party signed is final.
- **Document retention** (``set_retention``) is the mediator's root authority's act (any party
  root's in talks without a mediator), talks-wide: devices stop opening a document that many days
  after its place in the record.
- The **escrow**: a member holding ``propose`` deposits, amends and withdraws its own party's
  commitments (never another party's); deposits are sealed: the full act reaches the mediator's
  devices and the depositing party's, every other device a notice (id, author, place) from
  which it counts them. Only a member of the mediator's party announces a match, with
  ``propose``; it names open deposits only, and must be what the matcher finds over them
  (:class:`DepositStatus` says where each deposit stands).
- A **direct match** (talks without a mediator): a member holding ``propose`` signs, for its
  party, the outcome both sides computed (``direct_match``); it reaches the two parties only, and
  the match is agreed once both signed the same words for the session, each party once.
- **Private preferences**: a member of the mediator's party holding ``propose`` sets the agenda
  (issues and options), talks-wide: each agenda is the next version. A member holding ``propose``
  submits its own party's scores of the current version (never another party's, never the
  mediator's own); a new submission replaces the last. Scores are sealed like deposits: the full
  act reaches the mediator's devices and the submitting party's, every other device a notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import IntEnum, StrEnum


class Level(IntEnum):
    """A mandate level; larger includes smaller."""

    OBSERVE = 1
    SPEAK = 2
    PROPOSE = 3
    ACCEPT = 4
    SIGN = 5

    @property
    def label(self) -> str:
        """The level's name as written in files and shown to users."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Level:
        """The level named ``text`` (``observe`` … ``sign``); ValueError otherwise."""
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown mandate level {text!r}") from None


class Role(StrEnum):
    """What a party is in the talks."""

    PARTY = "party"
    MEDIATOR = "mediator"


class RoomKind(StrEnum):
    """Who may be in a room."""

    CAUCUS = "caucus"
    DELEGATION = "delegation"
    PLENARY = "plenary"


class Label(StrEnum):
    """A message's carry label: what the mediator may repeat of it."""

    MEDIATOR_ONLY = "mediator-only"
    CARRY_GIST = "carry-gist"
    CARRY_VERBATIM = "carry-verbatim"


class RelayMode(StrEnum):
    """How the mediator carries a message into another room."""

    VERBATIM = "verbatim"
    GIST = "gist"


class Action(StrEnum):
    """Every action an event can perform; scenario files use these names."""

    REQUEST_CONTACT = "request_contact"
    SEND = "send"
    RELAY = "relay"
    CARRY = "carry"  # a relay as its target room receives it (see events.Carry)
    PROPOSE = "propose"
    ACCEPT = "accept"
    SIGN = "sign"
    CONFIRM = "confirm"
    DRAFT_ARTICLE = "draft_article"
    AGREE_ARTICLE = "agree_article"
    INITIAL_ARTICLE = "initial_article"
    SIGN_ARTICLE = "sign_article"
    DEPOSIT = "deposit"
    AMEND = "amend"
    WITHDRAW = "withdraw"
    DEPOSIT_NOTICE = "deposit_notice"  # a deposit as devices outside its audience receive it
    ANNOUNCE_MATCH = "announce_match"
    MATCH_NOTICE = "match_notice"  # a match as devices outside its parties receive it
    GRANT = "grant"
    REVOKE = "revoke"
    ADD_DEVICE = "add_device"
    REVOKE_DEVICE = "revoke_device"
    JOIN = "join"
    LEAVE = "leave"
    SET_RETENTION = "set_retention"  # how long devices keep documents (see client/document.py)
    SET_AGENDA = "set_agenda"  # private preferences: what the parties score (engine/preferences)
    SUBMIT_SCORES = "submit_scores"
    SCORES_NOTICE = "scores_notice"  # a submission as devices outside its audience receive it
    # Set-up actions: what a scenario's [[parties]], [[members]] and [[rooms]] tables become.
    ADD_PARTY = "add_party"
    ADD_MEMBER = "add_member"
    CREATE_ROOM = "create_room"
    DIRECT_MATCH = "direct_match"  # each party signs a direct match's outcome (engine/direct.py)


class Stage(StrEnum):
    """How far a party has consented to an offer; later in :data:`STAGE_ORDER` is further."""

    AGREED_AD_REF = "agreed-ad-ref"  # a member accepted it, subject to its principal
    SIGNED = "signed"  # a member holding 'sign' signed it
    CONFIRMED = "confirmed"  # the party's root confirmed its member's acceptance (VCLT Art. 8)


#: The stages in order: the root's own confirmation is as far as a party's consent goes, since
#: every mandate derives from the root.
STAGE_ORDER: tuple[Stage, ...] = (Stage.AGREED_AD_REF, Stage.SIGNED, Stage.CONFIRMED)


class ArticleStatus(StrEnum):
    """Where an article of the negotiating text stands, for all parties together."""

    BRACKETED = "bracketed"  # language in square brackets is not agreed yet
    CLEAN = "clean"  # no bracket left; not every party has agreed it ad referendum
    AGREED_AD_REF = "agreed-ad-ref"  # every party agreed it, subject to its principal
    INITIALLED = "initialled"  # every party initialled it: the text is authenticated
    SIGNED = "signed"  # every party signed it: final, no new version


#: The statuses in order, from the first draft to the final text.
ARTICLE_STATUS_ORDER: tuple[ArticleStatus, ...] = tuple(ArticleStatus)


class DepositStatus(StrEnum):
    """Where a deposit stands; only an open one may be amended, withdrawn or matched."""

    OPEN = "open"
    WITHDRAWN = "withdrawn"
    MATCHED = "matched"


#: How far an act's claimed time may be from the record's time at its place (either way).
CLOCK_TOLERANCE = timedelta(minutes=5)


class Words(StrEnum):
    """What a consent act consents to: its exact words are bound into the act's signature."""

    OFFER = "offer"  # the copy of the offer the act names: its text
    ARTICLE = "article"  # the article version the act names: its text


@dataclass(frozen=True, slots=True)
class ActionRule:
    """Everything the rules say about one action (see the module's header)."""

    level: Level  # the mandate a member needs (a party's root authority holds every level)
    root_only: bool = False  # only a party's root authority performs it
    formal: bool = False  # signed with the actor's identity key
    talks_wide: bool = False  # every device of the talks receives it
    content: bool = False  # carries the talks' words: sealed in a bundle without content
    stage: Stage | ArticleStatus | None = None  # the consent stage it brings, if a consent
    words: Words | None = None  # what a consent binds


_O, _S, _P, _A, _G = Level.OBSERVE, Level.SPEAK, Level.PROPOSE, Level.ACCEPT, Level.SIGN

#: One row per action. Grants and revocations also check attenuation (never wider than the
#: actor's own mandate); the negotiating text also checks the pen and the order of stages.
ACTIONS: Mapping[Action, ActionRule] = {
    Action.ADD_PARTY: ActionRule(_O, root_only=True, formal=True, talks_wide=True),
    Action.ADD_MEMBER: ActionRule(_O, root_only=True, formal=True, talks_wide=True),
    Action.GRANT: ActionRule(_O, formal=True, talks_wide=True),
    Action.REVOKE: ActionRule(_O, formal=True, talks_wide=True),
    Action.ADD_DEVICE: ActionRule(_O, formal=True, talks_wide=True),
    Action.REVOKE_DEVICE: ActionRule(_O, formal=True, talks_wide=True),
    Action.CREATE_ROOM: ActionRule(_S, formal=True),
    Action.JOIN: ActionRule(_O, formal=True),
    Action.LEAVE: ActionRule(_O, formal=True),
    Action.REQUEST_CONTACT: ActionRule(_S, formal=True),
    Action.SET_RETENTION: ActionRule(_O, root_only=True, formal=True, talks_wide=True),
    Action.SEND: ActionRule(_S, content=True),
    Action.PROPOSE: ActionRule(_P, content=True),
    Action.RELAY: ActionRule(_S, content=True),
    Action.CARRY: ActionRule(_S, content=True),
    Action.ACCEPT: ActionRule(_A, formal=True, stage=Stage.AGREED_AD_REF, words=Words.OFFER),
    Action.SIGN: ActionRule(_G, formal=True, stage=Stage.SIGNED, words=Words.OFFER),
    Action.CONFIRM: ActionRule(
        _G, root_only=True, formal=True, stage=Stage.CONFIRMED, words=Words.OFFER
    ),
    Action.DRAFT_ARTICLE: ActionRule(_P, formal=True, talks_wide=True, content=True),
    Action.AGREE_ARTICLE: ActionRule(
        _A, formal=True, talks_wide=True, stage=ArticleStatus.AGREED_AD_REF, words=Words.ARTICLE
    ),
    Action.INITIAL_ARTICLE: ActionRule(
        _A, formal=True, talks_wide=True, stage=ArticleStatus.INITIALLED, words=Words.ARTICLE
    ),
    Action.SIGN_ARTICLE: ActionRule(
        _G, formal=True, talks_wide=True, stage=ArticleStatus.SIGNED, words=Words.ARTICLE
    ),
    # The escrow: never talks-wide (a deposit reaches the mediator and its own party only).
    Action.DEPOSIT: ActionRule(_P, formal=True, content=True),
    Action.AMEND: ActionRule(_P, formal=True, content=True),
    Action.WITHDRAW: ActionRule(_P, formal=True),
    Action.DEPOSIT_NOTICE: ActionRule(_P),
    Action.ANNOUNCE_MATCH: ActionRule(_P, formal=True, content=True),
    Action.MATCH_NOTICE: ActionRule(_P),
    # A direct match: to the two parties only, signed by each over the same words.
    Action.DIRECT_MATCH: ActionRule(_P, formal=True, content=True),
    # Private preferences: the agenda reaches every device (every party scores it); scores reach
    # the mediator's devices and the submitting party's, every other device a notice.
    Action.SET_AGENDA: ActionRule(_P, formal=True, talks_wide=True, content=True),
    Action.SUBMIT_SCORES: ActionRule(_P, formal=True, content=True),
    Action.SCORES_NOTICE: ActionRule(_P),
}

#: A party's consents to an article version come in order: the status every party must have
#: reached before each (``None``: no bracket left is enough). What each brings is its stage in
#: :data:`ACTIONS`.
ARTICLE_NEEDS: Mapping[Action, ArticleStatus | None] = {
    Action.AGREE_ARTICLE: None,
    Action.INITIAL_ARTICLE: ArticleStatus.AGREED_AD_REF,
    Action.SIGN_ARTICLE: ArticleStatus.INITIALLED,
}

#: The mandate a member needs for each action (from :data:`ACTIONS`).
REQUIRED_LEVEL: Mapping[Action, Level] = {action: rule.level for action, rule in ACTIONS.items()}

#: Actions only a party's root authority performs (from :data:`ACTIONS`).
ROOT_ONLY: frozenset[Action] = frozenset(a for a, rule in ACTIONS.items() if rule.root_only)

#: Actions every device of the talks receives (from :data:`ACTIONS`): the state they build is
#: the same on every device that holds the same record prefix, and devices compare its digest.
TALKS_WIDE: frozenset[Action] = frozenset(a for a, rule in ACTIONS.items() if rule.talks_wide)


@dataclass(frozen=True, slots=True)
class LabelRule:
    """Everything the rules say about one carry label (see the module's header)."""

    relay_modes: frozenset[RelayMode]  # how the mediator may carry it
    private_only: bool  # may only be sent in PRIVATE_ROOM_KINDS
    signed: bool  # the words are signed by their author, so a verbatim carry proves them


#: One row per carry label.
LABELS: Mapping[Label, LabelRule] = {
    Label.MEDIATOR_ONLY: LabelRule(frozenset(), private_only=True, signed=False),
    Label.CARRY_GIST: LabelRule(frozenset({RelayMode.GIST}), private_only=False, signed=False),
    Label.CARRY_VERBATIM: LabelRule(
        frozenset({RelayMode.VERBATIM, RelayMode.GIST}), private_only=False, signed=True
    ),
}

#: Which relay modes each carry label allows (from :data:`LABELS`).
RELAY_MODES: Mapping[Label, frozenset[RelayMode]] = {
    label: rule.relay_modes for label, rule in LABELS.items()
}

#: Room kinds where only one party (and, for a caucus, the mediator) listens.
PRIVATE_ROOM_KINDS: frozenset[RoomKind] = frozenset({RoomKind.CAUCUS, RoomKind.DELEGATION})


def may_be_in_room(
    kind: RoomKind, room_party: str | None, member_party: str, member_role: Role
) -> bool:
    """Whether a member of ``member_party`` may be in a room of ``kind`` owned by ``room_party``."""
    if kind is RoomKind.PLENARY:
        return True
    if kind is RoomKind.CAUCUS:
        return member_party == room_party or member_role is Role.MEDIATOR
    return member_party == room_party
