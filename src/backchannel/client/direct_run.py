"""Running a direct match through a profile: begin or answer, sync, send, sign, until both signed.

The protocol is :mod:`.direct_session` (sans-I/O); this is its loop over a
:class:`~backchannel.client.profile.Profile`, like :mod:`.sas` for short authentication
strings. Both envoys run :func:`run_through` (``backchannel match FILE --direct --talks``) at
about the same time; tests step two profiles in turn with :func:`begin` and :func:`step`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from backchannel.client.direct_session import (
    OFFER_TTL,
    DirectRun,
    Round,
    answer,
    joined,
    may_match,
    other_party,
    pump,
    rounds,
    start,
)
from backchannel.client.profile import Profile
from backchannel.engine import events as ev
from backchannel.errors import (
    BackchannelError,
    DirectOutcomeDiffers,
    DirectTimedOut,
    MandateInsufficient,
)


def begin(
    profile: Profile,
    alias: str,
    document: Mapping[str, Any],
    *,
    size: int,
    with_party: str | None = None,
) -> DirectRun:
    """Answer the other party's waiting offer, or start a session; the run, its round sent."""
    participant = profile.participant(alias)
    profile.sync()
    own = participant.introduction.party if participant.introduction else participant.me
    other = other_party(participant.view, own, with_party)
    member = None if participant.engine_device is None else participant.me
    if not may_match(participant.view, member, datetime.now(UTC)):
        raise MandateInsufficient(f"{participant.me} holds no mandate to match for {own}")
    now = time.time()
    offers: list[Round] = []
    for found in rounds(profile.direct.of(participant.talks_host_id)):
        peer = participant.directory.peers.get(found.sender)
        fresh = now - found.parts[-1].at <= OFFER_TTL
        if found.number == 1 and found.complete and fresh and peer and peer.party == other:
            offers.append(found)
    run: DirectRun | None = None
    for offer in reversed(offers):  # the latest first
        profile.direct.remove(participant.talks_host_id, offer.parts)
        try:
            run, outs = answer(
                participant,
                document,
                joined(offer.parts),
                session=offer.session,
                other=other,
                size=size,
            )
            break
        except BackchannelError as exc:
            participant.drop(offer.sender, exc)
    for older in offers:  # superseded by the one answered (or all refused): never answered
        profile.direct.remove(participant.talks_host_id, older.parts)
    if run is None:
        run, outs = start(participant, document, other=other, size=size)
    for out in outs:
        profile.driver.send(participant, out)
    profile.save()
    return run


def step(profile: Profile, run: DirectRun, *, timeout: int = 0) -> DirectRun:
    """One round trip: sync, feed the run what arrived, send its answers, and sign the words
    once learned. The run to go on with (a crossing offer may replace it)."""
    participant = run.participant
    profile.sync(timeout=timeout)
    run, outs = pump(profile.direct, run)
    for out in outs:
        profile.driver.send(participant, out)
    words = run.words()
    held = run.agreement()
    if words is not None and held is not None and held.outcome != words:
        # The other party signed words this side did not compute: never co-sign them.
        raise DirectOutcomeDiffers(
            f"{run.other} signed another outcome of session {run.session} than this side "
            "computed; this side does not sign it"
        )
    if words is not None and not run.signed:
        run.signed = True
        profile.act(
            participant, ev.DirectMatch, session=run.session, other=run.other, outcome=words
        )
    profile.save()
    return run


def finished(run: DirectRun) -> bool:
    """Whether the session is over for this side: learned, and (if something matched) both
    parties' signatures placed in the record."""
    if run.learned is None:
        return False
    if run.words() is None:
        return True
    held = run.agreement()
    return held is not None and held.agreed


def run_through(
    profile: Profile,
    alias: str,
    document: Mapping[str, Any],
    *,
    size: int,
    with_party: str | None = None,
    timeout: float = 120,
) -> DirectRun:
    """Run a whole session through the host (both sides run this at about the same time)."""
    seen = len(profile.participant(alias).dropped)
    run = begin(profile, alias, document, size=size, with_party=with_party)
    deadline = time.monotonic() + timeout
    while not finished(run):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            refused = sorted({d.code for d in run.participant.dropped[seen:]})
            why = f" (rounds refused meanwhile: {', '.join(refused)})" if refused else ""
            raise DirectTimedOut(
                f"{run.other} did not finish the session in {timeout:g} s{why}; run the match "
                "on both sides at about the same time, with the same --size"
            )
        run = step(profile, run, timeout=max(1, min(2, int(remaining))))
    return run
