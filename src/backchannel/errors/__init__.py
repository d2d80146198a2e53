"""Every error Backchannel raises, in one tree with stable codes.

Each error carries a dotted ``code`` (stable: clients, tests and translations key on it), an HTTP
``status`` for the server boundary, and a ``message`` written for the user. Debug context goes in
``detail`` and is never sent to clients. Driver, parser and crypto exceptions are translated into
this tree at the boundary with ``raise ... from exc``. The classes live in five modules (``base``:
the root and bad input; ``rules``: the engine's refusals; ``preferences``: those of private
preferences; ``record``: crypto and the record; ``access``: host, store, client and profiles) and
are all imported from here.

    BackchannelError                        backchannel.error          500
    ├── InputError                          input.invalid              400
    │   ├── ScenarioInvalid                 scenario.invalid           400  (file, line, reason)
    │   ├── ProblemInvalid                  analysis.invalid           400  (field, reason)
    │   ├── EscrowInvalid                   escrow.invalid             400  (field, reason)
    │   ├── EventMalformed                  event.malformed            400  (field, reason)
    │   ├── WireMalformed                   wire.malformed             400  (field, reason)
    │   ├── FormInvalid                     form.invalid               400  (field, reason)
    │   ├── MediaTypeUnsupported            input.media_type           415
    │   └── DocumentMalformed               document.malformed         400
    │   ├── DocumentInvalid                 document.invalid           400
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
    │   ├── TextQuotesConfidential          text.quotes_confidential   409
    │   ├── DepositMalformed                escrow.malformed           400
    │   ├── DepositNotOwn                   escrow.not_own             403
    │   ├── MatchNotMediator                escrow.not_mediator        403
    │   ├── DepositUnknown                  escrow.unknown             404
    │   ├── DepositStale                    escrow.stale               409
    │   ├── MatchDiffers                    escrow.not_matching        409
    │   ├── DealsTooMany                    direct.too_many_deals      400
    │   ├── TermUnscaled                    direct.term_unscaled       400
    │   ├── DisclosureDiffers               direct.disclosure_differs  409
    │   ├── DirectUnavailable               direct.unavailable         409
    │   ├── DirectNotInSession              direct.not_in_session      403
    │   ├── DirectOutcomeDiffers            direct.outcome_differs     409
    │   ├── DirectTimedOut                  direct.timeout             408
    │   ├── ScoresMalformed                 prefs.malformed            400
    │   ├── ScoresNotOwn                    prefs.not_own              403
    │   ├── AgendaNotMediator               prefs.not_mediator         403
    │   └── ScoresStale                     prefs.stale                409
    ├── CryptoError                         crypto.error               400
    │   ├── SignatureInvalid                crypto.bad_signature       400
    │   ├── DecryptionFailed                crypto.decrypt_failed      400
    │   ├── KeystoreLocked                  keystore.bad_passphrase    403
    │   └── PsiError                        psi.error                  400
    │       ├── PsiMalformed                psi.malformed              400
    │       ├── PsiInvalidPoint             psi.invalid_point          400
    │       ├── PsiWrongCount               psi.wrong_count            400
    │       ├── PsiDuplicate                psi.duplicate              400
    │       ├── PsiReflected                psi.reflected              400
    │       ├── PsiWrongContext             psi.wrong_context          400
    │       ├── PsiOutOfOrder               psi.out_of_order           409
    │       ├── PsiResultDiffers            psi.result_differs         409
    │       └── PsiTooMany                  psi.too_many               400
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
    ├── FontMissing                         document.font_missing      500
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
    ├── BlobIncomplete                      blob.incomplete            409
    ├── PayloadTooLarge                     input.too_large            413
    │   └── DocumentTooLarge                document.too_large         413
    ├── RateLimited                         rate.limited               429  (retry_after)
    ├── StoreError                          store.error                503
    │   └── StoreConflict                   store.conflict             409
    ├── ClientError                         client.error               502
    │   ├── HostUnreachable                 client.host_unreachable    503
    │   ├── DocumentCorrupt                 document.corrupt           502
    │   ├── HostRefused                     client.host_refused        502
    │   └── RendererUnavailable             ui.renderer_unavailable    503
    └── ProfileError                        profile.error              400
        ├── ProfileMissing                  profile.missing            404
        ├── ProfileExists                   profile.exists             409
        ├── ProfileBusy                     profile.busy               409
        ├── TalksUnknown                    talks.unknown              404
        ├── InviteMalformed                 invite.malformed           400
        ├── PeerUnknown                     peer.unknown               404
        ├── DocumentUnknown                 document.unknown           404
        ├── DocumentExpired                 document.expired           410
        ├── IntroductionRejected            directory.rejected         409
        ├── VerificationTimedOut            verify.timeout             408
        └── PassphraseError                 passphrase.error           400
            ├── PassphraseMissing           passphrase.missing         400
            ├── PassphraseTooShort          passphrase.too_short       400
            └── PassphraseMismatch          passphrase.mismatch        400
"""

from backchannel.errors.access import (
    AuthInvalid,
    AuthRequired,
    BlobIncomplete,
    ClientError,
    DocumentCorrupt,
    DocumentExpired,
    DocumentTooLarge,
    DocumentUnknown,
    Forbidden,
    HostRefused,
    HostUnreachable,
    IntroductionRejected,
    InviteInvalid,
    InviteMalformed,
    KeysExhausted,
    MethodNotAllowed,
    NotFound,
    OneTimeKeyClaimed,
    PassphraseError,
    PassphraseMismatch,
    PassphraseMissing,
    PassphraseTooShort,
    PayloadTooLarge,
    PeerUnknown,
    ProfileBusy,
    ProfileError,
    ProfileExists,
    ProfileMissing,
    RateLimited,
    RendererUnavailable,
    ReplayDetected,
    StoreConflict,
    StoreError,
    TalksUnknown,
    TokenExpired,
    UiHostRefused,
    UiOriginRefused,
    UiTokenMissing,
    UpgradeRequired,
    VerificationTimedOut,
)
from backchannel.errors.base import (
    BackchannelError,
    DocumentInvalid,
    DocumentMalformed,
    EscrowInvalid,
    EventMalformed,
    FontMissing,
    FormInvalid,
    InputError,
    MediaTypeUnsupported,
    ProblemInvalid,
    ScenarioInvalid,
    WireMalformed,
)
from backchannel.errors.preferences import (
    AgendaNotMediator,
    ScoresMalformed,
    ScoresNotOwn,
    ScoresStale,
)
from backchannel.errors.record import (
    BundleInvalid,
    CheckpointInvalid,
    CheckpointMalformed,
    CryptoError,
    DecryptionFailed,
    EntryMalformed,
    EventNotCanonical,
    KeystoreLocked,
    LogInconsistent,
    LogKeyChanged,
    LogRangeInvalid,
    LogRolledBack,
    ProofInvalid,
    PsiDuplicate,
    PsiError,
    PsiInvalidPoint,
    PsiMalformed,
    PsiOutOfOrder,
    PsiReflected,
    PsiResultDiffers,
    PsiTooMany,
    PsiWrongContext,
    PsiWrongCount,
    RecordClockBackwards,
    RecordError,
    SignatureInvalid,
    SplitView,
)
from backchannel.errors.rules import (
    AlreadyInRoom,
    ConfirmNotAccepted,
    ConfirmRepeated,
    ContactInvalid,
    DealsTooMany,
    DepositMalformed,
    DepositNotOwn,
    DepositStale,
    DepositUnknown,
    DeviceRevoked,
    DeviceUnknown,
    DirectNotInSession,
    DirectOutcomeDiffers,
    DirectTimedOut,
    DirectUnavailable,
    DisclosureDiffers,
    DuplicateId,
    EventAhead,
    EventOutOfOrder,
    MandateExceedsGrantor,
    MandateExpired,
    MandateForged,
    MandateInsufficient,
    MandateOverAttenuated,
    MandateRevoked,
    MatchDiffers,
    MatchNotMediator,
    NotRoomMember,
    PartyInvalid,
    ProposalInvalid,
    RelayLabelForbids,
    RelayNeedsOwnWords,
    RelayNotMediator,
    RelaySameRoom,
    RelayUnverified,
    RoomComposition,
    RuleViolation,
    SendLabelForbids,
    TermUnscaled,
    TextAwaitingParties,
    TextBracketed,
    TextDuplicate,
    TextFinal,
    TextMalformed,
    TextNotAParty,
    TextNotPenHolder,
    TextQuotesConfidential,
    TextStale,
    UnknownEntity,
    WordsDiffer,
)

__all__ = [
    "AgendaNotMediator",
    "AlreadyInRoom",
    "AuthInvalid",
    "AuthRequired",
    "BackchannelError",
    "BlobIncomplete",
    "BundleInvalid",
    "CheckpointInvalid",
    "CheckpointMalformed",
    "ClientError",
    "ConfirmNotAccepted",
    "ConfirmRepeated",
    "ContactInvalid",
    "CryptoError",
    "DealsTooMany",
    "DecryptionFailed",
    "DepositMalformed",
    "DepositNotOwn",
    "DepositStale",
    "DepositUnknown",
    "DeviceRevoked",
    "DeviceUnknown",
    "DirectNotInSession",
    "DirectOutcomeDiffers",
    "DirectTimedOut",
    "DirectUnavailable",
    "DisclosureDiffers",
    "DocumentCorrupt",
    "DocumentExpired",
    "DocumentInvalid",
    "DocumentMalformed",
    "DocumentTooLarge",
    "DocumentUnknown",
    "DuplicateId",
    "EntryMalformed",
    "EscrowInvalid",
    "EventAhead",
    "EventMalformed",
    "EventNotCanonical",
    "EventOutOfOrder",
    "FontMissing",
    "Forbidden",
    "FormInvalid",
    "HostRefused",
    "HostUnreachable",
    "InputError",
    "IntroductionRejected",
    "InviteInvalid",
    "InviteMalformed",
    "KeysExhausted",
    "KeystoreLocked",
    "LogInconsistent",
    "LogKeyChanged",
    "LogRangeInvalid",
    "LogRolledBack",
    "MandateExceedsGrantor",
    "MandateExpired",
    "MandateForged",
    "MandateInsufficient",
    "MandateOverAttenuated",
    "MandateRevoked",
    "MatchDiffers",
    "MatchNotMediator",
    "MediaTypeUnsupported",
    "MethodNotAllowed",
    "NotFound",
    "NotRoomMember",
    "OneTimeKeyClaimed",
    "PartyInvalid",
    "PassphraseError",
    "PassphraseMismatch",
    "PassphraseMissing",
    "PassphraseTooShort",
    "PayloadTooLarge",
    "PeerUnknown",
    "ProblemInvalid",
    "ProfileBusy",
    "ProfileError",
    "ProfileExists",
    "ProfileMissing",
    "ProofInvalid",
    "ProposalInvalid",
    "PsiDuplicate",
    "PsiError",
    "PsiInvalidPoint",
    "PsiMalformed",
    "PsiOutOfOrder",
    "PsiReflected",
    "PsiResultDiffers",
    "PsiTooMany",
    "PsiWrongContext",
    "PsiWrongCount",
    "RateLimited",
    "RecordClockBackwards",
    "RecordError",
    "RelayLabelForbids",
    "RelayNeedsOwnWords",
    "RelayNotMediator",
    "RelaySameRoom",
    "RelayUnverified",
    "RendererUnavailable",
    "ReplayDetected",
    "RoomComposition",
    "RuleViolation",
    "ScenarioInvalid",
    "ScoresMalformed",
    "ScoresNotOwn",
    "ScoresStale",
    "SendLabelForbids",
    "SignatureInvalid",
    "SplitView",
    "StoreConflict",
    "StoreError",
    "TalksUnknown",
    "TermUnscaled",
    "TextAwaitingParties",
    "TextBracketed",
    "TextDuplicate",
    "TextFinal",
    "TextMalformed",
    "TextNotAParty",
    "TextNotPenHolder",
    "TextQuotesConfidential",
    "TextStale",
    "TokenExpired",
    "UiHostRefused",
    "UiOriginRefused",
    "UiTokenMissing",
    "UnknownEntity",
    "UpgradeRequired",
    "VerificationTimedOut",
    "WireMalformed",
    "WordsDiffer",
]
