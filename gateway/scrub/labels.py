"""Entity types the scrubber removes: their readable replacement, the category named to the agent, and the
priority that decides the type of a merged span when two findings overlap (lower wins)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EntityLabel:
    replacement: str
    category: str
    priority: int


_TABLE: dict[str, tuple[str, int]] = {
    # entity type: (category, priority)
    "HL7_SEGMENT": ("HL7 segment", 0),
    "DICOM_UID": ("DICOM UID", 1),
    "PATIENT_NAME": ("patient name", 2),
    "DATE_OF_BIRTH": ("date of birth", 3),
    "US_SSN": ("SSN", 4),
    "MRN": ("MRN", 5),
    "INSURANCE_ID": ("insurance ID", 6),
    "ACCESSION_NUMBER": ("accession number", 7),
    "AGE_OVER_89": ("age", 8),
    "PATIENT_DATE": ("patient date", 9),
    "DIAGNOSIS": ("diagnosis", 10),
    "MEDICATION": ("medication", 11),
    "MFA_CODE": ("MFA code", 12),
    "SUPPORT_PIN": ("support PIN", 13),
    "PASSWORD": ("password", 14),
    "URL_TOKEN": ("token", 15),
    "CREDIT_CARD": ("card number", 16),
    "DEA_NUMBER": ("DEA number", 17),
    "DRIVER_LICENSE": ("driver's licence number", 18),
    "PASSPORT": ("passport number", 19),
    "IP_ADDRESS": ("IP address", 20),
    "USERNAME": ("username", 21),
    "STREET_ADDRESS": ("address", 22),
    "EMAIL_ADDRESS": ("email address", 23),
    "PHONE_NUMBER": ("phone number", 24),
    "PERSON": ("name", 25),
}

LABELS: dict[str, EntityLabel] = {
    entity: EntityLabel(f"[{category} removed]", category, priority) for entity, (category, priority) in _TABLE.items()
}

# Types the keep-list may protect: contact details the vendor needs. Identifiers and secrets never are.
KEEPABLE = frozenset({"PERSON", "PATIENT_NAME", "EMAIL_ADDRESS", "PHONE_NUMBER", "STREET_ADDRESS", "USERNAME"})


def label(entity_type: str) -> EntityLabel:
    return LABELS.get(entity_type) or EntityLabel("[removed]", entity_type.lower().replace("_", " "), 99)
