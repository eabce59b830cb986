"""Keep Presidio offline: its EmailRecognizer validates domains with tldextract, whose default extractor
fetches the public suffix list over HTTP on first use. The gateway's machines have no network, so the
module-level extractor is replaced by one that uses the snapshot bundled with tldextract and no disk cache."""

from __future__ import annotations

import os

_done = False


def make_tldextract_offline() -> None:
    """Idempotent. Must run before the first tldextract.extract() call (done when the engine is built)."""
    global _done
    if _done:
        return
    # New TLDExtract instances read this; an empty value disables HTTP fetching.
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    import tldextract.tldextract as tld

    tld.TLD_EXTRACTOR = tld.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)
    _done = True
