"""The host, its store, the client's calls to it, and local profiles."""

from __future__ import annotations

from backchannel.errors.base import BackchannelError

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


class BlobIncomplete(BackchannelError):
    """A document's blob is read before every one of its chunks was uploaded."""

    code = "blob.incomplete"
    status = 409


class PayloadTooLarge(BackchannelError):
    """The request body or one of its fields is over the host's limit."""

    code = "input.too_large"
    status = 413


class DocumentTooLarge(PayloadTooLarge):
    """A file given to the local web app as a document is over the document size limit; none
    of it was kept."""

    code = "document.too_large"


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


class DocumentCorrupt(ClientError):
    """The host returned bytes that are not the document the message names (another blob, a
    missing or altered chunk): nothing was written."""

    code = "document.corrupt"
    status = 502


class HostRefused(ClientError):
    """The host refused a request with a code this client does not know."""

    code = "client.host_refused"


# --- local profiles --------------------------------------------------------------------------


class RendererUnavailable(ClientError):
    """The device has no PDF renderer (``pdftoppm``, poppler-utils) to show a PDF's pages."""

    code = "ui.renderer_unavailable"
    status = 503


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


class DocumentUnknown(ProfileError):
    """No document with this id in the talks, as this device may read it."""

    code = "document.unknown"
    status = 404


class DocumentExpired(ProfileError):
    """The talks' document retention has passed for this document: devices no longer open it."""

    code = "document.expired"
    status = 410


class VerificationTimedOut(ProfileError):
    """The other device did not answer a key verification in time."""

    code = "verify.timeout"
    status = 408


class PassphraseError(ProfileError):
    """The passphrase could not be had, or is not acceptable for a new profile."""

    code = "passphrase.error"


class PassphraseMissing(PassphraseError):
    """No passphrase file, no ``$BACKCHANNEL_PASSPHRASE`` and no terminal to ask on."""

    code = "passphrase.missing"


class PassphraseTooShort(PassphraseError):
    """A new profile's passphrase is shorter than the keystore accepts."""

    code = "passphrase.too_short"


class PassphraseMismatch(PassphraseError):
    """The passphrase typed a second time differs from the first."""

    code = "passphrase.mismatch"
