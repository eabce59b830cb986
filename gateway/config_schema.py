"""Turns a TOML table into typed dataclasses, collecting every error with its key path.

The dataclasses in gateway.config declare the schema; this module only knows how to walk them.
Supported field types: str, int, float, bool, Secret, list[str], dict[str, str], Literal[...],
X | None, a nested dataclass, and dict[str, <dataclass>].
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class Secret:
    """A credential read from a file or the environment. Never printed: repr and str are masked."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self.source = source  # "file:/path" or "env:NAME": safe to show

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret(<hidden>, from {self.source})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)  # equal secrets (compared by value) must hash alike; str hashes are per-process


@dataclass
class ConfigError:
    file: str
    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.problem}"


class ConfigInvalid(Exception):
    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class _Ctx:
    file: str
    base_dir: Path
    errors: list[ConfigError] = field(default_factory=list)

    def error(self, key: str, problem: str) -> None:
        self.errors.append(ConfigError(self.file, key, problem))


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if tp is Secret:
        return "a secret given as *_file path or \"${ENV_NAME}\""
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (list,):
        return f"a list of {_describe(get_args(tp)[0])}"
    if origin is dict:
        return "a table"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in get_args(tp) if a is not type(None))
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(tp, str(tp))


def _convert(value: Any, tp: Any, key: str, ctx: _Ctx) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        return _convert(value, inner[0], key, ctx)
    if origin is Literal:
        if value not in get_args(tp):
            ctx.error(key, f"expected {_describe(tp)}, got {value!r}")
            return None
        return value
    if origin is list:
        if not isinstance(value, list):
            ctx.error(key, f"expected {_describe(tp)}")
            return []
        item_tp = get_args(tp)[0]
        return [_convert(v, item_tp, f"{key}[{i}]", ctx) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            ctx.error(key, "expected a table")
            return {}
        val_tp = get_args(tp)[1]
        return {k: _convert(v, val_tp, f"{key}.{k}", ctx) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            ctx.error(key, "expected a table")
            return None
        return build(tp, value, ctx, key)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            ctx.error(key, f"expected a number, got {type(value).__name__}")
            return 0.0
        return float(value)
    if tp in (str, int, bool):
        if type(value) is not tp:
            ctx.error(key, f"expected {_describe(tp)}, got {type(value).__name__}")
            return tp()
        return value
    raise TypeError(f"unsupported config type {tp!r} at {key}")


def _read_secret(table: dict[str, Any], name: str, key: str, ctx: _Ctx) -> Secret | None:
    """A secret `x` may be given as `x_file = "path"` or `x = "${ENV}"`; a literal value is refused."""
    file_key = f"{name}_file"
    if file_key in table:
        raw = table[file_key]
        if not isinstance(raw, str):
            ctx.error(f"{key}_file", "expected a file path string")
            return None
        path = Path(os.path.expandvars(raw))
        if not path.is_absolute():
            path = ctx.base_dir / path
        # systemd LoadCredential puts secrets in $CREDENTIALS_DIRECTORY; a relative "credential:" name maps there.
        if raw.startswith("credential:"):
            path = Path(os.environ.get("CREDENTIALS_DIRECTORY", "/run/credentials")) / raw.split(":", 1)[1]
        try:
            return Secret(path.read_text(encoding="utf-8").strip(), f"file:{path}")
        except OSError as exc:
            ctx.error(f"{key}_file", f"cannot read secret file {path}: {exc.strerror}")
            return None
    if name in table:
        raw = table[name]
        m = _ENV_REF.match(raw) if isinstance(raw, str) else None
        if not m:
            ctx.error(key, f"secrets must not be written in the config: use {name}_file or \"${{ENV_NAME}}\"")
            return None
        env_value = os.environ.get(m.group(1))
        if env_value is None:
            ctx.error(key, f"environment variable {m.group(1)} is not set")
            return None
        return Secret(env_value, f"env:{m.group(1)}")
    return None


def build(cls: Any, table: dict[str, Any], ctx: _Ctx, prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    known: set[str] = set()
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        key = f"{prefix}.{f.name}" if prefix else f.name
        known.add(f.name)
        is_secret = tp is Secret or Secret in get_args(tp)
        if is_secret:
            known.add(f"{f.name}_file")
            secret = _read_secret(table, f.name, key, ctx)
            if secret is not None:
                kwargs[f.name] = secret
            continue
        if f.name in table:
            kwargs[f.name] = _convert(table[f.name], tp, key, ctx)
    for extra in sorted(set(table) - known):
        key = f"{prefix}.{extra}" if prefix else extra
        ctx.error(key, f"unknown key (known keys here: {', '.join(sorted(known))})")
    try:
        obj = cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        missing = [
            f.name for f in dataclasses.fields(cls)
            if f.name not in kwargs and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        for name in missing:
            ctx.error(f"{prefix}.{name}" if prefix else name, f"required: expected {_describe(hints[name])}")
        if not missing:
            ctx.error(prefix or "(top)", str(exc))
        return None
    check = getattr(obj, "validate", None)
    if callable(check):
        for sub_key, problem in check():
            ctx.error(f"{prefix}.{sub_key}" if prefix else sub_key, problem)
    return obj


def load_typed(cls: Any, table: dict[str, Any], file: str, base_dir: Path) -> tuple[Any, list[ConfigError]]:
    ctx = _Ctx(file=file, base_dir=base_dir)
    obj = build(cls, table, ctx)
    return obj, ctx.errors
