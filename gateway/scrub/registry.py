"""The explicit list of recognizers the scrubber runs: the gateway's own (recognizers_phi, recognizers_secrets;
phone numbers included) plus the few of Presidio's it needs (email, card, spaCy PERSON). Stock Presidio also runs ~20
recognizers for other countries' identifiers and every spaCy entity type; those are left out on purpose."""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    SpacyRecognizer,
)

from gateway.scrub.recognizers_phi import PHI_RECOGNIZERS
from gateway.scrub.recognizers_secrets import SECRET_RECOGNIZERS


def presidio_recognizers() -> list[EntityRecognizer]:
    return [
        EmailRecognizer(),
        CreditCardRecognizer(),
        SpacyRecognizer(supported_entities=["PERSON"]),
    ]


def gateway_recognizers() -> list[EntityRecognizer]:
    out: list[EntityRecognizer] = []
    for factory in (*PHI_RECOGNIZERS, *SECRET_RECOGNIZERS):
        made = factory()
        out.extend(made if isinstance(made, list) else [made])
    return out


def all_recognizers() -> list[EntityRecognizer]:
    return gateway_recognizers() + presidio_recognizers()
