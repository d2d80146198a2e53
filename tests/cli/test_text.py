"""The negotiating text by CLI, three profiles on one real host: draft, agree, initial, sign.

In direct talks (no mediator) the US and Iran each hold 'sign': the US drafts with a bracket,
redrafts it clean, and both parties agree, initial and sign it; each refusal comes back with the
rule's code, having sent nothing, and the other device sees the same text. In mediated talks Oman
alone holds the pen, and only the parties consent.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backchannel import documents
from backchannel.cli import app
from backchannel.cli.app import console
from backchannel.client.simulation import temporary_host
from backchannel.engine.watermark import MARK
from tests.cli.test_rooms import PASSPHRASE, Person, runner

BRACKETED = "The parties cease [all hostilities | strikes on energy sites] from day one."
CLEAN = "The parties cease all hostilities from day one."


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Person]]:
    """The US convenes direct talks and Iran joins, each with a 'sign' mandate; Oman convenes
    mediated talks, which the US joins."""
    scratch = tmp_path_factory.mktemp("text")
    with temporary_host(f"sqlite:///{scratch}/host.db") as host:
        people = {name: Person(scratch / name) for name in ("us", "iran", "oman")}
        for name, person in people.items():
            person("profile", "create", "--host", host, "--name", name, "--kdf", "interactive")
        us, iran, oman = people["us"], people["iran"], people["oman"]
        us("talks", "create", "direct", "--party", "us", "--member", "witkoff", "--level", "sign")
        code = us("talks", "invite", "direct", "--party", "iran")["invite"]
        iran("talks", "join", code, "--member", "araghchi", "--level", "sign")
        oman("talks", "create", "mediated", "--party", "oman", "--member", "envoy", "--mediator")
        code = oman("talks", "invite", "mediated", "--party", "us")["invite"]
        us("talks", "join", code, "--member", "mcgurk", "--level", "sign")
        for person in people.values():
            person("talks", "list")  # sync: introductions and declarations travel
        yield people


def _article(person: Person, alias: str, article: str) -> dict[str, Any]:
    """The article as ``text show --json`` on this person's device prints it."""
    shown = person("text", "show", alias)
    assert shown["talks"] == alias
    found: dict[str, Any] = next(a for a in shown["articles"] if a["id"] == article)
    return found


def _human(person: Person, *args: str) -> str:
    """What a command prints without ``--json``."""
    result = runner.invoke(
        app,
        [*args, "--profile", str(person.directory)],
        env={"BACKCHANNEL_PASSPHRASE": PASSPHRASE},
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_bracketed_article_is_agreed_initialled_and_signed(people: dict[str, Person]) -> None:
    """A bracket blocks agreement (text.bracketed); the clean redraft is version 2, and a consent
    naming version 1 is stale; both parties agree, initial (not before both agreed) and sign it;
    both devices then show it signed, and a further draft is refused (text.final)."""
    us, iran = people["us"], people["iran"]
    drafted = us("text", "draft", "direct", "art-1", "--text", BRACKETED, "--title", "Ceasefire")
    assert (drafted["id"], drafted["version"], drafted["status"]) == ("art-1", 1, "bracketed")
    assert drafted["brackets"] == 1
    assert drafted["segments"][1] == {
        "alternatives": ["all hostilities", "strikes on energy sites"]
    }
    assert drafted["parties"] == {"iran": None, "us": None}
    refused = iran("text", "agree", "direct", "art-1", "--version", "1", code=2)
    assert refused["error"]["code"] == "text.bracketed"

    redrafted = us("text", "draft", "direct", "art-1", "--text", CLEAN)
    assert (redrafted["version"], redrafted["status"], redrafted["title"]) == (
        2,
        "clean",
        "Ceasefire",
    )
    stale = iran("text", "agree", "direct", "art-1", "--version", "1", code=2)
    assert stale["error"]["code"] == "text.stale"

    agreed = iran("text", "agree", "direct", "art-1", "--version", "2")
    assert (agreed["actor"], agreed["party"], agreed["stage"], agreed["status"]) == (
        "araghchi",
        "iran",
        "agreed-ad-ref",
        "clean",
    )
    early = iran("text", "initial", "direct", "art-1", "--version", "2", code=2)
    assert early["error"]["code"] == "text.awaiting_parties"
    assert us("text", "agree", "direct", "art-1", "--version", "2")["status"] == "agreed-ad-ref"
    for act, status in (("initial", "initialled"), ("sign", "signed")):
        first = iran("text", act, "direct", "art-1", "--version", "2")
        assert (first["stage"], first["status"]) == (
            status,
            "agreed-ad-ref" if act == "initial" else "initialled",
        )
        second = us("text", act, "direct", "art-1", "--version", "2")
        assert (second["party"], second["stage"], second["status"]) == ("us", status, status)

    for person in (us, iran):
        seen = _article(person, "direct", "art-1")
        assert (seen["status"], seen["version"], seen["text"]) == ("signed", 2, CLEAN)
        assert seen["parties"] == {"iran": "signed", "us": "signed"}
        assert [v["version"] for v in seen["versions"]] == [1, 2]
    final = us("text", "draft", "direct", "art-1", "--text", "The parties cease nothing.", code=2)
    assert final["error"]["code"] == "text.final"


def test_the_record_names_each_article_act_and_its_stage(
    people: dict[str, Person], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An article drafted from a file, redrafted and agreed by the US: Iran's verified timeline
    lists the consent with its article, version and stage (the drafts are content, sealed without
    --with-content); the human outputs show them too."""
    us, iran = people["us"], people["iran"]
    words = tmp_path / "art-2.txt"
    words.write_text("Prisoners are exchanged [in one | in two] rounds.\n", encoding="utf-8")
    us("text", "draft", "direct", "art-2", "--file", str(words), "--title", "Prisoners")
    us("text", "draft", "direct", "art-2", "--text", "Prisoners are exchanged in one round.")
    us("text", "agree", "direct", "art-2", "--version", "2")
    timeline = iran("record", "timeline", "direct")["timeline"]
    acts = [
        (a["action"], a.get("version"), a.get("stage"))
        for a in timeline
        if a.get("article") == "art-2"
    ]
    assert acts == [("agree_article", 2, "agreed-ad-ref")]  # drafts are content: sealed
    monkeypatch.setattr(console, "width", 200)  # Rich read COLUMNS once, at import: no wrapping
    assert "agree_article art-2 v2 [agreed-ad-ref]" in _human(iran, "record", "timeline", "direct")
    shown = _human(iran, "text", "show", "direct")
    assert "— Prisoners" in shown and "Prisoners are exchanged in one round." in shown
    assert "us: agreed-ad-ref" in shown and "iran: none yet" in shown


def test_in_mediated_talks_the_mediator_holds_the_pen_and_only_parties_consent(
    people: dict[str, Person],
) -> None:
    """The US cannot draft (text.not_pen_holder); Oman drafts; Oman cannot agree
    (text.not_a_party) and the US can; a draft needs exactly one of --text and --file."""
    us, oman = people["us"], people["oman"]
    refused = us("text", "draft", "mediated", "art-1", "--text", CLEAN, code=2)
    assert refused["error"]["code"] == "text.not_pen_holder"
    neither = oman("text", "draft", "mediated", "art-1", code=2)
    assert neither["error"]["code"] == "input.invalid"
    assert oman("text", "draft", "mediated", "art-1", "--text", CLEAN)["status"] == "clean"
    mediator = oman("text", "agree", "mediated", "art-1", "--version", "1", code=2)
    assert mediator["error"]["code"] == "text.not_a_party"
    agreed = us("text", "agree", "mediated", "art-1", "--version", "1")
    assert (agreed["actor"], agreed["stage"], agreed["status"]) == (
        "mcgurk",
        "agreed-ad-ref",
        "agreed-ad-ref",
    )


LONG = (
    "Any agreement ends the war as a permanent peace and not as a temporary truce. Each party "
    "refrains from attacks on the territory, forces, shipping and energy sites of the other, "
    "directly or through groups it backs, and reports within seven days any incident it learns "
    "of through this channel. The envoys meet again within thirty days to review how both "
    "parties kept these commitments, and to settle the guarantees that make them permanent."
)


def test_a_leaked_copy_names_the_member_it_was_issued_to(
    people: dict[str, Person], tmp_path: Path
) -> None:
    """The US issues each member a copy; an excerpt of Araghchi's (its first line cut off) is
    traced to him; retyped, it carries no marks; Iran's device, holding another key, traces
    nothing; a copy for someone outside the talks is refused."""
    us, iran = people["us"], people["iran"]
    us("text", "draft", "direct", "art-copy", "--text", LONG, "--title", "Guarantees")
    for member in ("witkoff", "araghchi"):
        out = tmp_path / f"{member}.txt"
        issued = us("text", "issue", "direct", "--to", member, "--out", str(out))
        assert (issued["recipient"], issued["marks"] > 0) == (member, True)
    copy = (tmp_path / "araghchi.txt").read_text(encoding="utf-8")
    assert "Copy for" in copy.replace(MARK, " ") and "permanent peace" in copy.replace(MARK, " ")
    assert copy != (tmp_path / "witkoff.txt").read_text(encoding="utf-8")

    leak = tmp_path / "leak.txt"
    leak.write_text(copy.split("\n", 1)[1], encoding="utf-8")
    traced = us("text", "trace", "direct", str(leak))
    assert (traced["verdict"], traced["recipient"]) == ("identified", "araghchi")
    assert traced["matches"][0] == {
        "member": "araghchi",
        "agreeing": traced["spaces"],
        "disagreeing": 0,
    }
    assert "identified: araghchi" in _human(us, "text", "trace", "direct", str(leak))

    leak.write_text(copy.replace(MARK, " "), encoding="utf-8")
    assert us("text", "trace", "direct", str(leak), code=1)["verdict"] == "no-marks"
    leak.write_text(copy, encoding="utf-8")
    assert iran("text", "trace", "direct", str(leak), code=1)["verdict"] == "no-match"
    refused = us("text", "issue", "direct", "--to", "nobody", "--out", str(leak), code=2)
    assert refused["error"]["code"] == "input.invalid"


def test_a_leaked_pdf_copy_names_the_member_it_was_issued_to(
    people: dict[str, Person], tmp_path: Path
) -> None:
    """``issue --pdf`` writes a member's PDF copy, with or without the visible line; ``trace``
    reads a PDF file (by its %PDF- header) and names the member, by the text and by the copy id in
    the metadata; a damaged PDF is document.malformed (exit 2), and Iran's key traces nothing."""
    us, iran = people["us"], people["iran"]
    us("text", "draft", "direct", "art-pdf", "--text", LONG, "--title", "Permanence")
    out = tmp_path / "araghchi.pdf"
    issued = us("text", "issue", "direct", "--to", "araghchi", "--out", str(out), "--pdf")
    assert (issued["format"], issued["marks"] > 0) == ("pdf", True)
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-")
    shown = documents.restored(documents.extracted_text(pdf)).replace(MARK, " ")
    assert "Copy for araghchi (iran), " in shown and "UTC" in shown  # the visible line
    assert "permanent peace" in shown

    traced = us("text", "trace", "direct", str(out))
    assert (traced["verdict"], traced["recipient"]) == ("identified", "araghchi")
    assert (traced["format"], traced["metadata_holder"]) == ("pdf", "araghchi")
    assert "identified: araghchi" in _human(us, "text", "trace", "direct", str(out))
    assert iran("text", "trace", "direct", str(out), code=1)["verdict"] == "no-match"

    hidden = tmp_path / "witkoff.pdf"
    us("text", "issue", "direct", "--to", "witkoff", "--out", str(hidden), "--pdf", "--no-visible")
    assert "UTC" not in documents.extracted_text(hidden.read_bytes())  # no visible line
    assert us("text", "trace", "direct", str(hidden))["recipient"] == "witkoff"

    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\nnot really")
    refused = us("text", "trace", "direct", str(broken), code=2)
    assert refused["error"]["code"] == "document.malformed"
