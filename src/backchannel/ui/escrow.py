"""The Escrow page's API: sealed conditional commitments in, what ``match --json`` prints out.

    POST /api/escrow/match   {escrow: <an escrow file's object>, as: party id | null}

The page holds the escrow (its parties, actions and the commitments deposited so far) as one
object in the documented file format (``docs/escrow.md``) and sends it whole; this process keeps
nothing and tells the host nothing. The answer is :func:`engine.sequencing.view`, the CLI's very
object: the mediator's view when ``as`` is null, else that party's sealed view, which shows only
what ``match --as`` shows (the others' unmatched commitments as counts). "No match" is a result.
A malformed escrow, or an ``as`` that names no party, is an :class:`EscrowInvalid`
(``escrow.invalid``, 400) naming the field path, as the CLI does.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from backchannel.engine import escrow as escrow_file
from backchannel.engine.sequencing import check_viewer, view
from backchannel.errors import EscrowInvalid
from backchannel.ui.api import form_action
from backchannel.ui.forms import json_object


def routes() -> list[Route]:
    """The page's route."""

    return [form_action("/api/escrow/match", parse_request, lambda form: match(*form))]


def parse_request(body: bytes) -> tuple[dict[str, Any], str | None]:
    """The escrow object and the viewer (None: the mediator); the engine checks the escrow."""
    data = json_object(body, ("escrow", "as"))
    escrow = data.get("escrow")
    if not isinstance(escrow, dict):
        raise EscrowInvalid("escrow", "must be an object: an escrow file (docs/escrow.md)")
    viewer = data.get("as")
    if viewer is not None and (not isinstance(viewer, str) or not viewer):
        raise EscrowInvalid("as", "must be a party id, or null for the mediator's view")
    return escrow, viewer


def match(data: dict[str, Any], viewer: str | None) -> dict[str, Any]:
    """What ``backchannel match --json [--as viewer]`` prints for the escrow ``data``."""
    escrow = escrow_file.parse(data)
    check_viewer(escrow, viewer, "as")
    return view(escrow, viewer)
