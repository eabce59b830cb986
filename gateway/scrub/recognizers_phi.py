"""Recognizers for patient information (PHI). Each is small and named; registry.py lists them."""

from __future__ import annotations

import re

from spacy.lang.en.stop_words import STOP_WORDS

from gateway.scrub.base import GroupRecognizer, has_digit, strip_trailing_punct

MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
         r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
DATE = (rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})(?!\d)|\d{{4}}[/-]\d{{1,2}}[/-]\d{{1,2}}"
        rf"|{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH},?\s+\d{{4}})")
_LINK = r"\s*(?:(?:[:#=(-]|is|was|of|on|entered|listed|recorded|as)\s*)*"

# Words that follow "patient" without being a name ("patient chart", "patient was", "pt portal").
_NOT_NAMES = frozenset(STOP_WORDS) | {
    "chart", "charts", "record", "records", "portal", "list", "data", "info", "information", "name", "names", "id",
    "dob", "mrn", "file", "files", "account", "details", "demographics", "lookup", "search", "encounter",
    "appointment", "appointments", "prescription", "prescriptions", "med", "meds", "medication", "medications",
    "side", "care", "safety", "removed", "visit", "visits", "message", "messages", "profile", "note", "notes", "level",
    "facing", "identifiers", "identifier", "health", "privacy", "consent", "forms",
    "form", "intake", "education", "access", "header", "banner", "summary", "history", "study", "studies",
    "image", "images", "imaging", "results", "result", "report", "reports", "ehr", "emr", "and", "whose",
    "called", "calls", "named", "s", "pharmacy", "insurance", "balance", "statement", "case", "cases", "count",
    "population", "experience", "charting", "rx", "epcs", "controlled", "substance", "substances", "refill",
    "refills", "order", "orders", "lab", "labs", "today", "yesterday", "tomorrow", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday", "dr", "doctor", "provider", "prescriber",
    "specific", "related", "workflow", "waiting", "room", "sign", "ssn", "member", "phone", "email", "address",
    "age", "birthday", "daughter", "son", "wife", "husband", "mother", "father", "family", "caregiver", "guardian",
}
_TITLE = re.compile(r"(?:mr|mrs|ms|miss|dr|mx)\.?$", re.IGNORECASE)


def _name_tokens(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Keep the leading run of name-like words (at most three, titles allowed); reject if there is none."""
    last_end, count = start, 0
    for m in re.finditer(r"[A-Za-z][A-Za-z'.-]*", text[start:end]):
        word = m.group().rstrip(".")
        if _TITLE.match(m.group()) and count == 0:
            continue
        if len(word) < 2 and count:
            continue  # a middle initial
        if word.lower() in _NOT_NAMES or len(word) < 2 or count >= 3:
            break
        last_end, count = start + m.end(), count + 1
    return (start, last_end) if count else None


_NAME = (r"(?:(?:mr|mrs|ms|miss|dr)\.?[ \t]+)?[A-Za-z][A-Za-z'-]+(?:[ \t]+[A-Za-z]\.?(?=[ \t]))?"
         r"(?:[ \t]+[A-Za-z][A-Za-z'-]+){0,2}")
_PATIENT_CTX = r"(?:\b(?i:patient(?:'s)?|for\s+patient)|\b(?-i:pt|Pt)\.?)"


def patient_name() -> GroupRecognizer:
    return GroupRecognizer("patient_name_context", "PATIENT_NAME", [
        rf"{_PATIENT_CTX}[ \t]*(?:name[ \t]*(?:is|was|[:=-])?|named|called|[:=(-])?[ \t]*(?P<v>{_NAME})",
        rf"{_PATIENT_CTX}[ \t]*(?:name)?[ \t]*[:=(-]?[ \t]*(?P<v>(?-i:[A-Z][A-Z'-]+,[ \t]*[A-Z][A-Za-z'-]+))",
    ], flags=0, refine=_name_tokens, score=0.9)


def last_first_name() -> GroupRecognizer:
    # HL7/DICOM person names: LAST^FIRST^MIDDLE
    return GroupRecognizer("last_first_caret", "PATIENT_NAME", [
        r"\b(?P<v>[A-Za-z][A-Za-z'-]+\^[A-Za-z][A-Za-z'-]*(?:\^[A-Za-z.'-]*){0,3})"], score=0.95)


def date_of_birth() -> GroupRecognizer:
    ctx = r"\b(?:DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|birthday|born(?:\s+on|\s+in)?)"
    return GroupRecognizer("date_of_birth", "DATE_OF_BIRTH", [
        rf"{ctx}{_LINK}(?P<v>{DATE})",
        r"\bborn\s+in\s+(?P<v>(?:18|19|20)\d{2})\b",
    ], score=0.95)


def patient_date() -> GroupRecognizer:
    ctx = (r"\b(?:date\s+of\s+(?:service|death|exam|study|visit|procedure|admission|discharge)|DOS|DOD|"
           r"admi(?:tted|ssion)(?:\s+date)?|discharged?(?:\s+date)?|(?:visit|appointment|procedure|surgery|study"
           r"|exam|scan|service)\s+date|deceased|passed\s+away|seen\s+on)")
    return GroupRecognizer("patient_date", "PATIENT_DATE", [rf"{ctx}{_LINK}(?P<v>{DATE})"], score=0.85)


def age_over_89() -> GroupRecognizer:
    age = r"(?:9\d|1[0-2]\d)"
    return GroupRecognizer("age_over_89", "AGE_OVER_89", [
        rf"\b(?P<v>{age})[ -]?(?:years?|yrs?)[ -]old\b",
        rf"\b(?:age|aged)\s*[:=]?\s*(?P<v>{age})\b",
        rf"\b(?P<v>{age})\s*(?:y/?o|y\.o\.)\b",
    ], score=0.9)


def mrn() -> GroupRecognizer:
    ctx = (r"\b(?:MRN|M\.R\.N\.|medical\s+record(?:\s+(?:number|no\.?|num|#))?|chart(?:\s+(?:number|no\.?|num|id|#))?"
           r"|patient\s+(?:id|number|no\.?|#)|pt\s+id|record\s+(?:number|no\.?|#)|account\s+(?:number|no\.?|#)"
           r"|acct\.?(?:\s+(?:number|no\.?|#))?)")
    return GroupRecognizer("mrn_chart_number", "MRN", [
        rf"{ctx}\s*(?:[:#=]|is|was)?\s*#?\s*(?P<v>[A-Z]{{0,4}}-?\d[\d-]{{2,14}}\d)\b"], score=0.9)


def ssn() -> GroupRecognizer:
    ctx = r"\b(?:SSN|SS\#|social\s+security(?:\s+(?:number|no\.?|\#))?|social)"
    return GroupRecognizer("ssn_full_partial_test", "US_SSN", [
        r"(?<![\d-])(?P<v>\d{3}-\d{2}-\d{4})(?![\d-])",      # shape only: test numbers go too
        r"(?<![\d ])(?P<v>\d{3} \d{2} \d{4})(?![\d])",
        rf"{ctx}\s*(?:[:#=]|is|was)?\s*(?P<v>\d{{9}}|\d{{3}}[ .]\d{{2}}[ .]\d{{4}})\b",
        rf"{ctx}\b[^\n\d]{{0,30}}?(?:ending(?:\s+in)?|last\s+(?:4|four)(?:\s+(?:digits|numbers))?(?:\s+(?:are|is|of))?"
        r"|xxx-xx-|\*{3}-\*{2}-)\s*[:#-]?\s*(?P<v>\d{4})\b",
        r"\blast\s+(?:4|four)(?:\s+digits)?\s+of\s+(?:(?:his|her|their|the|patient'?s)\s+)?(?:social|ssn)"
        r"(?:\s+security(?:\s+number)?)?\s*(?:[:=]|is|was|are)?\s*(?P<v>\d{4})\b",
        r"(?:XXX|\*\*\*)[- ]?(?:XX|\*\*)[- ]?(?P<v>\d{4})\b",
    ], score=0.95)


def insurance_id() -> GroupRecognizer:
    ctx = (r"\b(?:member\s*(?:id|\#|number|no\.?)|insurance\s*(?:id|\#|number|no\.?)"
           r"|subscriber\s*(?:id|\#|number|no\.?)|policy\s*(?:id|\#|number|no\.?)|group\s*(?:\#|number|no\.?)|medicaid(?:\s*(?:id|\#|number|no\.?))?"
           r"|medicare(?:\s*(?:id|\#|number|no\.?))?|MBI|health\s+plan\s+(?:id|number))")
    return GroupRecognizer("insurance_member_id", "INSURANCE_ID", [
        rf"{ctx}\s*(?:[:#=]|is|was)?\s*#?\s*(?P<v>[A-Z0-9][A-Z0-9-]{{4,20}})\b"], refine=has_digit, score=0.9)


def accession_number() -> GroupRecognizer:
    return GroupRecognizer("accession_number", "ACCESSION_NUMBER", [
        r"\b(?:accession|acc\.)\s*(?:number|no\.?|num|\#)?\s*[:#=]?\s*(?:is\s+)?#?\s*(?P<v>[A-Z0-9][A-Z0-9-]{4,24})\b"],
        refine=has_digit, score=0.9)


def _long_uid(text: str, start: int, end: int) -> tuple[int, int] | None:
    return (start, end) if end - start >= 12 else None


def dicom_uid() -> GroupRecognizer:
    return GroupRecognizer("dicom_uid", "DICOM_UID", [
        r"(?<![\d.])(?P<v>[12](?:\.\d+){4,})(?![\d.]*\d)",
        r"(?<![\d.])(?P<v>2\.25\.\d{10,})(?![\d.]*\d)",              # UUID-derived UIDs
        r"\bUID\s*[:=#]?\s*(?P<v>\d+(?:\.\d+){2,})",
    ], refine=_long_uid, score=0.95)


def hl7_segment() -> GroupRecognizer:
    return GroupRecognizer("hl7_patient_segment", "HL7_SEGMENT", [
        r"(?<![A-Za-z0-9])(?P<v>(?:PID|NK1|GT1|IN1|IN2|PV1|MRG|OBX|DG1)\|[^\r\n]*)"], flags=0, score=1.0)


DRUGS = (
    "oxycodone", "hydrocodone", "oxycontin", "percocet", "vicodin", "norco", "adderall", "amphetamine",
    "dextroamphetamine", "methylphenidate", "ritalin", "concerta", "vyvanse", "lisdexamfetamine", "alprazolam",
    "xanax", "lorazepam", "ativan", "clonazepam", "klonopin", "diazepam", "valium", "zolpidem", "ambien",
    "tramadol", "codeine", "morphine", "fentanyl", "hydromorphone", "dilaudid", "methadone", "buprenorphine",
    "suboxone", "gabapentin", "pregabalin", "lyrica", "testosterone", "modafinil", "phentermine", "carisoprodol",
    "ketamine", "tapentadol", "oxymorphone", "metformin", "lisinopril", "atorvastatin", "insulin", "sertraline",
    "fluoxetine", "prednisone", "amoxicillin", "semaglutide", "ozempic", "wegovy", "warfarin", "eliquis",
    "levothyroxine", "quetiapine", "seroquel", "lamotrigine", "armodafinil", "diphenoxylate", "promethazine",
)


def medication() -> GroupRecognizer:
    dose = r"(?:\s*\d+(?:\.\d+)?\s*(?:mg|mcg|ml|g|units?|%)(?:/\d*\s*(?:mg|ml|h|hr))?)?"
    form = r"(?:\s+(?:ER|XR|IR|CR|SR|tablets?|tabs?|capsules?|caps?|patch(?:es)?|solution))?"
    names = "|".join(DRUGS)
    return GroupRecognizer("medication_lexicon", "MEDICATION", [
        rf"\b(?P<v>(?:{names})(?:[ /-](?:acetaminophen|apap|naloxone|er|xr))?{dose}{form}{dose})\b"], score=0.85)


def diagnosis() -> GroupRecognizer:
    ctx = (r"\b(?:diagnosed\s+with|diagnosis(?:\s+of)?|dx|history\s+of|hx\s+of|suffers\s+from|(?:being\s+)?treated"
           r"\s+for)")
    stop = r"(?=[.,;:)\n]|\s+(?:and|but|who|which|so|because|on|at|in|for|since|when)\b|$)"
    return GroupRecognizer("diagnosis_context", "DIAGNOSIS", [
        rf"{ctx}\s*[:=-]?\s*(?P<v>[A-Za-z][A-Za-z0-9'/ -]{{2,60}}?){stop}",
        r"\bICD(?:-?10)?(?:\s+code)?\s*[:=]?\s*(?P<v>[A-TV-Z]\d{2}(?:\.\d{1,4})?)\b",
    ], score=0.85)


def street_address() -> GroupRecognizer:
    suffix = (r"(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Ln|Lane|Dr|Drive|Ct|Court|Way|Pl|Place|Ter|Terrace|"
              r"Pkwy|Parkway|Hwy|Highway|Cir|Circle|Loop|Trail|Sq|Square)")
    return GroupRecognizer("street_address", "STREET_ADDRESS", [
        rf"\b(?P<v>\d{{1,6}}[ \t]+(?:[NSEW]\.?[ \t]+)?(?:[A-Z][A-Za-z0-9'-]*[ \t]+){{1,4}}{suffix}\b\.?"
        r"(?:,?[ \t]+(?:Apt|Apartment|Suite|Ste|Unit|\#)\.?[ \t]*[A-Za-z0-9-]+)?"
        r"(?:,[ \t]*[A-Z][A-Za-z]+(?:[ \t]+[A-Z][A-Za-z]+){0,2})?(?:,?[ \t]+[A-Z]{2}\b(?:[ \t]+\d{5}(?:-\d{4})?)?)?)"],
        flags=0, refine=strip_trailing_punct, score=0.85)


PHI_RECOGNIZERS = (patient_name, last_first_name, date_of_birth, patient_date, age_over_89, mrn, ssn,
                   insurance_id, accession_number, dicom_uid, hl7_segment, medication, diagnosis, street_address)
