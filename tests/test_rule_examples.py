"""Every [[examples]] entry of every vendor rule file (rules/*.toml) is read as the rule file says."""

from __future__ import annotations

import pytest
from classify_support import run

from gateway.config import PROJECT_RULES_DIR
from gateway.rules import load_rules

CHECKED = ("vendor", "event", "vendor_ticket", "zendesk_ticket")
RULES = load_rules(PROJECT_RULES_DIR)
EXAMPLES = [(name, i, ex) for name, rule in sorted(RULES.items()) for i, ex in enumerate(rule.examples)]


def test_each_vendor_carries_at_least_six_examples() -> None:
    assert RULES
    for name, rule in RULES.items():
        assert len(rule.examples) >= 6, name


@pytest.mark.parametrize("vendor, index, example", EXAMPLES,
                         ids=[f"{n}[{i}] {ex.get('name', '')[:50]}" for n, i, ex in EXAMPLES])
def test_rule_example(vendor: str, index: int, example: dict) -> None:  # type: ignore[type-arg]
    assert "raw" in example and "event" in example, f"{vendor} example {index} needs raw and event"
    decision = run(example["raw"].encode()).decision
    got = {key: getattr(decision, key) for key in CHECKED}
    expected = {key: example.get(key) for key in CHECKED}
    assert got == expected, f"{vendor} example {index} ({example.get('name')}): rule hits {decision.rule_hits}"


def _write_rule(tmp_path, body: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "v.toml"
    path.write_text('[vendor]\nname = "v"\nintake_address = "s@v.example"\ndomains = ["v.example"]\n' + body)
    return path


@pytest.mark.parametrize("body, key", [
    ("[events.solved]\nphrases = ['done']\n", "events.solved"),
    ("[events.ack]\nphrases = ['(unclosed']\n", "events.ack.phrases"),
    ("[events.ack]\nunless = ['(unclosed']\n", "events.ack.unless"),
    ("[tickets]\npatterns = ['#\\d+']\n", "tickets.patterns[0]"),
    ("[subject]\npattern = 'DrChrono; \\d+'\n", "subject.pattern"),
])
def test_invalid_rule_files_name_the_key(tmp_path, body: str, key: str) -> None:  # type: ignore[no-untyped-def]
    from gateway.rules import RuleError, load_rule

    with pytest.raises(RuleError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_rule(_write_rule(tmp_path, body))


def test_rule_keys_for_classification_are_loaded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gateway.rules import load_rule

    rule = load_rule(_write_rule(tmp_path, 'aliases = ["Vee"]\nhelpdesk = "Zendesk"\nclassify_auto_submitted = true\n'
                                 "[tickets]\nsystems = ['jira']\n[events.resolved]\nphrases = ['done']\n"
                                 "unless = ['not done']\nrequires = ['closed']\n"))
    assert rule.aliases == ["Vee"] and rule.helpdesk == "zendesk" and rule.classify_auto_submitted
    assert rule.ticket_systems == ["jira"]
    assert [p.pattern for p in rule.event_requires["resolved"]] == ["closed"]
    assert rule.tag_pattern is not None and rule.tag_pattern.search("Re: [DrChrono #123] x")
