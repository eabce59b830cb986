"""What a command needs to run: the loaded config, the store, the vendor rules and the token key.
Built once per process from the command-line options."""

from __future__ import annotations

import argparse
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.clock import Clock, SystemClock
from gateway.config import MINIMAL_TOML, Config, load_config, parse_config
from gateway.msgid import token_key
from gateway.rules import VendorRule, load_rules
from gateway.store import Store

if TYPE_CHECKING:
    from gateway.scrub import Scrubber

DEFAULT_CONFIG_PATHS = ("/etc/mailgate/config.toml",)


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="configuration file (TOML); default: $MAILGATE_CONFIG, "
                        "/etc/mailgate/config.toml, else the embedded offline default")
    parser.add_argument("--state-dir", metavar="DIR", help="state directory (default: $MAILGATE_STATE_DIR, "
                        "[gateway] state_dir, ./var)")


def config_from_args(args: argparse.Namespace) -> Config:
    path = getattr(args, "config", None) or os.environ.get("MAILGATE_CONFIG")
    if not path:
        path = next((p for p in DEFAULT_CONFIG_PATHS if Path(p).is_file()), None)
    if path:
        return load_config(path, state_dir=getattr(args, "state_dir", None))
    return parse_config(tomllib.loads(MINIMAL_TOML), "<embedded default>", Path.cwd(),
                        state_dir=getattr(args, "state_dir", None))


@dataclass
class Runtime:
    config: Config
    store: Store
    rules: dict[str, VendorRule]
    key: bytes
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def open(cls, config: Config, clock: Clock | None = None) -> Runtime:
        clock = clock or SystemClock()
        store = Store(config.state_path, clock=clock)
        secret = config.gateway.token_key.reveal() if config.gateway.token_key else None
        return cls(config=config, store=store, rules=load_rules(config.rules_path), key=token_key(store, secret),
                   clock=clock)

    @property
    def scrubber(self) -> Scrubber:
        """The PHI scrubber for [scrub]; loaded on first use only (commands that never send stay fast)."""
        from gateway.scrub import get_scrubber

        return get_scrubber(self.config.scrub)

    @property
    def domain(self) -> str:
        return self.config.gateway.address.rsplit("@", 1)[1]

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
