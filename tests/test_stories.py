"""Both stories of the lifecycle issue in process, with an injected clock (see tests/stories.py)."""

from __future__ import annotations

from pathlib import Path

from stories import IDME_START, OFFSITE_START, InProcess, idme_story, offsite_story


def test_idme_story(tmp_path: Path) -> None:
    h = InProcess(tmp_path, IDME_START)
    try:
        idme_story(h)
    finally:
        h.rt.close()


def test_offsite_story(tmp_path: Path) -> None:
    h = InProcess(tmp_path, OFFSITE_START)
    try:
        offsite_story(h)
    finally:
        h.rt.close()
