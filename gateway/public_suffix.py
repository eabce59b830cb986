"""The public suffix list, offline: tldextract's bundled snapshot, never the network.

Presidio's EmailRecognizer validates domains with tldextract, whose default extractor fetches the list over
HTTP on first use; the gateway's machines have no network, so make_tldextract_offline() replaces that
module-level extractor with one that reads the snapshot and keeps no disk cache. trust.py asks
registrable_domain() for DMARC's organisational domain, from its own extractor that also knows the private
section of the list (shared hosting such as github.io: tenants there are different organisations).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

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


@lru_cache(maxsize=1)
def _extractor() -> Any:
    import tldextract.tldextract as tld  # lazy: ~0.1 s, paid only when a DKIM alignment is checked

    return tld.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True,
                          include_psl_private_domains=True)


def registrable_domain(domain: str) -> str:
    """The public suffix plus one label ("mail.example.co.uk" -> "example.co.uk"); for a name under no known
    suffix (a test TLD, an address literal) its last two labels."""
    labels = [x for x in domain.lower().strip(".").split(".") if x]
    found = str(_extractor()(".".join(labels)).top_domain_under_public_suffix) if labels else ""
    return found or ".".join(labels[-2:])
