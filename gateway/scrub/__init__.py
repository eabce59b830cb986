"""Outbound scrubbing: PHI and unneeded PII out, what the vendor needs kept. See engine.py."""

from gateway.scrub.engine import (
    Finding,
    Scrubber,
    ScrubConfigError,
    ScrubResult,
    get_scrubber,
    merge_overlaps,
    model_problem,
)

__all__ = ["Finding", "ScrubConfigError", "ScrubResult", "Scrubber", "get_scrubber", "merge_overlaps", "model_problem"]
