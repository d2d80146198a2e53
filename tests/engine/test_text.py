"""The negotiating text: brackets, the pen, and each party's consent to an article's versions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backchannel import engine
from backchannel.engine import events as ev
from backchannel.engine import text
from backchannel.engine.rules import ArticleStatus, Level, Role
from backchannel.errors import RuleViolation, TextMalformed
from tests.engine.talks_builder import START, at, build

BRACKETED = "Shipping is safe [from signature | once Gaza is calm], and [guaranteed]."
CLEAN = "Shipping is safe from signature."


def draft(actor: str, words: str, when: float, article: str = "a1", title: str = "") -> ev.Event:
    return ev.DraftArticle(at=at(when), actor=actor, article=article, text=words, title=title)


def consent(kind: type[ev.ArticleConsent], actor: str, version: int, when: float) -> ev.Event:
    return kind(at=at(when), actor=actor, article="a1", version=version)


def code_of(talks: engine.Talks, event: ev.Event) -> str:
    with pytest.raises(RuleViolation) as caught:
        engine.apply(talks, event)
    return caught.value.code


def status(talks: engine.Talks, article: str = "a1") -> str:
    return text.status(talks, talks.articles[article]).value


# --- brackets --------------------------------------------------------------------------------


def test_brackets_split_agreed_language_from_alternatives() -> None:
    """Square brackets hold contested language; '|' separates its alternatives."""
    segments = text.parse(BRACKETED)
    assert segments == (
        "Shipping is safe ",
        text.Bracket(("from signature ", " once Gaza is calm")),
        ", and ",
        text.Bracket(("guaranteed",)),
        ".",
    )
    assert text.brackets(BRACKETED) == 2 and text.brackets(CLEAN) == 0


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        ("a [b [c] d]", "opens inside another at character 6"),
        ("a [b", "opened at character 3 is never closed"),
        ("a ] b", "closes at character 3 but none is open"),
        ("a [b | ] c", "character 3 holds a blank alternative"),
        ("a [] c", "character 3 holds a blank alternative"),
        ("a | b", "inside a bracket (character 3)"),
        ("   ", "needs some text"),
        ("", "needs some text"),
    ],
)
def test_malformed_brackets_name_the_character(words: str, reason: str) -> None:
    """Every malformed text is refused with text.malformed naming where it goes wrong."""
    with pytest.raises(TextMalformed, match=re.escape(reason)) as caught:
        text.parse(words)
    assert caught.value.code == "text.malformed"
    talks = build()
    assert code_of(talks, draft("om1", words, 1)) == "text.malformed"


@given(st.text(alphabet="ab |[]\n", max_size=30))
def test_parse_gives_back_the_text_or_a_clear_refusal(words: str) -> None:
    """Any text parses into segments that render it again exactly, or raises TextMalformed."""
    try:
        segments = text.parse(words)
    except TextMalformed:
        return
    assert text.render(segments) == words
    assert text.brackets(words) == sum(isinstance(s, text.Bracket) for s in segments)


# --- the pen and the stages ------------------------------------------------------------------


def test_the_mediator_holds_the_pen_and_parties_consent_in_order() -> None:
    """Draft → bracketed → clean → agreed ad referendum → initialled → signed → final."""
    talks = build([draft("om1", BRACKETED, 1, title="Red Sea")])
    article = talks.articles["a1"]
    assert (article.title, article.position, article.current.number) == ("Red Sea", 1, 1)
    assert status(talks) == "bracketed"
    assert code_of(talks, draft("us1", CLEAN, 2)) == "text.not_pen_holder"
    assert code_of(talks, draft("iran", CLEAN, 2)) == "text.not_pen_holder"
    assert code_of(talks, draft("om2", CLEAN, 2)) == "mandate.insufficient"
    assert code_of(talks, consent(ev.AgreeArticle, "us3", 1, 2)) == "text.bracketed"
    assert code_of(talks, draft("om1", BRACKETED, 2)) == "text.duplicate"

    talks = engine.apply(talks, draft("om1", CLEAN, 3))
    assert talks.articles["a1"].title == "Red Sea"  # an empty title keeps the article's
    assert (status(talks), talks.articles["a1"].current.number) == ("clean", 2)
    assert code_of(talks, consent(ev.AgreeArticle, "us3", 1, 4)) == "text.stale"
    assert code_of(talks, consent(ev.AgreeArticle, "oman", 2, 4)) == "text.not_a_party"
    assert code_of(talks, consent(ev.AgreeArticle, "us1", 2, 4)) == "mandate.insufficient"

    talks = engine.apply(talks, consent(ev.AgreeArticle, "us3", 2, 4))
    assert status(talks) == "clean"  # Iran has not agreed yet
    assert code_of(talks, consent(ev.AgreeArticle, "us3", 2, 5)) == "text.duplicate"
    assert code_of(talks, consent(ev.InitialArticle, "us3", 2, 5)) == "text.awaiting_parties"
    talks = engine.apply(talks, consent(ev.AgreeArticle, "ir2", 2, 5))
    assert status(talks) == "agreed-ad-ref"

    talks = engine.apply(talks, consent(ev.InitialArticle, "us3", 2, 6))
    assert code_of(talks, consent(ev.SignArticle, "us3", 2, 7)) == "text.awaiting_parties"
    talks = engine.apply(talks, consent(ev.InitialArticle, "ir2", 2, 7))
    assert status(talks) == "initialled"
    assert code_of(talks, consent(ev.SignArticle, "ir2", 2, 8)) == "mandate.insufficient"
    talks = engine.apply(talks, consent(ev.SignArticle, "us3", 2, 8))
    talks = engine.apply(talks, consent(ev.SignArticle, "iran", 2, 8))  # the root signs
    assert status(talks) == "signed"
    assert code_of(talks, draft("om1", BRACKETED, 9)) == "text.final"
    signers = [
        (c.party, c.member) for c in talks.articles["a1"].consents if c.stage.value == "signed"
    ]
    assert signers == [("us", "us3"), ("iran", "iran")]


def test_a_new_version_starts_consent_afresh() -> None:
    """Consents belong to the version they named: a redraft leaves every party at nothing."""
    talks = build(
        [
            draft("om1", CLEAN, 1),
            consent(ev.AgreeArticle, "us3", 1, 2),
            consent(ev.AgreeArticle, "ir2", 1, 2),
        ]
    )
    assert status(talks) == "agreed-ad-ref"
    talks = engine.apply(talks, draft("om1", BRACKETED, 3))
    article = talks.articles["a1"]
    assert status(talks) == "bracketed"
    assert [text.party_stage(article, p) for p in ("iran", "us")] == [None, None]
    assert [v.text for v in article.versions] == [CLEAN, BRACKETED]
    assert text.waiting_for(talks, article, ArticleStatus.AGREED_AD_REF) == ["iran", "us"]


def test_articles_keep_their_order_and_share_the_id_space() -> None:
    """Articles are numbered as first drafted; an id the talks-wide state uses (a member, a
    device, a grant) is refused. A room's id is not judged: not every device knows every room,
    and every device must reach the same verdict on a talks-wide act."""
    talks = build([draft("om1", CLEAN, 1, "b"), draft("om1", CLEAN, 2, "a")])
    assert [(a.id, a.position) for a in text.articles(talks)] == [("b", 1), ("a", 2)]
    assert code_of(talks, draft("om1", CLEAN, 3, "us1")) == "id.duplicate"
    assert "us-caucus" in engine.apply(talks, draft("om1", CLEAN, 3, "us-caucus")).articles
    assert code_of(talks, consent(ev.AgreeArticle, "us3", 1, 3)) == "entity.unknown"


def test_without_a_mediator_any_party_holds_the_pen() -> None:
    """A direct channel: each side's drafter writes; both sides consent."""
    talks = engine.Talks(id="direct")
    setup: list[ev.Event] = [
        ev.AddParty(at=START, actor="us", party="us"),
        ev.AddParty(at=START, actor="iran", party="iran"),
    ]
    for member, party, level in (("envoy", "us", Level.PROPOSE), ("fm", "iran", Level.PROPOSE)):
        setup += [
            ev.AddMember(
                at=START,
                actor=party,
                member=member,
                party=party,
                first_device=f"{member}.d1",
                fingerprint="fp",
            ),
            ev.Grant(at=START, actor=party, grant=f"{member}.g", member=member, level=level),
        ]
    for event in [*setup, draft("fm", BRACKETED, 1), draft("envoy", CLEAN, 2)]:
        talks = engine.apply(talks, event)
    assert [v.author for v in talks.articles["a1"].versions] == ["fm", "envoy"]
    assert code_of(talks, consent(ev.AgreeArticle, "envoy", 2, 3)) == "mandate.insufficient"
    talks = engine.apply(talks, consent(ev.AgreeArticle, "us", 2, 3))
    assert status(talks) == "clean"


# --- a model of the rules, against the engine ------------------------------------------------

#: Actors and what they are: (party, level, pen-holder?). Roots act with every level.
ACTORS = {
    "om1": ("oman", Level.PROPOSE, True),
    "oman": ("oman", Level.SIGN, True),
    "us1": ("us", Level.PROPOSE, False),
    "us3": ("us", Level.SIGN, False),
    "ir2": ("iran", Level.ACCEPT, False),
    "iran": ("iran", Level.SIGN, False),
}
WORDS = ("clean words", "other words", "[x | y] words")
STAGES = {
    ev.AgreeArticle: (ArticleStatus.AGREED_AD_REF, None, Level.ACCEPT),
    ev.InitialArticle: (ArticleStatus.INITIALLED, ArticleStatus.AGREED_AD_REF, Level.ACCEPT),
    ev.SignArticle: (ArticleStatus.SIGNED, ArticleStatus.INITIALLED, Level.SIGN),
}
RANK = {s: i for i, s in enumerate(ArticleStatus)}


@dataclass
class Model:
    """What the rules say, kept apart from the engine: versions and each party's furthest rank."""

    versions: dict[str, list[str]] = field(default_factory=dict)
    reached: dict[tuple[str, str, int], int] = field(default_factory=dict)

    def rank(self, article: str, party: str) -> int:
        return self.reached.get((article, party, len(self.versions[article])), -1)

    def signed(self, article: str) -> bool:
        return all(self.rank(article, p) == RANK[ArticleStatus.SIGNED] for p in ("us", "iran"))

    def draft(self, e: ev.DraftArticle) -> str | None:
        _, level, pen = ACTORS[e.actor]
        if level < Level.PROPOSE:
            return "mandate.insufficient"
        if not pen:
            return "text.not_pen_holder"
        versions = self.versions.setdefault(e.article, [])
        if versions and self.signed(e.article):
            return "text.final"
        if versions and versions[-1] == e.text:
            return "text.duplicate"
        versions.append(e.text)
        return None

    def consent(self, e: ev.ArticleConsent) -> str | None:
        stage, needs, needed = STAGES[type(e)]
        party, level, _ = ACTORS[e.actor]
        if level < needed:
            return "mandate.insufficient"
        if e.article not in self.versions:
            return "entity.unknown"
        if party == "oman":
            return "text.not_a_party"
        if e.version != len(self.versions[e.article]):
            return "text.stale"
        if self.rank(e.article, party) >= RANK[stage]:
            return "text.duplicate"
        if needs is None and "[" in self.versions[e.article][-1]:
            return "text.bracketed"
        if needs is not None and any(self.rank(e.article, p) < RANK[needs] for p in ("us", "iran")):
            return "text.awaiting_parties"
        self.reached[(e.article, party, e.version)] = RANK[stage]
        return None

    def status(self, article: str) -> ArticleStatus:
        if "[" in self.versions[article][-1]:
            return ArticleStatus.BRACKETED
        lowest = min(self.rank(article, p) for p in ("us", "iran"))
        return ArticleStatus.CLEAN if lowest < 0 else list(ArticleStatus)[lowest]


# Weighted towards one article, its first versions and actors who may consent, so that runs
# often reach the later stages (signed, then final) rather than stopping at the first refusal.
articles = st.sampled_from(["a1", "a1", "a1", "a2"])
acts = st.lists(
    st.one_of(
        st.tuples(
            st.just(ev.DraftArticle),
            st.sampled_from(["om1", "om1", "oman", "us1", "iran"]),
            articles,
            st.sampled_from(WORDS),
        ),
        st.tuples(
            st.sampled_from(list(STAGES)),
            st.sampled_from(["us3", "us3", "ir2", "iran", "iran", "us1", "oman"]),
            articles,
            st.sampled_from([1, 1, 2, 3]),
        ),
    ),
    max_size=40,
)
#: The way to a signed article, so that runs start from every stage (then random acts follow).
HAPPY = [
    (ev.DraftArticle, "om1", "a1", "clean words"),
    (ev.AgreeArticle, "us3", "a1", 1),
    (ev.AgreeArticle, "ir2", "a1", 1),
    (ev.InitialArticle, "us3", "a1", 1),
    (ev.InitialArticle, "iran", "a1", 1),
    (ev.SignArticle, "us3", "a1", 1),
    (ev.SignArticle, "iran", "a1", 1),
]
runs = st.tuples(st.integers(0, len(HAPPY)), acts).map(lambda r: HAPPY[: r[0]] + r[1])


@settings(max_examples=300, deadline=None)
@given(runs)
def test_the_engine_follows_the_model_of_the_text(steps: list[tuple]) -> None:
    """Random drafts and consents by every kind of actor: the engine accepts exactly what the
    model accepts, refuses the rest with the model's code, and reports the model's statuses."""
    talks, model = build(), Model()
    for i, (kind, actor, article, arg) in enumerate(steps):
        when = at(10 + i)
        if kind is ev.DraftArticle:
            event: ev.Event = ev.DraftArticle(at=when, actor=actor, article=article, text=arg)
            expected = model.draft(event)
        else:
            event = kind(at=when, actor=actor, article=article, version=arg)
            expected = model.consent(event)
        try:
            talks = engine.apply(talks, event)
            got = None
        except RuleViolation as exc:
            got = exc.code
        assert got == expected, (i, event)
        for name in model.versions:
            assert text.status(talks, talks.articles[name]) is model.status(name)
    for article in talks.articles.values():
        assert all(talks.parties[c.party].role is Role.PARTY for c in article.consents)
