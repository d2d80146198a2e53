"""Scenario files: a talks described end to end in TOML, loaded into engine events.

The schema is documented in ``docs/scenarios.md``. Loading validates the whole file — syntax,
types, every step's fields, and the set-up (parties, members, mandates, rooms) applied through the
engine — before anything is returned, so an invalid file fails with its line and changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from backchannel import engine
from backchannel.engine import events as ev
from backchannel.engine.names import NO_NAMES, Names
from backchannel.engine.rules import Label, Level, RelayMode, Role, RoomKind
from backchannel.errors import RuleViolation, ScenarioInvalid
from backchannel.scenario_files import agenda, commitment, problem_of, settled

#: Every code a step may expect (the engine's rule codes).
RULE_CODES: frozenset[str] = frozenset(
    {RuleViolation.code} | {cls.code for cls in RuleViolation.__subclasses__()}
)


@dataclass(frozen=True, slots=True)
class Step:
    """One ``[[steps]]`` entry: its position, line, event and the error it should raise."""

    index: int
    line: int | None
    event: ev.Event
    expect_error: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A loaded scenario: the talks after set-up, and the steps to replay on it."""

    path: str
    talks: engine.Talks
    steps: tuple[Step, ...]
    outcome: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)
    setup: tuple[ev.Event, ...] = ()
    title_names: Names = NO_NAMES  # the talks' title in other languages (title_ar, title_fa)


#: The languages a scenario may name things in besides its default: ``name_ar``, ``title_fa``…
NAME_LANGUAGES = ("ar", "fa")


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioInvalid` naming file and line."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioInvalid(name, None, f"cannot read the file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioInvalid(name, None, "the file is not UTF-8 text") from exc
    return loads(text, name)


def loads(text: str, name: str = "<scenario>") -> Scenario:
    """Validate scenario ``text`` (see :func:`load`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        raise ScenarioInvalid(name, line, f"not valid TOML: {exc}") from exc
    return _Loader(name, data, _Lines(text)).scenario()


# --- where things are in the file ------------------------------------------------------------


class _Lines:
    """Maps (table, index, key) to a line number, so errors can point into the file."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str) -> None:
        self._where: dict[tuple[str, int, str | None], int] = {}
        counts: dict[str, int] = {}
        table, index = "", 0
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                table = header.group(2)
                index = counts.get(table, 0)
                if header.group(1) == "[[":
                    counts[table] = index + 1
                self._where.setdefault((table, index, None), number)
                continue
            key = self._KEY.match(line)
            if key:
                self._where.setdefault((table, index, key.group(1)), number)

    def of(self, table: str, index: int = 0, key: str | None = None) -> int | None:
        """The line of ``key`` in the ``index``-th ``table``, else of the table's header."""
        return self._where.get((table, index, key)) or self._where.get((table, index, None))


# --- fields ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def _ident(value: Any) -> str:
    text = _text(value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", text):
        raise ValueError(f"{text!r} is not an id (letters, digits, '_', '.', ':', '-'; ≤ 64)")
    return text


def _when(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2024-01-10T10:00:00+04:00")
        return value
    if isinstance(value, date):
        raise ValueError("needs a time and a UTC offset, not only a date")
    raise ValueError("must be a date-time with a UTC offset")


def _enum(kind: Callable[[str], Any], what: str) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        try:
            return kind(_text(value))
        except ValueError:
            raise ValueError(f"{value!r} is not a {what}") from None

    return parse


def _version(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("must be a version number (1, 2, …)")
    return value


_LEVEL = _enum(Level.parse, "mandate level (observe, speak, propose, accept, sign)")
_LABEL = _enum(Label, "carry label (mediator-only, carry-gist, carry-verbatim)")
_MODE = _enum(RelayMode, "relay mode (verbatim, gist)")
_ROLE = _enum(Role, "role (party, mediator)")
_KIND = _enum(RoomKind, "room kind (caucus, delegation, plenary)")

#: For each step action: the event class and its fields as (toml key, event field, parser,
#: required). Fields every step has (at, actor, device, id, expect_error, note) are handled apart.
_Spec = tuple[str, str, Callable[[Any], Any], bool]
_MESSAGE: tuple[_Spec, ...] = (
    ("room", "room", _ident, True),
    ("text", "text", _text, True),
    ("label", "label", _LABEL, True),
    ("lang", "lang", _text, False),
)
_ARTICLE: tuple[_Spec, ...] = (
    ("article", "article", _ident, True),
    ("version", "version", _version, True),
)
_STEPS: dict[str, tuple[type[ev.Event], str | None, tuple[_Spec, ...]]] = {
    "request_contact": (
        ev.RequestContact,
        "request",
        (
            ("to", "to_party", _ident, True),
            ("via", "via", _ident, False),
            ("text", "text", _text, False),
        ),
    ),
    "send": (ev.Send, "message", _MESSAGE),
    "propose": (ev.Propose, "message", _MESSAGE),
    "relay": (
        ev.Relay,
        "message",
        (
            ("source", "source", _ident, True),
            ("room", "room", _ident, True),
            ("mode", "mode", _MODE, True),
            ("text", "text", _text, False),
            ("lang", "lang", _text, False),
        ),
    ),
    "accept": (ev.Accept, None, (("proposal", "proposal", _ident, True),)),
    "sign": (ev.Sign, None, (("proposal", "proposal", _ident, True),)),
    "confirm": (ev.Confirm, None, (("proposal", "proposal", _ident, True),)),
    "draft_article": (
        ev.DraftArticle,
        None,
        (
            ("article", "article", _ident, True),
            ("text", "text", _text, True),
            ("title", "title", _text, False),
            ("lang", "lang", _text, False),
        ),
    ),
    "agree_article": (ev.AgreeArticle, None, _ARTICLE),
    "initial_article": (ev.InitialArticle, None, _ARTICLE),
    "sign_article": (ev.SignArticle, None, _ARTICLE),
    "grant": (
        ev.Grant,
        "grant",
        (
            ("member", "member", _ident, True),
            ("mandate", "level", _LEVEL, True),
            ("expires", "expires", _when, False),
        ),
    ),
    "revoke": (ev.Revoke, None, (("member", "member", _ident, True),)),
    # The escrow: a deposit or amendment names its commitment's id and its escrow file
    # (``from``, beside the scenario); a match may name its deposits, the rest is computed.
    "deposit": (ev.Deposit, "deposit", ()),
    "amend": (ev.Amend, "deposit", ()),
    "withdraw": (ev.Withdraw, "deposit", ()),
    "announce_match": (ev.AnnounceMatch, "match", ()),
    # Private preferences: the agenda is a problem file's issues, a party's scores its entry
    # there (``from``); a submission's version defaults to the agenda's at its place.
    "set_agenda": (ev.SetAgenda, None, ()),
    "submit_scores": (ev.SubmitScores, None, (("version", "version", _version, False),)),
    "add_device": (
        ev.AddDevice,
        "new_device",
        (("member", "member", _ident, False), ("fingerprint", "fingerprint", _text, False)),
    ),
    "revoke_device": (ev.RevokeDevice, None, (("target", "target", _ident, True),)),
    "join": (ev.Join, None, (("room", "room", _ident, True), ("member", "member", _ident, False))),
    "leave": (
        ev.Leave,
        None,
        (("room", "room", _ident, True), ("member", "member", _ident, False)),
    ),
}
_ESCROW_KEYS = {
    "deposit": frozenset({"from"}),
    "amend": frozenset({"from"}),
    "announce_match": frozenset({"deposits"}),
    "set_agenda": frozenset({"from"}),
    "submit_scores": frozenset({"from"}),
}
_COMMON_STEP_KEYS = frozenset({"at", "actor", "action", "device", "id", "expect_error", "note"})


def fingerprint_of(device: str) -> str:
    """A stand-in public-key fingerprint for a device a scenario names without keys."""
    digest = hashlib.sha256(f"backchannel/scenario-device/{device}".encode()).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


class _Loader:
    def __init__(self, name: str, data: dict[str, Any], lines: _Lines) -> None:
        self.name, self.data, self.lines = name, data, lines
        #: Step index → the problem file a ``submit_scores`` step names (see _settle).
        self.problems: dict[int, Any] = {}

    def fail(
        self, reason: str, table: str, index: int = 0, key: str | None = None
    ) -> ScenarioInvalid:
        return ScenarioInvalid(self.name, self.lines.of(table, index, key), reason)

    def field(
        self,
        entry: Mapping[str, Any],
        key: str,
        parse: Callable[[Any], Any],
        where: tuple[str, int],
        required: bool = True,
    ) -> Any:
        table, index = where
        label = f"{table}[{index}].{key}" if table != "talks" else f"talks.{key}"
        if key not in entry:
            if required:
                raise self.fail(f"{label} is missing", table, index)
            return None
        try:
            return parse(entry[key])
        except ValueError as exc:
            raise self.fail(f"{label} {exc}", table, index, key) from None

    def names(self, entry: Mapping[str, Any], key: str, where: tuple[str, int]) -> Names:
        """The ``{key}_ar``, ``{key}_fa``… of ``entry``: its name or title in other languages."""
        found: dict[str, str] = {}
        for lang in NAME_LANGUAGES:
            value = self.field(entry, f"{key}_{lang}", _text, where, required=False)
            if value is None:
                continue
            try:
                found.update(Names.of({lang: value}).to_json())
            except ValueError as exc:
                table, index = where
                label = f"{table}[{index}]" if table != "talks" else "talks"
                where_key = f"{key}_{lang}"
                raise self.fail(f"{label}.{where_key}: {exc}", table, index, where_key) from None
        return Names.of(found)

    def tables(self, name: str, required: bool = True) -> list[dict[str, Any]]:
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(f"[[{name}]] must be an array of tables", name)
        if required and not value:
            raise ScenarioInvalid(self.name, None, f"the file has no [[{name}]]")
        return value

    def known_keys(
        self, entry: Mapping[str, Any], allowed: frozenset[str], where: tuple[str, int]
    ) -> None:
        for key in entry:
            if key not in allowed:
                raise self.fail(
                    f"{where[0]}[{where[1]}] has an unknown field {key!r}", where[0], where[1], key
                )

    # -- the file's sections ------------------------------------------------------------------

    def scenario(self) -> Scenario:
        unknown = set(self.data) - {"talks", "parties", "members", "rooms", "steps"}
        if unknown:
            raise ScenarioInvalid(
                self.name, None, f"unknown section(s): {', '.join(sorted(unknown))}"
            )
        info = self.data.get("talks")
        if not isinstance(info, dict):
            raise ScenarioInvalid(self.name, None, "the file has no [talks] table")
        talks_id = self.field(info, "id", _ident, ("talks", 0))
        start = self.field(info, "start", _when, ("talks", 0))
        talks = engine.Talks(id=talks_id, title=str(info.get("title", "")))
        title_names = self.names(info, "title", ("talks", 0))
        setup: list[ev.Event] = []

        def setup_apply(event: ev.Event, table: str, index: int, key: str | None = None) -> None:
            nonlocal talks
            try:
                talks = engine.apply(talks, event)
            except RuleViolation as exc:
                raise self.fail(f"{exc.message} [{exc.code}]", table, index, key) from None
            setup.append(event)

        for i, entry in enumerate(self.tables("parties")):
            where = ("parties", i)
            self.known_keys(entry, frozenset({"id", "name", "role", "name_ar", "name_fa"}), where)
            party = self.field(entry, "id", _ident, where)
            role = self.field(entry, "role", _ROLE, where, required=False) or Role.PARTY
            name = self.field(entry, "name", _text, where, required=False) or ""
            names = self.names(entry, "name", where)
            setup_apply(
                ev.AddParty(at=start, actor=party, party=party, role=role, name=name, names=names),
                *where,
            )

        for i, entry in enumerate(self.tables("members")):
            where = ("members", i)
            allowed = {
                "id",
                "party",
                "name",
                "name_ar",
                "name_fa",
                "mandate",
                "granted_by",
                "expires",
                "devices",
            }
            self.known_keys(entry, frozenset(allowed), where)
            member = self.field(entry, "id", _ident, where)
            party = self.field(entry, "party", _ident, where)
            devices = entry.get("devices", [f"{member}.d1"])
            if not isinstance(devices, list) or not devices:
                raise self.fail(
                    f"members[{i}].devices must be a non-empty list of ids", *where, "devices"
                )
            try:
                device_ids = [_ident(d) for d in devices]
            except ValueError as exc:
                raise self.fail(f"members[{i}].devices: {exc}", *where, "devices") from None
            name = self.field(entry, "name", _text, where, required=False) or ""
            setup_apply(
                ev.AddMember(
                    at=start,
                    actor=party,
                    member=member,
                    party=party,
                    name=name,
                    names=self.names(entry, "name", where),
                    first_device=device_ids[0],
                    fingerprint=fingerprint_of(device_ids[0]),
                ),
                *where,
            )
            for extra in device_ids[1:]:
                setup_apply(
                    ev.AddDevice(
                        at=start,
                        actor=party,
                        member=member,
                        new_device=extra,
                        fingerprint=fingerprint_of(extra),
                    ),
                    *where,
                    "devices",
                )
            level = self.field(entry, "mandate", _LEVEL, where)
            granted_by = self.field(entry, "granted_by", _ident, where, required=False) or "root"
            expires = self.field(entry, "expires", _when, where, required=False)
            grantor = party if granted_by == "root" else granted_by
            setup_apply(
                ev.Grant(
                    at=start,
                    actor=grantor,
                    grant=f"{member}.mandate",
                    member=member,
                    level=level,
                    expires=expires,
                ),
                *where,
                "granted_by" if granted_by != "root" else "mandate",
            )

        for i, entry in enumerate(self.tables("rooms")):
            where = ("rooms", i)
            allowed = {"id", "kind", "party", "name", "name_ar", "name_fa", "members", "created_by"}
            self.known_keys(entry, frozenset(allowed), where)
            room = self.field(entry, "id", _ident, where)
            kind = self.field(entry, "kind", _KIND, where)
            party = self.field(entry, "party", _ident, where, required=kind is not RoomKind.PLENARY)
            creator = self.field(entry, "created_by", _ident, where, required=False)
            if creator is None:
                creator = party if party is not None else self._convener(talks)
            name = self.field(entry, "name", _text, where, required=False) or ""
            setup_apply(
                ev.CreateRoom(
                    at=start,
                    actor=creator,
                    room=room,
                    kind=kind,
                    party=party,
                    name=name,
                    names=self.names(entry, "name", where),
                ),
                *where,
            )
            members = entry.get("members", [])
            if not isinstance(members, list):
                raise self.fail(
                    f"rooms[{i}].members must be a list of member ids", *where, "members"
                )
            for member in members:
                member_id = _text(member) if isinstance(member, str) else ""
                setup_apply(
                    ev.Join(at=start, actor=member_id, room=room, member=member_id),
                    *where,
                    "members",
                )

        steps = tuple(self.step(i, entry) for i, entry in enumerate(self.tables("steps")))
        steps = self._settle(talks, steps)
        outcome = info.get("outcome", "")
        return Scenario(
            path=self.name,
            talks=talks,
            steps=steps,
            outcome=outcome if isinstance(outcome, str) else "",
            info=info,
            setup=tuple(setup),
            title_names=title_names,
        )

    def _from_file(
        self, entry: Mapping[str, Any], action: str, index: int, values: dict[str, Any]
    ) -> None:
        """What a step reads from the file it names (``from``), put into its ``values``."""
        where = ("steps", index)
        file = self.field(entry, "from", _text, where)
        try:
            if action in {"deposit", "amend"}:
                values["commitment"] = commitment(self.name, file, values["deposit"])
            elif action == "set_agenda":
                values["agenda"] = agenda(self.name, file)
            else:
                self.problems[index] = problem_of(self.name, entry)
                values.setdefault("version", 0)  # 0: the agenda's version at its place
                values["scores"] = ""
        except ValueError as exc:
            raise self.fail(str(exc), *where, "from") from None

    def _announced(self, entry: Mapping[str, Any], where: tuple[str, int]) -> dict[str, str]:
        ids = entry.get("deposits")
        if ids is None:
            return {"deposits": ""}
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise self.fail("deposits must be a list of deposit ids", *where, "deposits")
        return {"deposits": json.dumps(ids)}

    def _settle(self, talks: engine.Talks, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        """Each step as its device would send it at its place (:func:`settled`): a match as
        the mediator's device computes it, a submission with its party's scores."""
        done: list[Step] = []
        for step in steps:
            event = settled(talks, step.event, self.problems.get(step.index))
            step = replace(step, event=event)
            with contextlib.suppress(RuleViolation):  # a refused step changes nothing
                talks = engine.apply(talks, event)
            done.append(step)
        return tuple(done)

    @staticmethod
    def _convener(talks: engine.Talks) -> str:
        mediator = talks.mediator
        return mediator.id if mediator is not None else next(iter(talks.parties))

    def step(self, index: int, entry: Mapping[str, Any]) -> Step:
        where = ("steps", index)
        action = self.field(entry, "action", _text, where)
        if action not in _STEPS:
            raise self.fail(
                f"steps[{index}].action {action!r} is not one of: {', '.join(sorted(_STEPS))}",
                *where,
                "action",
            )
        cls, id_field, specs = _STEPS[action]
        extra = _ESCROW_KEYS.get(action, frozenset())
        self.known_keys(entry, _COMMON_STEP_KEYS | {spec[0] for spec in specs} | extra, where)
        values: dict[str, Any] = {
            "at": self.field(entry, "at", _when, where),
            "actor": self.field(entry, "actor", _ident, where),
            "device": self.field(entry, "device", _ident, where, required=False),
        }
        for key, name, parse, required in specs:
            value = self.field(entry, key, parse, where, required)
            if value is not None:
                values[name] = value
        if id_field is not None:
            values[id_field] = self.field(entry, "id", _ident, where, required=False) or (
                f"step-{index + 1}"
            )
        elif "id" in entry:
            raise self.fail(f"steps[{index}]: a {action} step takes no id", *where, "id")
        if action in {"deposit", "amend", "set_agenda", "submit_scores"}:
            self._from_file(entry, action, index, values)
        if action == "announce_match":
            values.update(self._announced(entry, where), settled="", plan="", revealed="")
        if action in {"join", "leave", "add_device"}:
            values.setdefault("member", values["actor"])
        if action == "add_device":
            values.setdefault("fingerprint", fingerprint_of(values["new_device"]))
        expect = self.field(entry, "expect_error", _text, where, required=False)
        if expect is not None and expect not in RULE_CODES:
            raise self.fail(
                f"steps[{index}].expect_error {expect!r} is not a rule code "
                f"({', '.join(sorted(RULE_CODES))})",
                *where,
                "expect_error",
            )
        note = self.field(entry, "note", _text, where, required=False) or ""
        return Step(
            index=index,
            line=self.lines.of(*where),
            event=cls(**values),
            expect_error=expect,
            note=note,
        )
