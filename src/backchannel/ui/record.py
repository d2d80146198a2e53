"""The Record page's API: what this device has checked of each talks' record, and a copy to take.

    GET /api/record[?talks=…]        per talks: the status ``backchannel record status`` prints
                                     (the latest tree head this device verified, the events proven
                                     in it, every alarm), when it was checked, what consistency
                                     was proven, and the verified timeline ``record timeline
                                     --json`` prints (who asked first, through whom, when; every
                                     formal act with its mandate chain)
    GET /api/record/export?talks=…&with_content=0|1
                                     the bundle ``record export`` writes, as a download

Both check the record first, as the CLI does: the device fetches the host's latest checkpoint
and proves it extends the one it held (:meth:`Participant.watch`), so an answer is never older
than the request; an alarm this raises is saved at once. The timeline is the offline verifier's
(:func:`bundle.verify` of :func:`bundle.export`): what the page shows is exactly what anyone
holding the exported file could check without the device or the host.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backchannel.client import bundle
from backchannel.client.participant import Participant
from backchannel.client.profile import Profile
from backchannel.client.witness import witness_key
from backchannel.engine.names import NO_NAMES, Names
from backchannel.errors import BackchannelError, FormInvalid
from backchannel.record.checkpoint import NoteKey, check_cosignature, open_checkpoint
from backchannel.ui.api import blocking, talks_view
from backchannel.ui.session import DeviceSession


def routes(session: DeviceSession) -> list[Route]:
    """The page's routes over ``session``."""

    async def export_route(request: Request) -> Response:
        alias, with_content = parse_export(dict(request.query_params))
        raw = await blocking(lambda: export(session, alias, with_content))
        name = re.sub(r"[^A-Za-z0-9._-]", "_", alias) + ("-content" if with_content else "")
        return Response(
            raw,
            media_type="application/json",
            headers={
                "content-disposition": f'attachment; filename="{name}.record.json"',
                "cache-control": "no-store",
            },
        )

    return [
        talks_view("/api/record", lambda alias: record_json(session, alias)),
        Route("/api/record/export", export_route, methods=["GET"]),
    ]


def parse_export(query: dict[str, str]) -> tuple[str, bool]:
    """The talks and whether to open the messages too; :class:`FormInvalid` names a bad one."""
    alias = query.get("talks", "")
    if not alias.strip():
        raise FormInvalid("talks", "is required")
    flag = query.get("with_content", "0")
    if flag not in ("0", "1"):
        raise FormInvalid("with_content", "is 0 (formal acts only) or 1 (the messages too)")
    return alias, flag == "1"


def export(session: DeviceSession, alias: str, with_content: bool) -> bytes:
    """The bundle's bytes, verified before they leave (never hand out a file that fails)."""
    with session.sync.lock:
        profile = session.profile
        data = bundle.export(profile.participant(alias), with_content=with_content)
        profile.save()
    bundle.verify(data)
    return bundle.dumps(data)


def record_json(session: DeviceSession, alias: str | None = None) -> dict[str, Any]:
    """Every talks of the device (or only ``alias``: 404 ``talks.unknown`` if it has none)."""
    with session.sync.lock:
        profile = session.profile
        aliases = sorted(profile.talks) if alias is None else [alias]
        found = [talks_record(profile, name) for name in aliases]
        profile.save()  # the checks may have raised an alarm: it is kept from now on
    return {"talks": found}


def talks_record(profile: Profile, alias: str) -> dict[str, Any]:
    """Check the record of one talks now; its status and verified timeline.

    A host that does not answer leaves the status as last checked (``checked_at`` None) and the
    reason in ``problem``; a check that raises an alarm leaves no timeline (nothing more is taken
    from that host this time); alarms stand in either case.
    """
    participant = profile.participant(alias)
    witness = participant.witness
    held = witness.size if witness.root is not None else None
    before = len(witness.alarms)
    checked_at: str | None = None
    timeline: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None
    try:
        profile.sync()
        checked_at = datetime.now(UTC).replace(microsecond=0).isoformat()
        if len(witness.alarms) == before:  # while a new alarm stands, the host is not asked more
            timeline = bundle.verify(bundle.export(participant)).to_json()
    except BackchannelError as exc:
        problem = exc.to_dict()
    proven = not any(a.code in _CONSISTENCY for a in witness.alarms[before:])
    view = participant.view
    return {
        "alias": alias,
        # Who the timeline's ids are, so the page can say it in its language (see names.js).
        "title": profile.titles.get(alias, ""),
        "title_names": profile.title_names.get(alias, NO_NAMES).to_json(),
        "names": {
            "parties": {p.id: _named(p.name, p.names) for p in view.parties.values()},
            "members": {m.id: _named(m.name, m.names) for m in view.members.values()},
        },
        "status": {
            **participant.status_json(),
            "root_hex": None if witness.root is None else witness.root.hex(),
            "checked_at": checked_at,
            # None: not checked now, or the first head this device holds (nothing to extend).
            "consistency": None
            if held is None or checked_at is None
            else {"from_size": held, "proven": proven},
            "cosigned_by": _cosigners(participant),
        },
        "timeline": timeline,
        "problem": problem,
    }


def _named(name: str, names: Names) -> dict[str, Any]:
    return {"name": name, "names": names.to_json()}


def _cosigners(participant: Participant) -> list[dict[str, Any]]:
    """The other devices whose cosigned heads this device found consistent with its own: who
    they act as, the size they vouched for, and when they cosigned it."""
    witness = participant.witness
    if witness.vkey is None:
        return []
    log_key = NoteKey.from_vkey(witness.vkey)
    found = []
    for device, note in sorted(witness.cosigned_notes.items()):
        peer = participant.directory.peers.get(device)
        if peer is None:
            continue
        try:
            at = check_cosignature(note, witness_key(device, peer.identity))
            size = open_checkpoint(note, log_key).size
        except BackchannelError:
            continue  # checked when it arrived; a copy that no longer parses is not shown
        found.append(
            {
                "device": device,
                "party": peer.party,
                "member": peer.member,
                "size": size,
                "at": datetime.fromtimestamp(at, UTC).isoformat(),
            }
        )
    return found


#: The alarms that say a new head does not extend the one the device held.
_CONSISTENCY = frozenset(
    {"record.rollback", "record.inconsistent", "record.key_changed", "record.checkpoint_invalid"}
)
