"""Helpers for the inbound tests (trust, classify, link, explain): a config with agents, the project's rules,
fixtures under tests/fixtures/classify, and small message builders."""

from __future__ import annotations

import tomllib
from pathlib import Path

from gateway.config import PROJECT_RULES_DIR, Config, parse_config
from gateway.inbound import Analysis, analyze
from gateway.rules import VendorRule, load_rules

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "classify"
KEY = b"test-token-key"
CONFIG_TOML = """\
[gateway]
address = "escalations@example.org"
[trust]
authserv_ids = ["mx.example.org"]
agent_domains = ["drchrono.com"]
"""
AR_PASS = "Authentication-Results: mx.example.org; dkim=pass header.d={d}; dmarc=pass header.from={d}\n"


def config(text: str = CONFIG_TOML, state_dir: Path | None = None) -> Config:
    base = state_dir or Path("/nonexistent-state")
    return parse_config(tomllib.loads(text), "<test>", base, state_dir=str(base))


def rules() -> dict[str, VendorRule]:
    return load_rules(PROJECT_RULES_DIR)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def message(sender: str, subject: str, body: str, *, trusted: bool = True, headers: str = "",
            to: str = "escalations@example.org") -> bytes:
    domain = sender.rsplit("@", 1)[1].rstrip(">")
    ar = AR_PASS.format(d=domain) if trusted else ""
    return (f"{ar}From: {sender}\nTo: {to}\nSubject: {subject}\nDate: Fri, 20 Nov 2026 16:00:00 +0000\n"
            f"Message-ID: <{abs(hash((sender, subject, body)))}@{domain}>\n{headers}MIME-Version: 1.0\n"
            f"Content-Type: text/plain; charset=utf-8\n\n{body}\n").encode()


def run(raw: bytes, cfg: Config | None = None) -> Analysis:
    return analyze(raw, rules(), cfg or config(), KEY)
