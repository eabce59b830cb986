"""Maildir and plain directories of .eml files as message sources (the embedded default, and replay)."""

from __future__ import annotations

import mailbox
from collections.abc import Iterable, Iterator
from pathlib import Path

from gateway.sources import IncomingMessage, SeenIndex


class MaildirSource:
    """Reads a Maildir (new/ and cur/). Keys are Maildir unique names, so moves from new/ to cur/ and flag
    changes by people sharing the mailbox do not make a message look new. The mailbox is never modified."""

    def __init__(self, path: Path, create: bool = True) -> None:
        self.path = Path(path)
        if create:
            for sub in ("new", "cur", "tmp"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
        self.name = f"maildir:{self.path.resolve()}"

    def _entries(self) -> list[tuple[float, str, Path]]:
        entries = []
        for sub in ("new", "cur"):
            d = self.path / sub
            if not d.is_dir():
                continue
            for f in d.iterdir():
                if f.name.startswith(".") or not f.is_file():
                    continue
                key = f.name.split(":", 1)[0]  # strip ":2,FLAGS"
                try:
                    entries.append((f.stat().st_mtime, key, f))
                except FileNotFoundError:  # moved between listing and stat by another reader
                    continue
        entries.sort()
        return entries

    def fetch_new(self, seen: SeenIndex) -> Iterator[IncomingMessage]:
        for _mtime, key, f in self._entries():
            if seen.is_seen(self.name, key):
                continue
            try:
                content = f.read_bytes()
            except FileNotFoundError:
                # Someone moved it from new/ to cur/ meanwhile; it will be picked up on the next pass.
                continue
            yield IncomingMessage(self.name, key, content)

    def acknowledge(self, message: IncomingMessage) -> None:
        """Leave the Maildir untouched: people may share it, and the store remembers what was seen."""


class DirectorySource:
    """Files and directories of .eml / mbox-less messages, as given to `mailgate replay PATH...`.
    A directory that looks like a Maildir is read as one; otherwise every regular file in it is a message."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self.paths = [Path(p) for p in paths]
        self.name = "replay"

    def _files(self) -> Iterator[Path]:
        for p in self.paths:
            if p.is_dir() and (p / "cur").is_dir() and (p / "new").is_dir():
                for _m, _k, f in MaildirSource(p, create=False)._entries():
                    yield f
            elif p.is_dir():
                yield from sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
            elif p.is_file():
                yield p
            else:
                raise FileNotFoundError(f"no such file or directory: {p}")

    def fetch_new(self, seen: SeenIndex) -> Iterator[IncomingMessage]:
        for f in self._files():
            key = str(f.resolve())
            if seen.is_seen(self.name, key):
                continue
            yield IncomingMessage(self.name, key, f.read_bytes())

    def acknowledge(self, message: IncomingMessage) -> None:
        """Replayed files are never modified."""


def deliver_to_maildir(path: Path, content: bytes) -> str:
    """Put a message into a Maildir the standard way (tmp/ then new/). Used by the demo and tests."""
    box = mailbox.Maildir(str(path), create=True)
    return str(box.add(content))
