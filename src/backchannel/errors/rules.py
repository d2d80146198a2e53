"""The engine's refusals: an event the rules do not allow at its place in the record."""

from __future__ import annotations

from backchannel.errors.base import BackchannelError


class RuleViolation(BackchannelError):
    """The engine refused an event because it breaks a rule of the talks."""

    code = "rule.violation"
    status = 409


class UnknownEntity(RuleViolation):
    """The event names a party, member, room, device or message that does not exist."""

    code = "entity.unknown"
    status = 404


class DuplicateId(RuleViolation):
    """The event would create something under an id already in use."""

    code = "id.duplicate"


class EventOutOfOrder(RuleViolation):
    """The act claims a time further before the record's time at its place than the tolerance."""

    code = "event.out_of_order"


class EventAhead(RuleViolation):
    """The act claims a time further after the record's time at its place than the tolerance."""

    code = "event.ahead_of_record"


class WordsDiffer(RuleViolation):
    """A consent's signature binds other words than those it names hold on this device."""

    code = "consent.words_differ"


class NotRoomMember(RuleViolation):
    """The actor (or the reader) is not in the room the event concerns."""

    code = "room.not_member"
    status = 403


class RoomComposition(RuleViolation):
    """The member's party may not be in a room of this kind."""

    code = "room.composition"


class AlreadyInRoom(RuleViolation):
    """The member is already in the room."""

    code = "room.already_member"


class MandateInsufficient(RuleViolation):
    """The actor's mandate is below what the action needs."""

    code = "mandate.insufficient"
    status = 403


class MandateExceedsGrantor(RuleViolation):
    """A grant would give more than the grantor holds."""

    code = "mandate.exceeds_grantor"
    status = 403


class MandateExpired(RuleViolation):
    """The actor's mandate expired before the event's time."""

    code = "mandate.expired"
    status = 403


class MandateRevoked(RuleViolation):
    """The actor's mandate was revoked (or its grantor's was) and not re-issued."""

    code = "mandate.revoked"
    status = 403


class MandateForged(RuleViolation):
    """A mandate token that does not verify: another key, another talks, or a broken chain."""

    code = "mandate.forged"
    status = 403


class MandateOverAttenuated(RuleViolation):
    """A delegated mandate wider than its grantor's link: attenuation only narrows."""

    code = "mandate.over_attenuated"
    status = 403


class DeviceUnknown(RuleViolation):
    """The device is not one of the actor's."""

    code = "device.unknown"
    status = 403


class DeviceRevoked(RuleViolation):
    """The device was revoked; it may not act or read anything new."""

    code = "device.revoked"
    status = 403


class RelayNotMediator(RuleViolation):
    """Only a member of the mediator's party may relay between rooms."""

    code = "relay.not_mediator"
    status = 403


class RelayLabelForbids(RuleViolation):
    """The message's carry label does not allow this relay."""

    code = "relay.label_forbids"
    status = 403


class RelaySameRoom(RuleViolation):
    """A relay must carry a message into another room."""

    code = "relay.same_room"


class RelayNeedsOwnWords(RuleViolation):
    """A gist relay needs new text from the mediator, not the original."""

    code = "relay.gist_needs_text"


class RelayUnverified(RuleViolation):
    """A verbatim carry without its original, signed by its author, word for word."""

    code = "relay.unverified"


class PartyInvalid(RuleViolation):
    """The talks cannot take this party (a second mediator, an unknown role)."""

    code = "party.invalid"


class SendLabelForbids(RuleViolation):
    """A ``mediator-only`` message may be sent only where no other party listens."""

    code = "send.label_forbids"
    status = 403


class ContactInvalid(RuleViolation):
    """A contact request names an impossible counterpart or channel."""

    code = "contact.invalid"


class ProposalInvalid(RuleViolation):
    """An acceptance or signature does not fit the proposal it names."""

    code = "proposal.invalid"


class ConfirmNotAccepted(RuleViolation):
    """A root confirms a copy of an offer no member of its party accepted ad referendum before."""

    code = "confirm.not_accepted"


class ConfirmRepeated(RuleViolation):
    """A root confirms again what it already confirmed on the same copy of an offer."""

    code = "confirm.duplicate"


class TextMalformed(RuleViolation):
    """An article's text has an unbalanced or nested bracket, a blank alternative, or no words."""

    code = "text.malformed"
    status = 400


class TextNotPenHolder(RuleViolation):
    """A party drafts the negotiating text in mediated talks, where the mediator holds the pen."""

    code = "text.not_pen_holder"
    status = 403


class TextNotAParty(RuleViolation):
    """The mediator consents to an article: only the parties to the text do."""

    code = "text.not_a_party"
    status = 403


class TextStale(RuleViolation):
    """A consent names a version of an article that is no longer its current one."""

    code = "text.stale"


class TextBracketed(RuleViolation):
    """A party agrees an article that still holds bracketed language."""

    code = "text.bracketed"


class TextAwaitingParties(RuleViolation):
    """An initial or signature comes before every party reached the stage it needs."""

    code = "text.awaiting_parties"


class TextDuplicate(RuleViolation):
    """A party consents again to a version it already took that far, or a draft changes nothing."""

    code = "text.duplicate"


class TextFinal(RuleViolation):
    """A new version of an article every party has signed."""

    code = "text.final"


class TextQuotesConfidential(RuleViolation):
    """A draft repeats the words of a mediator-only or carry-gist message, which every party
    would then read. Checked by the drafting device, which alone holds that message."""

    code = "text.quotes_confidential"


class DealsTooMany(RuleViolation):
    """A side's commitments expand into more deals than direct matching can enumerate or send."""

    code = "direct.too_many_deals"
    status = 400


class TermUnscaled(RuleViolation):
    """A numeric term without a public scale, which direct matching needs to bucket it."""

    code = "direct.term_unscaled"
    status = 400


class DisclosureDiffers(RuleViolation):
    """The other side disclosed matched commitments that are not the deal both matched."""

    code = "direct.disclosure_differs"


class DepositMalformed(RuleViolation):
    """A deposit's commitment is not one well-formed commitment of the depositing party."""

    code = "escrow.malformed"
    status = 400


class DepositNotOwn(RuleViolation):
    """A party amends or withdraws a deposit another party made."""

    code = "escrow.not_own"
    status = 403


class MatchNotMediator(RuleViolation):
    """A match announced by someone other than a member of the mediator's party."""

    code = "escrow.not_mediator"
    status = 403


class DepositUnknown(RuleViolation):
    """The act names a deposit the talks do not hold."""

    code = "escrow.unknown"
    status = 404


class DepositStale(RuleViolation):
    """The act names a deposit that was withdrawn or already matched."""

    code = "escrow.stale"


class MatchDiffers(RuleViolation):
    """An announced match is not what the matcher finds over the deposits held."""

    code = "escrow.not_matching"


# --- direct matching through the talks (client/direct_session.py, engine/direct.py) ----------


class DirectUnavailable(RuleViolation):
    """A direct match is asked for where there is none to run: talks with a mediator, no single
    other party, or a file without this side's commitments."""

    code = "direct.unavailable"


class DirectNotInSession(RuleViolation):
    """A PSI item from a device that is not the other party's in the session it names."""

    code = "direct.not_in_session"
    status = 403


class DirectOutcomeDiffers(RuleViolation):
    """A signed direct match names other words than the other party signed (or its own)."""

    code = "direct.outcome_differs"


class DirectTimedOut(RuleViolation):
    """The other side did not answer the session in time."""

    code = "direct.timeout"
    status = 408
