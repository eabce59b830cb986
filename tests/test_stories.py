"""Both stories of the lifecycle issue in process, with an injected clock (see tests/stories.py)."""

from __future__ import annotations

from pathlib import Path

from stories import IDME_START, OFFSITE_START, InProcess, idme_story, offsite_story


def test_idme_story(tmp_path: Path) -> None:
    h = InProcess(tmp_path, IDME_START)
    with h.rt:
        idme_story(h)


def test_offsite_story(tmp_path: Path) -> None:
    h = InProcess(tmp_path, OFFSITE_START)
    with h.rt:
        offsite_story(h)
