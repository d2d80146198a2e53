"""The rule tables are total: every action, label and event class has its one row."""

from __future__ import annotations

from backchannel.engine import events as ev
from backchannel.engine.codec import EVENT_TYPES
from backchannel.engine.rules import (
    ACTIONS,
    ARTICLE_NEEDS,
    LABELS,
    RELAY_MODES,
    REQUIRED_LEVEL,
    ROOT_ONLY,
    TALKS_WIDE,
    Action,
    ArticleStatus,
    Label,
    Level,
    Stage,
    Words,
)
from backchannel.engine.talks import HANDLERS


def test_every_action_has_one_rule_and_one_event_class() -> None:
    """ACTIONS, the codec's event classes and the engine's handlers cover every Action."""
    assert set(ACTIONS) == set(Action)
    assert set(EVENT_TYPES) == set(Action)
    assert set(HANDLERS) == set(EVENT_TYPES.values())
    assert all(EVENT_TYPES[action].action is action for action in Action)


def test_every_label_has_one_rule() -> None:
    """LABELS covers every carry label; only mediator-only is private; only verbatim is signed."""
    assert set(LABELS) == set(Label)
    assert {label for label, rule in LABELS.items() if rule.private_only} == {Label.MEDIATOR_ONLY}
    assert {label for label, rule in LABELS.items() if rule.signed} == {Label.CARRY_VERBATIM}
    assert RELAY_MODES[Label.MEDIATOR_ONLY] == frozenset()


def test_the_derived_tables_say_what_the_rows_say() -> None:
    """REQUIRED_LEVEL, ROOT_ONLY and TALKS_WIDE are read off ACTIONS, not written twice."""
    assert {a: r.level for a, r in ACTIONS.items()} == REQUIRED_LEVEL
    assert {a for a, r in ACTIONS.items() if r.root_only} == ROOT_ONLY
    assert {a for a, r in ACTIONS.items() if r.talks_wide} == TALKS_WIDE
    assert {Action.ADD_PARTY, Action.ADD_MEMBER, Action.CONFIRM, Action.SET_RETENTION} == ROOT_ONLY


def test_every_consent_names_its_stage_and_its_words() -> None:
    """An act brings a consent stage exactly when it binds words; offers bind offer words and
    bring an offer stage, the text's acts an article's, in the order ARTICLE_NEEDS gives."""
    for action, rule in ACTIONS.items():
        assert (rule.stage is None) == (rule.words is None), action
        if rule.words is Words.OFFER:
            assert isinstance(rule.stage, Stage) and rule.formal
        if rule.words is Words.ARTICLE:
            assert isinstance(rule.stage, ArticleStatus) and rule.formal
            assert action in ARTICLE_NEEDS
    assert set(ARTICLE_NEEDS) == {a for a, r in ACTIONS.items() if r.words is Words.ARTICLE}


def test_talks_wide_acts_are_formal_and_never_room_words() -> None:
    """Everything every device receives is signed, and no room's words are among it."""
    for action in TALKS_WIDE:
        assert ACTIONS[action].formal, action
        assert action not in {Action.SEND, Action.PROPOSE, Action.RELAY, Action.CARRY}
    assert {a for a, r in ACTIONS.items() if r.content} == {
        Action.SEND,
        Action.PROPOSE,
        Action.RELAY,
        Action.CARRY,
        Action.DRAFT_ARTICLE,
        Action.DEPOSIT,
        Action.AMEND,
        Action.ANNOUNCE_MATCH,
        Action.DIRECT_MATCH,
        Action.SET_AGENDA,
        Action.SUBMIT_SCORES,
    }
    assert ev.Carry.action is Action.CARRY


def test_escrow_acts_need_propose_and_never_reach_every_device() -> None:
    """Deposits, amendments, withdrawals, their notices and matches need 'propose'; none is
    talks-wide (a deposit reaches the mediator and its own party only); all but the notices,
    projections like a carry, are signed formal acts."""
    escrow_acts = {
        Action.DEPOSIT,
        Action.AMEND,
        Action.WITHDRAW,
        Action.DEPOSIT_NOTICE,
        Action.ANNOUNCE_MATCH,
        Action.MATCH_NOTICE,
    }
    for action in escrow_acts:
        rule = ACTIONS[action]
        assert rule.level is Level.PROPOSE and not rule.talks_wide and not rule.root_only
        notice = action in {Action.DEPOSIT_NOTICE, Action.MATCH_NOTICE}
        assert rule.formal is not notice, action


def test_preference_acts_need_propose_and_only_the_agenda_reaches_every_device() -> None:
    """Setting the agenda, submitting scores and their notice need 'propose'; the agenda is
    talks-wide (every party scores it), scores never are; the notice, a projection, is unsigned."""
    for action in (Action.SET_AGENDA, Action.SUBMIT_SCORES, Action.SCORES_NOTICE):
        rule = ACTIONS[action]
        assert rule.level is Level.PROPOSE and not rule.root_only, action
        assert rule.talks_wide is (action is Action.SET_AGENDA), action
        assert rule.formal is (action is not Action.SCORES_NOTICE), action
