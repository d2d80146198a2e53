"""Mandate tokens: real Biscuit tokens, real Ed25519 keys; every refusal has its own code."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel import authority
from backchannel.crypto.signed import Identity
from backchannel.engine.rules import Level
from backchannel.errors import (
    MandateExpired,
    MandateForged,
    MandateInsufficient,
    MandateOverAttenuated,
    MandateRevoked,
)

T0 = datetime(2026, 3, 16, 8, tzinfo=UTC)
ROOT = Identity.generate()
PRINCIPAL = Identity.generate()
ENVOY = Identity.generate()
NOTES = Identity.generate()


def principal_token(level: Level = Level.SIGN, expires: datetime | None = None) -> str:
    return authority.issue(
        ROOT,
        talks="t",
        party="iran",
        grant="g0",
        member="principal",
        level=level,
        holder=PRINCIPAL.public_key,
        expires=expires,
    )


def envoy_token(level: Level = Level.PROPOSE, signer: Identity = PRINCIPAL) -> str:
    return authority.delegate(
        principal_token(),
        ROOT.public_key,
        signer,
        grant="g1",
        member="envoy",
        level=level,
        to_holder=ENVOY.public_key,
    )


def check(token: str, holder: Identity, needs: Level, **kw: object) -> authority.Mandate:
    return authority.check(
        token,
        ROOT.public_key,
        talks=str(kw.pop("talks", "t")),
        holder=holder.public_key,
        needs=needs,
        at=kw.pop("at", T0),  # type: ignore[arg-type]
        revoked=kw.pop("revoked", ()),  # type: ignore[arg-type]
    )


def test_a_root_token_carries_its_grant() -> None:
    mandate = check(principal_token(), PRINCIPAL, Level.SIGN)
    assert (mandate.party, mandate.level, mandate.last.member) == ("iran", Level.SIGN, "principal")
    assert mandate.last.holder == PRINCIPAL.public_key


def test_a_delegation_narrows_and_names_its_chain() -> None:
    mandate = check(envoy_token(), ENVOY, Level.PROPOSE)
    assert [link.member for link in mandate.links] == ["principal", "envoy"]
    assert mandate.level is Level.PROPOSE
    assert mandate.links[1].signer == PRINCIPAL.public_key
    with pytest.raises(MandateInsufficient):
        check(envoy_token(), ENVOY, Level.ACCEPT)


def test_an_envoy_hands_observe_to_a_note_taker_offline() -> None:
    notes = authority.delegate(
        envoy_token(),
        ROOT.public_key,
        ENVOY,
        grant="g2",
        member="notes",
        level=Level.OBSERVE,
        to_holder=NOTES.public_key,
    )
    assert check(notes, NOTES, Level.OBSERVE).level is Level.OBSERVE
    with pytest.raises(MandateInsufficient):
        check(notes, NOTES, Level.SPEAK)


def test_another_root_key_is_forged() -> None:
    token = authority.issue(
        Identity.generate(),
        talks="t",
        party="iran",
        grant="g0",
        member="principal",
        level=Level.SIGN,
        holder=PRINCIPAL.public_key,
    )
    with pytest.raises(MandateForged) as refused:
        check(token, PRINCIPAL, Level.OBSERVE)
    assert refused.value.code == "mandate.forged"


def test_any_changed_byte_is_forged() -> None:
    raw = bytearray(principal_token().encode())
    raw[len(raw) // 2] = ord("A") if raw[len(raw) // 2] != ord("A") else ord("B")
    with pytest.raises(MandateForged):
        check(raw.decode(), PRINCIPAL, Level.OBSERVE)


def test_a_delegation_by_someone_who_does_not_hold_the_token_is_forged() -> None:
    with pytest.raises(MandateForged, match="not signed by the key that held"):
        check(envoy_token(signer=ENVOY), ENVOY, Level.OBSERVE)


def test_acting_with_someone_elses_token_is_forged() -> None:
    with pytest.raises(MandateForged, match="another key"):
        check(envoy_token(), NOTES, Level.OBSERVE)


def test_another_talks_is_forged() -> None:
    with pytest.raises(MandateForged):
        check(principal_token(), PRINCIPAL, Level.OBSERVE, talks="other")


def test_an_over_attenuated_delegation_is_refused() -> None:
    propose = authority.issue(
        ROOT,
        talks="t",
        party="iran",
        grant="g0",
        member="principal",
        level=Level.PROPOSE,
        holder=PRINCIPAL.public_key,
    )
    wider = authority.delegate(
        propose,
        ROOT.public_key,
        PRINCIPAL,
        grant="g1",
        member="envoy",
        level=Level.SIGN,
        to_holder=ENVOY.public_key,
    )
    with pytest.raises(MandateOverAttenuated) as refused:
        check(wider, ENVOY, Level.OBSERVE)
    assert refused.value.code == "mandate.over_attenuated"


def test_an_expired_link_expires_everything_after_it() -> None:
    token = authority.delegate(
        principal_token(expires=T0 + timedelta(hours=1)),
        ROOT.public_key,
        PRINCIPAL,
        grant="g1",
        member="envoy",
        level=Level.SPEAK,
        to_holder=ENVOY.public_key,
    )
    assert check(token, ENVOY, Level.SPEAK).level is Level.SPEAK
    with pytest.raises(MandateExpired):
        check(token, ENVOY, Level.SPEAK, at=T0 + timedelta(hours=1))


def test_revoking_the_grantor_voids_the_delegation() -> None:
    token = envoy_token()
    principal_id = authority.revocation_ids(principal_token(), ROOT.public_key)[0]
    assert principal_id not in authority.revocation_ids(token, ROOT.public_key)  # new signature
    first = authority.revocation_ids(token, ROOT.public_key)[0]
    with pytest.raises(MandateRevoked):
        check(token, ENVOY, Level.OBSERVE, revoked={first})
    assert check(token, ENVOY, Level.OBSERVE, revoked={principal_id}).level is Level.PROPOSE


def test_a_root_confirmation_is_read_only_from_the_root() -> None:
    confirmed = authority.confirm(envoy_token(), ROOT.public_key, ROOT, "offer-1")
    assert check(confirmed, ENVOY, Level.PROPOSE).confirms == {"offer-1"}
    by_envoy = authority.confirm(envoy_token(), ROOT.public_key, ENVOY, "offer-1")
    with pytest.raises(MandateForged):
        check(by_envoy, ENVOY, Level.PROPOSE)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(list(Level)), min_size=1, max_size=4), st.sampled_from(list(Level)))
def test_a_chain_checks_exactly_when_it_narrows_and_covers_the_act(
    levels: list[Level], needs: Level
) -> None:
    holders = [Identity.generate() for _ in levels]
    token = authority.issue(
        ROOT,
        talks="t",
        party="p",
        grant="g0",
        member="m0",
        level=levels[0],
        holder=holders[0].public_key,
    )
    for i, level in enumerate(levels[1:], start=1):
        token = authority.delegate(
            token,
            ROOT.public_key,
            holders[i - 1],
            grant=f"g{i}",
            member=f"m{i}",
            level=level,
            to_holder=holders[i].public_key,
        )
    narrows = all(b <= a for a, b in itertools.pairwise(levels))
    if not narrows:
        with pytest.raises(MandateOverAttenuated):
            check(token, holders[-1], needs)
    elif needs > min(levels):
        with pytest.raises(MandateInsufficient):
            check(token, holders[-1], needs)
    else:
        assert check(token, holders[-1], needs).level == min(levels)
