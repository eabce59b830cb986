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
