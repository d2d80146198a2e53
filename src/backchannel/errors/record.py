"""Cryptography and the record: a signature, a ciphertext, a proof or a bundle that fails."""

from __future__ import annotations

from backchannel.errors.base import BackchannelError

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


class PsiError(CryptoError):
    """A private set intersection message breaks the protocol; the session did not change."""

    code = "psi.error"


class PsiMalformed(PsiError):
    """A PSI message does not decode: wrong kind, fields, encoding or sizes."""

    code = "psi.malformed"


class PsiInvalidPoint(PsiError):
    """A PSI message holds a value that is not a valid prime-order group element."""

    code = "psi.invalid_point"


class PsiWrongCount(PsiError):
    """A PSI message holds another number of points than the session's agreed size."""

    code = "psi.wrong_count"


class PsiDuplicate(PsiError):
    """A PSI message holds the same point twice."""

    code = "psi.duplicate"


class PsiReflected(PsiError):
    """A PSI message sends this side's own points back as the other side's."""

    code = "psi.reflected"


class PsiWrongContext(PsiError):
    """A PSI message names other talks or another session."""

    code = "psi.wrong_context"


class PsiOutOfOrder(PsiError):
    """A PSI message, or a request for the result, comes at the wrong step."""

    code = "psi.out_of_order"
    status = 409


class PsiResultDiffers(PsiError):
    """The other side's confirmation names another intersection than this side computed."""

    code = "psi.result_differs"
    status = 409


class PsiTooMany(PsiError):
    """A side holds more items than the session's agreed (padded) size."""

    code = "psi.too_many"


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
