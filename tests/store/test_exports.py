"""The store's public surface is exactly what ``__all__`` lists."""

from __future__ import annotations

import backchannel.store as store


def test_store_exports() -> None:
    """Callers get the Protocol, the value types and ``open_store`` — not the engines."""
    assert sorted(store.__all__) == [
        "Append",
        "Blob",
        "ChallengeOutcome",
        "Delivery",
        "Device",
        "Event",
        "Invite",
        "OneTimeKey",
        "Store",
        "Talks",
        "Token",
        "open_store",
    ]
    assert all(hasattr(store, name) for name in store.__all__)


def test_secrets_stay_out_of_repr() -> None:
    """Ciphertexts and hashed secrets never appear in a value's repr (so never in logs)."""
    delivery = store.Delivery("d", 1, "t", 1, "s", 0, b"SECRET-CIPHERTEXT")
    token = store.Token(b"SECRET-HASH", "d", 0)
    assert "SECRET" not in repr(delivery) and "SECRET" not in repr(token)
