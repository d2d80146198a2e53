"""Device-side cryptography, composed from libsodium (PyNaCl) and vodozemac; nothing hand-written.

See ``docs/security.md`` for every construction and the threat model (the direct match's PSI in
``docs/security-direct.md``).
"""

from backchannel.crypto import keystore, psi
from backchannel.crypto.device import Device, DeviceCertificate, certificate_message, verify_device
from backchannel.crypto.envelope import Context, Recipient, Sessions
from backchannel.crypto.signed import (
    Identity,
    SignedAct,
    canonical_json,
    sign_act,
    signed_message,
    verify,
    verify_act,
    words_digest,
)
from backchannel.crypto.tags import TagKey
from backchannel.crypto.verification import SasExchange, ShortCodes, fingerprint

__all__ = [
    "Context",
    "Device",
    "DeviceCertificate",
    "Identity",
    "Recipient",
    "SasExchange",
    "Sessions",
    "ShortCodes",
    "SignedAct",
    "TagKey",
    "canonical_json",
    "certificate_message",
    "fingerprint",
    "keystore",
    "psi",
    "sign_act",
    "signed_message",
    "verify",
    "verify_act",
    "verify_device",
    "words_digest",
]
