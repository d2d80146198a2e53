"""Mandates as Biscuit tokens: issued by a party's root authority, attenuated offline, checkable
by anyone who knows the root's public key.

A token is a chain of **links**. The authority block, signed by the party's root identity key
(the key of a head of state, a foreign minister, a CEO: whoever holds full powers), states::

    talks("<talks>"); party("<party>");
    grant(0, "<grant id>", "<member>", <level>, "<holder key hex>");
    expires(0, <date>);                       // when the link has an expiry
    check if needs($n), $n <= <level>;
    check if time($t), $t < <date>;           // when the link has an expiry

A holder delegates by appending a **third-party block signed by its own identity key** with the
same facts for index ``i`` (the next holder's key, a level no wider than its own). A verifier walks
the links: each delegation must be signed by the key the previous link names (else the token is
forged), and may not widen the level (else it is over-attenuated). The token is **bound to its
last holder's key**: it counts only for acts signed by that key, whose signature over the act's
own unique id and time is the fresh proof of possession. Revoking a link (its Biscuit revocation
id) voids every token derived from it. The checks inside the blocks are enforced by Biscuit's own
authorizer as well, so a plain attenuation block (anyone may append one) can only narrow a token.

A root may also append a third-party block ``confirms("<proposal>");`` to a member's token: the
later confirmation (VCLT Art. 8) of an act its member performed ad referendum.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import biscuit_auth as bis

from backchannel.crypto.signed import Identity
from backchannel.engine.rules import Level
from backchannel.errors import (
    MandateExpired,
    MandateForged,
    MandateInsufficient,
    MandateOverAttenuated,
    MandateRevoked,
)

_bis: Any = bis
_GRANT = "grant({i}, {grant}, {member}, {level}, {holder});"
_CAP = "check if needs($n), $n <= {level}"
_EXPIRY = "check if time($t), $t < {expires}"


@dataclass(frozen=True, slots=True)
class Link:
    """One step of a mandate's chain: who received which level, under which key, until when."""

    grant: str
    member: str
    level: Level
    holder: bytes
    expires: datetime | None
    signer: bytes  # the key that signed this link: the root's for the first
    revocation_id: str

    def to_json(self) -> dict[str, Any]:
        """The link as timelines and ``record verify --json`` print it."""
        return {
            "grant": self.grant,
            "member": self.member,
            "level": self.level.label,
            "holder": self.holder.hex(),
            "expires": None if self.expires is None else self.expires.isoformat(),
            "revocation_id": self.revocation_id,
        }


@dataclass(frozen=True, slots=True)
class Mandate:
    """A token that checked out: the talks and party it is for, and its chain of links."""

    talks: str
    party: str
    links: tuple[Link, ...]
    confirms: frozenset[str]

    @property
    def last(self) -> Link:
        """The link the holder acts under."""
        return self.links[-1]

    @property
    def level(self) -> Level:
        """The level the holder acts with: the narrowest of the chain."""
        return min(link.level for link in self.links)


def issue(
    root: Identity,
    *,
    talks: str,
    party: str,
    grant: str,
    member: str,
    level: Level,
    holder: bytes,
    expires: datetime | None = None,
) -> str:
    """A new token from ``party``'s root authority (base64)."""
    builder = bis.BiscuitBuilder(
        "talks({talks}); party({party});", {"talks": talks, "party": party}
    )
    builder.merge(_link_block(0, grant, member, level, holder, expires))
    return str(builder.build(_private(root)).to_base64())


def delegate(
    token: str,
    root_key: bytes,
    holder: Identity,
    *,
    grant: str,
    member: str,
    level: Level,
    to_holder: bytes,
    expires: datetime | None = None,
) -> str:
    """``token`` attenuated by its holder for ``member`` (at most the holder's own level)."""
    biscuit = _parse(token, root_key)
    block = _link_block(biscuit.block_count(), grant, member, level, to_holder, expires)
    return _append(biscuit, holder, block)


def confirm(token: str, root_key: bytes, root: Identity, proposal: str) -> str:
    """``token`` with the root's confirmation of the act on ``proposal`` its holder performed."""
    biscuit = _parse(token, root_key)
    return _append(biscuit, root, bis.BlockBuilder("confirms({p});", {"p": proposal}))


def revocation_ids(token: str, root_key: bytes) -> list[str]:
    """The revocation id of every link, the authority block's first."""
    return [str(r) for r in _parse(token, root_key).revocation_ids]


def check(
    token: str,
    root_key: bytes,
    *,
    talks: str,
    holder: bytes,
    needs: Level,
    at: datetime,
    revoked: Collection[str] = (),
) -> Mandate:
    """The mandate ``token`` carries, if it lets the key ``holder`` act with ``needs`` at ``at``.

    Raises, in this order: :class:`MandateForged` (not the root's signature, another talks, a
    delegation not signed by the key that held it, or another holder),
    :class:`MandateOverAttenuated` (a link wider than the one before it), :class:`MandateRevoked`
    (a link's revocation id is in ``revoked``), :class:`MandateExpired`,
    :class:`MandateInsufficient`.
    """
    mandate = read(token, root_key)
    if mandate.talks != talks:
        raise MandateForged(f"the token is for talks {mandate.talks!r}, not {talks!r}")
    if mandate.last.holder != holder:
        raise MandateForged("the token is held by another key: the act is not its holder's")
    for link in mandate.links:
        if link.revocation_id in revoked:
            raise MandateRevoked(
                f"{link.member}'s mandate (grant {link.grant!r}) was revoked; "
                f"so is every mandate derived from it"
            )
    for link in mandate.links:
        if link.expires is not None and link.expires <= at:
            raise MandateExpired(
                f"{link.member}'s mandate (grant {link.grant!r}) expired at "
                f"{link.expires.isoformat()}"
            )
    if mandate.level < needs:
        raise MandateInsufficient(
            f"the act needs a '{needs.label}' mandate; {mandate.last.member}'s token carries "
            f"'{mandate.level.label}'"
        )
    _authorize(token, root_key, needs, at)
    return mandate


@functools.lru_cache(maxsize=4096)
def read(token: str, root_key: bytes) -> Mandate:
    """The chain of a token signed by ``root_key``, with its signers checked link by link.

    Expiry, revocation and the level needed are :func:`check`'s business. A pure function of its
    arguments, so its answers are kept: a record checks the same few tokens for every act.
    """
    biscuit = _parse(token, root_key)
    if biscuit.to_base64() != token:
        raise MandateForged("the token is not in its canonical encoding")
    authorizer = _authorizer(biscuit, "allow if true;", ())
    facts = _facts(authorizer, "r($t, $p) <- talks($t), party($p)")
    if len(facts) != 1:
        raise MandateForged("the token names no single talks and party")
    talks, party = (str(term) for term in facts[0])
    ids = [str(r) for r in biscuit.revocation_ids]
    links: list[Link] = []
    confirms: set[str] = set()
    signer = root_key
    for index in range(biscuit.block_count()):
        external = biscuit.block_external_key(index)
        if index and external is None:
            continue  # a plain attenuation block: only checks, enforced by the authorizer
        key = root_key if external is None else bytes(external.to_bytes())
        scope = "" if external is None else " trusting {k}"
        params = None if external is None else {"k": external}
        found = _facts(
            authorizer, f"g($g, $m, $l, $h) <- grant({index}, $g, $m, $l, $h){scope}", params
        )
        if not found:
            if key != root_key:
                raise MandateForged(f"block {index} is neither a delegation nor the root's")
            said = _facts(authorizer, f"c($p) <- confirms($p){scope}", params)
            confirms.update(str(f[0]) for f in said)
            continue
        if len(found) != 1:
            raise MandateForged(f"block {index} states more than one grant")
        grant, member, level, holder_hex = found[0]
        if key != signer:
            raise MandateForged(
                f"the delegation to {member} is not signed by the key that held the mandate"
            )
        expiry = _facts(authorizer, f"e($d) <- expires({index}, $d){scope}", params)
        link = Link(
            grant=str(grant),
            member=str(member),
            level=_level(level),
            holder=_hex(holder_hex),
            expires=expiry[0][0] if expiry else None,
            signer=key,
            revocation_id=ids[index],
        )
        if links and link.level > links[-1].level:
            raise MandateOverAttenuated(
                f"{links[-1].member} holds '{links[-1].level.label}' and cannot hand "
                f"{link.member} '{link.level.label}'"
            )
        links.append(link)
        signer = link.holder
    if not links:
        raise MandateForged("the token grants nothing")
    return Mandate(talks=talks, party=party, links=tuple(links), confirms=frozenset(confirms))


# --- Biscuit plumbing ------------------------------------------------------------------------


def _private(identity: Identity) -> Any:
    # biscuit-python 0.4's stubs predate the algorithm argument its runtime requires.
    return _bis.PrivateKey.from_bytes(identity.seed, _bis.Algorithm.Ed25519)


def _public(key: bytes) -> Any:
    try:
        return _bis.PublicKey.from_bytes(key, _bis.Algorithm.Ed25519)
    except Exception as exc:  # the binding raises plain exceptions for bad keys
        raise MandateForged("the root authority's key is not an Ed25519 key") from exc


def _parse(token: str, root_key: bytes) -> Any:
    try:
        return bis.Biscuit.from_base64(token, _public(root_key))
    except (bis.BiscuitValidationError, bis.BiscuitSerializationError, ValueError) as exc:
        raise MandateForged(
            "the token does not verify against the party's root authority key"
        ) from exc


def _link_block(
    index: int,
    grant: str,
    member: str,
    level: Level,
    holder: bytes,
    expires: datetime | None,
) -> Any:
    params: dict[str, Any] = {
        "i": index,
        "grant": grant,
        "member": member,
        "level": int(level),
        "holder": holder.hex(),
    }
    block = bis.BlockBuilder(_GRANT, params)
    block.add_check(bis.Check(_CAP, {"level": int(level)}))
    if expires is not None:
        when = _utc(expires)
        block.add_fact(bis.Fact("expires({i}, {expires})", {"i": index, "expires": when}))
        block.add_check(bis.Check(_EXPIRY, {"expires": when}))
    return block


def _append(biscuit: Any, signer: Identity, block: Any) -> str:
    private = _private(signer)
    external = biscuit.third_party_request().create_block(private, block)
    public = bis.KeyPair.from_private_key(private).public_key
    return str(biscuit.append_third_party(public, external).to_base64())


#: Wall-clock cap on one authorizer run. Biscuit's default (1 ms) fails honest tokens on a busy
#: machine; the fact and iteration caps (kept at their defaults) are what bound a hostile token.
MAX_TIME = timedelta(seconds=1)


def _authorizer(biscuit: Any, code: str, facts: Collection[Any]) -> Any:
    builder = _bis.AuthorizerBuilder(code)  # the stubs lack limits()
    limits = builder.limits()
    limits.max_time = MAX_TIME
    builder.set_limits(limits)
    for fact in facts:
        builder.add_fact(fact)
    return builder.build(biscuit)


def _facts(authorizer: Any, rule: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
    scope = None if params is None else params
    found = authorizer.query(bis.Rule(rule, None, scope))
    return [list(f.terms) for f in found]


def _authorize(token: str, root_key: bytes, needs: Level, at: datetime) -> None:
    facts = [bis.Fact("needs({n})", {"n": int(needs)}), bis.Fact("time({t})", {"t": _utc(at)})]
    authorizer = _authorizer(_parse(token, root_key), "allow if true;", facts)
    try:
        authorizer.authorize()
    except bis.AuthorizationError as exc:
        raise MandateInsufficient(f"a check in the token refuses the act: {exc}") from exc


def _utc(at: datetime) -> datetime:
    # Biscuit dates are UTC seconds; the binding accepts only UTC datetimes.
    return at.astimezone(UTC)


def _level(term: Any) -> Level:
    try:
        return Level(int(term))
    except (TypeError, ValueError) as exc:
        raise MandateForged(f"the token names an unknown level {term!r}") from exc


def _hex(term: Any) -> bytes:
    try:
        return bytes.fromhex(str(term))
    except ValueError as exc:
        raise MandateForged("the token names a holder key that is not hex") from exc
