"""Every error Backchannel raises, in one tree with stable codes.

Each error carries a dotted ``code`` (stable: clients, tests and translations key on it), an HTTP
``status`` for the server boundary, and a ``message`` written for the user. Debug context goes in
``detail`` and is never sent to clients. Driver, parser and crypto exceptions are translated into
this tree at the boundary with ``raise ... from exc``.

    BackchannelError                        backchannel.error          500
    ├── InputError                          input.invalid              400
    │   ├── ScenarioInvalid                 scenario.invalid           400  (file, line, reason)
    │   ├── ProblemInvalid                  analysis.invalid           400  (field, reason)
    │   ├── EscrowInvalid                   escrow.invalid             400  (field, reason)
    │   ├── EventMalformed                  event.malformed            400  (field, reason)
    │   ├── WireMalformed                   wire.malformed             400  (field, reason)
    │   ├── FormInvalid                     form.invalid               400  (field, reason)
    │   └── MediaTypeUnsupported            input.media_type           415
    ├── RuleViolation  (the engine refused an event)                   409
    │   ├── UnknownEntity                   entity.unknown             404
    │   ├── DuplicateId                     id.duplicate               409
    │   ├── EventOutOfOrder                 event.out_of_order         409
    │   ├── EventAhead                      event.ahead_of_record      409
    │   ├── WordsDiffer                     consent.words_differ       409
    │   ├── NotRoomMember                   room.not_member            403
    │   ├── RoomComposition                 room.composition           409
    │   ├── AlreadyInRoom                   room.already_member        409
    │   ├── MandateInsufficient             mandate.insufficient       403
    │   ├── MandateExceedsGrantor           mandate.exceeds_grantor    403
    │   ├── MandateExpired                  mandate.expired            403
    │   ├── MandateRevoked                  mandate.revoked            403
    │   ├── MandateForged                   mandate.forged             403
    │   ├── MandateOverAttenuated           mandate.over_attenuated    403
    │   ├── DeviceUnknown                   device.unknown             403
    │   ├── DeviceRevoked                   device.revoked             403
    │   ├── RelayNotMediator                relay.not_mediator         403
    │   ├── RelayLabelForbids               relay.label_forbids        403
    │   ├── RelaySameRoom                   relay.same_room            409
    │   ├── RelayNeedsOwnWords              relay.gist_needs_text      409
    │   ├── RelayUnverified                 relay.unverified           409
    │   ├── PartyInvalid                    party.invalid              409
    │   ├── SendLabelForbids                send.label_forbids         403
    │   ├── ContactInvalid                  contact.invalid            409
    │   ├── ProposalInvalid                 proposal.invalid           409
    │   ├── ConfirmNotAccepted              confirm.not_accepted       409
    │   ├── ConfirmRepeated                 confirm.duplicate          409
    │   ├── TextMalformed                   text.malformed             400
    │   ├── TextNotPenHolder                text.not_pen_holder        403
    │   ├── TextNotAParty                   text.not_a_party           403
    │   ├── TextStale                       text.stale                 409
    │   ├── TextBracketed                   text.bracketed             409
    │   ├── TextAwaitingParties             text.awaiting_parties      409
    │   ├── TextDuplicate                   text.duplicate             409
    │   ├── TextFinal                       text.final                 409
    │   └── TextQuotesConfidential          text.quotes_confidential   409
    ├── CryptoError                         crypto.error               400
    │   ├── SignatureInvalid                crypto.bad_signature       400
    │   ├── DecryptionFailed                crypto.decrypt_failed      400
    │   └── KeystoreLocked                  keystore.bad_passphrase    403
    ├── RecordError                         record.error               409
    │   ├── ProofInvalid                    record.proof_invalid       409
    │   ├── LogInconsistent                 record.inconsistent        409
    │   ├── LogRolledBack                   record.rollback            409
    │   ├── SplitView                       record.split_view          409
    │   ├── CheckpointInvalid               record.checkpoint_invalid  409
    │   ├── LogKeyChanged                   record.key_changed         409
    │   ├── RecordClockBackwards            record.clock               409
    │   ├── EventNotCanonical               record.event_not_canonical 400
    │   ├── CheckpointMalformed             record.checkpoint_malformed 400
    │   ├── EntryMalformed                  record.entry_malformed     400
    │   ├── LogRangeInvalid                 record.range_invalid       400  (index, size, range)
    │   └── BundleInvalid                   record.bundle_invalid      409
    ├── AuthRequired                        auth.required              401
    ├── AuthInvalid                         auth.invalid               401
    │   └── TokenExpired                    auth.expired               401
    ├── ReplayDetected                      auth.replay                409
    ├── Forbidden                           access.forbidden           403
    │   ├── UiTokenMissing                  ui.token_missing           403
    │   ├── UiHostRefused                   ui.host_refused            403
    │   └── UiOriginRefused                 ui.origin_refused          403
    ├── NotFound                            resource.not_found         404
    ├── MethodNotAllowed                    request.method_not_allowed 405
    ├── UpgradeRequired                     request.upgrade_required   426
    ├── OneTimeKeyClaimed                   keys.claimed               409
    ├── KeysExhausted                       keys.exhausted             404
    ├── InviteInvalid                       invite.invalid             404
    ├── PayloadTooLarge                     input.too_large            413
    ├── RateLimited                         rate.limited               429  (retry_after)
    ├── StoreError                          store.error                503
    │   └── StoreConflict                   store.conflict             409
    ├── ClientError                         client.error               502
    │   ├── HostUnreachable                 client.host_unreachable    503
    │   └── HostRefused                     client.host_refused        502
    └── ProfileError                        profile.error              400
        ├── ProfileMissing                  profile.missing            404
        ├── ProfileExists                   profile.exists             409
        ├── ProfileBusy                     profile.busy               409
        ├── TalksUnknown                    talks.unknown              404
        ├── InviteMalformed                 invite.malformed           400
        ├── PeerUnknown                     peer.unknown               404
        ├── IntroductionRejected            directory.rejected         409
        └── VerificationTimedOut            verify.timeout             408
"""

from __future__ import annotations

from typing import Any, ClassVar


class BackchannelError(Exception):
    """Root of every error Backchannel raises on purpose."""

    code: ClassVar[str] = "backchannel.error"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail: dict[str, Any] = detail or {}

    def to_dict(self) -> dict[str, Any]:
        """The user-facing shape: code and sentence, never the debug detail."""
        return {"code": self.code, "message": self.message}


# --- bad input -------------------------------------------------------------------------------


class InputError(BackchannelError):
    """A request, file or argument is malformed; nothing was changed."""

    code = "input.invalid"
    status = 400


class ScenarioInvalid(InputError):
    """A scenario file cannot be read; names the file, the line and the reason."""

    code = "scenario.invalid"

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {reason}", detail={"file": file, "line": line})
        self.file = file
        self.line = line
        self.reason = reason


class _FieldError(InputError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", detail={"field": field})
        self.field = field
        self.reason = reason


class ProblemInvalid(_FieldError):
    """An analysis problem file is malformed; names the field."""

    code = "analysis.invalid"


class EscrowInvalid(_FieldError):
    """An escrow file is malformed; names the field."""

    code = "escrow.invalid"


class EventMalformed(_FieldError):
    """An encoded engine event (from the wire or a record) does not decode; names the field."""

    code = "event.malformed"


class WireMalformed(_FieldError):
    """A payload another device sent does not hold items in the wire format; names the field."""

    code = "wire.malformed"


class FormInvalid(_FieldError):
    """A request to the local web app lacks a field or gives a bad value; names the field."""

    code = "form.invalid"


class MediaTypeUnsupported(InputError):
    """A request body is not of the one media type the route reads (JSON)."""

    code = "input.media_type"
    status = 415


# --- engine rules ----------------------------------------------------------------------------


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


# --- crypto ----------------------------------------------------------------------------------


class CryptoError(BackchannelError):
    """A cryptographic check or operation failed."""

    code = "crypto.error"
    status = 400


class SignatureInvalid(CryptoError):
    """A signature does not verify under the claimed key."""

    code = "crypto.bad_signature"


class DecryptionFailed(CryptoError):
    """A ciphertext could not be decrypted or authenticated."""

    code = "crypto.decrypt_failed"


class KeystoreLocked(CryptoError):
    """The keystore passphrase is wrong or the file was altered."""

    code = "keystore.bad_passphrase"
    status = 403


# --- record ----------------------------------------------------------------------------------


class RecordError(BackchannelError):
    """The record (Merkle log) failed a check."""

    code = "record.error"
    status = 409


class ProofInvalid(RecordError):
    """An inclusion or consistency proof does not verify."""

    code = "record.proof_invalid"


class LogInconsistent(RecordError):
    """Two views of the log cannot both be true (split view, rollback, rewrite)."""

    code = "record.inconsistent"


class EventNotCanonical(RecordError):
    """An event cannot be put in canonical form (a float, a huge integer, a clashing key)."""

    code = "record.event_not_canonical"
    status = 400


class LogRolledBack(RecordError):
    """The host served a smaller record than one it served before."""

    code = "record.rollback"


class SplitView(RecordError):
    """A peer cosigned a head of the record that this device's record contradicts."""

    code = "record.split_view"


class CheckpointInvalid(RecordError):
    """A checkpoint does not verify under the key it must be signed with."""

    code = "record.checkpoint_invalid"


class LogKeyChanged(RecordError):
    """The host signs the talks' record under another key than the one pinned."""

    code = "record.key_changed"


class RecordClockBackwards(RecordError):
    """The host's time stamps go back along the record."""

    code = "record.clock"


class CheckpointMalformed(RecordError):
    """A signed note or checkpoint does not follow the C2SP format; names the reason."""

    code = "record.checkpoint_malformed"
    status = 400


class BundleInvalid(RecordError):
    """A record bundle that does not verify: the message names the entry and the reason."""

    code = "record.bundle_invalid"


class EntryMalformed(RecordError):
    """A record entry that is not a commitment, recipient tags and a time in their layout."""

    code = "record.entry_malformed"
    status = 400


class LogRangeInvalid(RecordError):
    """A proof or entries request names indexes or sizes the log does not have."""

    code = "record.range_invalid"
    status = 400


# --- host ------------------------------------------------------------------------------------


class AuthRequired(BackchannelError):
    """The request carries no bearer token (or device signature) where one is needed."""

    code = "auth.required"
    status = 401


class AuthInvalid(BackchannelError):
    """The token, challenge or signature presented does not authenticate a device."""

    code = "auth.invalid"
    status = 401


class TokenExpired(AuthInvalid):
    """The bearer token (or the challenge) is past its lifetime."""

    code = "auth.expired"


class ReplayDetected(BackchannelError):
    """A single-use challenge or nonce was presented a second time."""

    code = "auth.replay"
    status = 409


class Forbidden(BackchannelError):
    """The authenticated device may not do this (revoked, or not admitted to the talks)."""

    code = "access.forbidden"
    status = 403


class UiTokenMissing(Forbidden):
    """A request to the local web app without its access token (or with a wrong one)."""

    code = "ui.token_missing"


class UiHostRefused(Forbidden):
    """The local app was asked under a name other than 127.0.0.1 or localhost with its port."""

    code = "ui.host_refused"


class UiOriginRefused(Forbidden):
    """The request came from another origin than the local app's own page."""

    code = "ui.origin_refused"


class NotFound(BackchannelError):
    """The route or the resource it names does not exist."""

    code = "resource.not_found"
    status = 404


class MethodNotAllowed(BackchannelError):
    """The route exists but not with this HTTP method."""

    code = "request.method_not_allowed"
    status = 405


class UpgradeRequired(BackchannelError):
    """A plain HTTP request to a WebSocket route."""

    code = "request.upgrade_required"
    status = 426


class OneTimeKeyClaimed(BackchannelError):
    """The one-time key was already claimed; each is handed out once."""

    code = "keys.claimed"
    status = 409


class KeysExhausted(BackchannelError):
    """The device has no unclaimed one-time key left."""

    code = "keys.exhausted"
    status = 404


class InviteInvalid(BackchannelError):
    """The invite code is unknown, already used or expired."""

    code = "invite.invalid"
    status = 404


class PayloadTooLarge(BackchannelError):
    """The request body or one of its fields is over the host's limit."""

    code = "input.too_large"
    status = 413


class RateLimited(BackchannelError):
    """The device (or address) sent too many requests; retry after ``retry_after`` seconds."""

    code = "rate.limited"
    status = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__("Too many requests; slow down.", detail={"retry_after": retry_after})
        self.retry_after = retry_after


# --- store -----------------------------------------------------------------------------------


class StoreError(BackchannelError):
    """The store is unavailable or failed."""

    code = "store.error"
    status = 503


class StoreConflict(StoreError):
    """The write conflicts with stored data (duplicate key, stale version)."""

    code = "store.conflict"
    status = 409


# --- client ----------------------------------------------------------------------------------


class ClientError(BackchannelError):
    """A device could not complete a request to its host."""

    code = "client.error"
    status = 502


class HostUnreachable(ClientError):
    """The host did not answer (connection refused, timeout)."""

    code = "client.host_unreachable"
    status = 503


class HostRefused(ClientError):
    """The host refused a request with a code this client does not know."""

    code = "client.host_refused"


# --- local profiles --------------------------------------------------------------------------


class ProfileError(BackchannelError):
    """A local device profile cannot do what was asked."""

    code = "profile.error"
    status = 400


class ProfileMissing(ProfileError):
    """No profile exists in the directory named."""

    code = "profile.missing"
    status = 404


class ProfileExists(ProfileError):
    """A profile already exists there; it is never overwritten."""

    code = "profile.exists"
    status = 409


class ProfileBusy(ProfileError):
    """Another process has the profile open (one process at a time writes a profile)."""

    code = "profile.busy"
    status = 409


class TalksUnknown(ProfileError):
    """The profile takes part in no talks of that name."""

    code = "talks.unknown"
    status = 404


class InviteMalformed(ProfileError):
    """An invite string does not decode, or its signatures do not verify."""

    code = "invite.malformed"
    status = 400


class PeerUnknown(ProfileError):
    """No device of the talks matches the name given."""

    code = "peer.unknown"
    status = 404


class IntroductionRejected(ProfileError):
    """An introduction was refused: no invite, a clash with a known device, a bad signature."""

    code = "directory.rejected"
    status = 409


class VerificationTimedOut(ProfileError):
    """The other device did not answer a key verification in time."""

    code = "verify.timeout"
    status = 408
