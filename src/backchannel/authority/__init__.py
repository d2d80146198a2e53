"""Verifiable authority: mandates as Biscuit tokens issued by each party's root authority."""

from backchannel.authority.token import (
    Link,
    Mandate,
    check,
    confirm,
    delegate,
    issue,
    read,
    revocation_ids,
)

__all__ = ["Link", "Mandate", "check", "confirm", "delegate", "issue", "read", "revocation_ids"]
