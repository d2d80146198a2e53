"""The rules of the talks, as data. Everything that decides what an event may do lives here.

- **Mandates** are ordered: ``observe < speak < propose < accept < sign``. An action needs the level
  in :data:`REQUIRED_LEVEL`. A grant is never wider than what its grantor holds (attenuation).
- **Rooms** have a kind that fixes which parties may be in them (:func:`may_be_in_room`):
  a ``caucus`` holds one party's members and the mediator's; a ``delegation`` room holds one party
  only (never the mediator, unless it is the mediator's own room); a ``plenary`` holds every party.
- **Carry labels** say what the mediator may repeat (:data:`RELAY_MODES`): ``mediator-only`` is
  never relayed; ``carry-gist`` only in the mediator's own words; ``carry-verbatim`` verbatim or as
  a gist.
  A ``mediator-only`` message may only be sent where nobody but its author's party and the mediator
  listen (:data:`PRIVATE_ROOM_KINDS`).
- A member reads a message only if, when it was sent, the member was in the room, held at least
  ``observe`` and had a device that was not revoked.
- **Consent** to an offer goes through stages (:class:`Stage`, VCLT Arts. 8, 10 and 12): a member
  accepts it ad referendum, a member signs it, and the party's **root authority** confirms what
  its member accepted ad referendum. Confirmation is the root's own act (:data:`ROOT_ONLY`): no
  member's mandate, however wide, reaches it.
- The **negotiating text** is one draft of articles. The mediator holds the pen (any party does in
  talks without one): drafting needs ``propose``. Each party consents to an article's current
  version in order (:data:`ARTICLE_STAGES`): ad referendum (``accept``) once no bracket is left,
  initialled (``accept``) once every party agreed, signed (``sign``) once every party initialled.
  A new version starts its consents afresh; an article every party signed is final.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    GRANT = "grant"
    REVOKE = "revoke"
    ADD_DEVICE = "add_device"
    REVOKE_DEVICE = "revoke_device"
    JOIN = "join"
    LEAVE = "leave"
    # Set-up actions: what a scenario's [[parties]], [[members]] and [[rooms]] tables become.
    ADD_PARTY = "add_party"
    ADD_MEMBER = "add_member"
    CREATE_ROOM = "create_room"


#: The mandate an actor needs for each action (grants and revocations also check attenuation).
REQUIRED_LEVEL: Mapping[Action, Level] = {
    Action.REQUEST_CONTACT: Level.SPEAK,
    Action.SEND: Level.SPEAK,
    Action.RELAY: Level.SPEAK,
    Action.CARRY: Level.SPEAK,
    Action.PROPOSE: Level.PROPOSE,
    Action.ACCEPT: Level.ACCEPT,
    Action.SIGN: Level.SIGN,
    Action.CONFIRM: Level.SIGN,  # and by a root only: see ROOT_ONLY
    Action.DRAFT_ARTICLE: Level.PROPOSE,
    Action.AGREE_ARTICLE: Level.ACCEPT,
    Action.INITIAL_ARTICLE: Level.ACCEPT,
    Action.SIGN_ARTICLE: Level.SIGN,
    Action.GRANT: Level.OBSERVE,
    Action.REVOKE: Level.OBSERVE,
    Action.ADD_DEVICE: Level.OBSERVE,
    Action.REVOKE_DEVICE: Level.OBSERVE,
    Action.JOIN: Level.OBSERVE,
    Action.LEAVE: Level.OBSERVE,
    Action.CREATE_ROOM: Level.SPEAK,
}

#: Actions only a party's root authority performs (the actor is the party's id).
ROOT_ONLY: frozenset[Action] = frozenset({Action.CONFIRM})


class Stage(StrEnum):
    """How far a party has consented to an offer; later in :data:`STAGE_ORDER` is further."""

    AGREED_AD_REF = "agreed-ad-ref"  # a member accepted it, subject to its principal
    SIGNED = "signed"  # a member holding 'sign' signed it
    CONFIRMED = "confirmed"  # the party's root confirmed its member's acceptance (VCLT Art. 8)


#: The stages in order: the root's own confirmation is as far as a party's consent goes, since
#: every mandate derives from the root.
STAGE_ORDER: tuple[Stage, ...] = (Stage.AGREED_AD_REF, Stage.SIGNED, Stage.CONFIRMED)

#: The stage each consent act brings an offer to, for the acting party.
STAGE_OF: Mapping[Action, Stage] = {
    Action.ACCEPT: Stage.AGREED_AD_REF,
    Action.SIGN: Stage.SIGNED,
    Action.CONFIRM: Stage.CONFIRMED,
}


class ArticleStatus(StrEnum):
    """Where an article of the negotiating text stands, for all parties together."""

    BRACKETED = "bracketed"  # language in square brackets is not agreed yet
    CLEAN = "clean"  # no bracket left; not every party has agreed it ad referendum
    AGREED_AD_REF = "agreed-ad-ref"  # every party agreed it, subject to its principal
    INITIALLED = "initialled"  # every party initialled it: the text is authenticated
    SIGNED = "signed"  # every party signed it: final, no new version


#: A party's consents to an article version, in the order they must come, each with the status
#: every party must have reached before it (``None``: no bracket left is enough).
ARTICLE_STAGES: Mapping[Action, tuple[ArticleStatus, ArticleStatus | None]] = {
    Action.AGREE_ARTICLE: (ArticleStatus.AGREED_AD_REF, None),
    Action.INITIAL_ARTICLE: (ArticleStatus.INITIALLED, ArticleStatus.AGREED_AD_REF),
    Action.SIGN_ARTICLE: (ArticleStatus.SIGNED, ArticleStatus.INITIALLED),
}

#: The statuses in order, from the first draft to the final text.
ARTICLE_STATUS_ORDER: tuple[ArticleStatus, ...] = tuple(ArticleStatus)


#: Which relay modes each carry label allows.
RELAY_MODES: Mapping[Label, frozenset[RelayMode]] = {
    Label.MEDIATOR_ONLY: frozenset(),
    Label.CARRY_GIST: frozenset({RelayMode.GIST}),
    Label.CARRY_VERBATIM: frozenset({RelayMode.VERBATIM, RelayMode.GIST}),
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
