"""Recognizers for secrets and identifiers the vendor never needs: PINs, MFA codes, passwords, tokens,
card/DEA/licence/passport numbers, IP addresses and portal usernames. Registry in registry.py."""

from __future__ import annotations

from gateway.scrub.base import GroupRecognizer, chain, has_digit, strip_trailing_punct

# Secrets read out over the phone arrive spelled: "seven three zero two".
_DW = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_LINK = r"(?:\s*(?:[:#=-]|is|was|of|reads?|out|as|number|code))*\s*"
# Up to 30 characters of other words, across at most a single line break, but never across a digit.
_GAP = r"(?:[^\n\d]|\n(?!\s*\n)){0,30}?"


def support_pin() -> GroupRecognizer:
    ctx = r"\b(?:support\s+|account\s+|security\s+)?(?:PIN|pin\s*code|passcode|support\s+code|security\s+code)\b"
    return GroupRecognizer("support_pin", "SUPPORT_PIN", [
        rf"{ctx}{_LINK}(?P<v>\d(?:[ -]?\d){{3}})(?![\d])",
        rf"{ctx}{_LINK}(?P<v>{_DW}(?:[ ,-]+{_DW}){{3}})\b",
        rf"{ctx}[^\n\d]{{0,25}}?(?P<v>(?!(?:19|20)\d\d\b)\d{{4}})(?![\d/-])",
    ], not_after_ticket=True, score=0.9)


def mfa_code() -> GroupRecognizer:
    ctx = (r"\b(?:(?:MFA|2FA|OTP|one[- ]time|verification|authenticat(?:or|ion)|auth|security|sms|text(?:ed)?|login"
           r"|access|6[- ]digit|six[- ]digit)\s+)?(?:code|passcode|token|OTP)s?\b")
    app = r"\b(?:authenticator|authy|okta\s+verify|duo(?:\s+mobile)?)\b"
    return GroupRecognizer("mfa_code", "MFA_CODE", [
        rf"{ctx}{_GAP}(?P<v>\d{{3}}[ -]?\d{{3}})(?![\d])",
        rf"(?:{ctx}|{app}){_GAP}(?P<v>\d(?:[ -]\d){{5}})(?![\d])",
        rf"{app}{_GAP}(?P<v>\d{{3}}[ -]?\d{{3}})(?![\d])",
        rf"(?:{ctx}|{app}){_GAP}(?P<v>{_DW}(?:[ ,-]+{_DW}){{5}})\b",
    ], not_after_ticket=True, score=0.9)


_NOT_PASSWORDS = frozenset({
    "reset", "expired", "incorrect", "correct", "wrong", "invalid", "manager", "field", "page", "link", "again",
    "change", "changed", "recovery", "screen", "prompt", "requirements", "policy", "the", "his", "her", "their",
    "for", "and", "but", "or", "was", "is", "to", "a", "an", "with", "not", "updated", "locked", "twice", "too",
    "removed", "protected", "rules", "strength", "works", "worked", "issue", "issues", "problem", "problems",
    "reuse", "manager.", "entry", "box", "login", "several", "multiple", "again.", "yesterday", "today", "it",
})


def _password_value(text: str, start: int, end: int) -> tuple[int, int] | None:
    value = text[start:end]
    if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) > 2:
        return start + 1, end - 1
    span = strip_trailing_punct(text, start, end)
    if span is None or text[span[0]:span[1]].lower() in _NOT_PASSWORDS:
        return None
    return span


def password() -> GroupRecognizer:
    return GroupRecognizer("password", "PASSWORD", [
        r"\b(?:password|passwd|pwd|passphrase|pw)\b\s*(?:(?:[:=]|is|was|reads?|as|to|of)\s*)+"
        r"(?P<v>\"[^\"\n]{1,64}\"|'[^'\n]{1,64}'|\S{3,64})",
    ], refine=_password_value, score=0.9)


def url_token() -> GroupRecognizer:
    keys = (r"access_token|id_token|refresh_token|token|code|key|api_key|apikey|sig|signature|session|sessionid|sid"
            r"|auth|jwt|password|pwd|otp|secret|state|ticket")
    return GroupRecognizer("url_token", "URL_TOKEN", [
        rf"[?&#;](?:{keys})=(?P<v>[^&\s#\"'<>]+)",
        r"\b(?P<v>eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{5,})",
        r"\bBearer\s+(?P<v>[A-Za-z0-9._~+/=-]{16,})",
    ], score=0.95)


def card_ending() -> GroupRecognizer:
    return GroupRecognizer("card_last_four", "CREDIT_CARD", [
        r"\b(?:card|visa|mastercard|amex|discover)\b[^\n\d]{0,20}?(?:ending(?:\s+in)?|last\s+(?:4|four)(?:\s+digits)?"
        r"(?:\s+(?:are|is))?)\s*[:#-]?\s*(?P<v>\d{4})\b"], score=0.85)


def _dea_checksum(text: str, start: int, end: int) -> tuple[int, int] | None:
    digits = [int(c) for c in text[start + 2:end]]
    ok = (digits[0] + digits[2] + digits[4] + 2 * (digits[1] + digits[3] + digits[5])) % 10 == digits[6]
    return (start, end) if ok else None


def dea_number() -> list[GroupRecognizer]:
    return [
        GroupRecognizer("dea_number_context", "DEA_NUMBER", [
            r"\bDEA\s*(?:number|no\.?|\#|registration)?\s*[:#=]?\s*(?:is\s+|was\s+)?(?P<v>[A-Z][A-Z9]\d{7})\b"],
            score=0.95),
        GroupRecognizer("dea_number_checksum", "DEA_NUMBER", [r"\b(?P<v>[ABCDEFGHJKLMPRSTUX][A-Z9]\d{7})\b"],
                        flags=0, refine=_dea_checksum, score=0.85),
    ]


def driver_license() -> GroupRecognizer:
    return GroupRecognizer("driver_license", "DRIVER_LICENSE", [
        r"\b(?:driver'?s?\s+licen[cs]e|drivers?\s+lic\.?|(?-i:DL))\s*(?:number|no\.?|\#|num)?\s*[:#=]?\s*"
        r"(?:is\s+|was\s+)?(?P<v>[A-Z0-9][A-Z0-9-]{4,18})\b"], refine=has_digit, score=0.9)


def passport() -> GroupRecognizer:
    return GroupRecognizer("passport_number", "PASSPORT", [
        r"\bpassport\s*(?:number|no\.?|\#|num)?\s*[:#=]?\s*(?:is\s+|was\s+)?(?P<v>[A-Z0-9]{6,12})\b"],
        refine=has_digit, score=0.9)


def _ipv6_like(text: str, start: int, end: int) -> tuple[int, int] | None:
    value = text[start:end]
    return (start, end) if value.count(":") >= 2 and any(c.isalpha() or c == ":" for c in value) else None


def ip_address() -> list[GroupRecognizer]:
    octet = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    return [
        GroupRecognizer("ipv4_address", "IP_ADDRESS", [rf"(?<![\d.])(?P<v>(?:{octet}\.){{3}}{octet})(?![\d.]*\d)"],
                        flags=0, score=0.9),
        GroupRecognizer("ipv6_address", "IP_ADDRESS", [
            r"(?<![:\w])(?P<v>(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}"
            r"(?::[0-9a-f]{1,4}){0,6})?)(?![:\w])"], refine=_ipv6_like, score=0.85),
    ]


def portal_username() -> GroupRecognizer:
    return GroupRecognizer("portal_username", "USERNAME", [
        r"\b(?:user\s*name|user\s*id|userid|login(?:\s+(?:id|name))?|portal\s+(?:login|user(?:name)?|account))"
        r"\s*(?:[:=]|is|was)\s*(?P<v>[A-Za-z0-9._@+-]{3,64})"],
        refine=chain(strip_trailing_punct, _not_common_word), score=0.85)


def _not_common_word(text: str, start: int, end: int) -> tuple[int, int] | None:
    return None if text[start:end].lower() in _NOT_PASSWORDS else (start, end)


def phone_number() -> list[GroupRecognizer]:
    """North American numbers with separators (or ten digits after a phone word) and +country numbers.
    A regular expression instead of Presidio's phonenumbers matcher, which cost ~16 ms a message here."""
    nanp = r"(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}"
    ext = r"(?:[ \t]*(?:x|ext\.?)[ \t]*\d{1,5})?"
    return [
        GroupRecognizer("phone_nanp", "PHONE_NUMBER", [rf"(?<![\w+.-])(?P<v>{nanp}{ext})(?![\w-])"], score=0.7),
        GroupRecognizer("phone_words", "PHONE_NUMBER", [
            r"\b(?:phone|cell|mobile|tel|fax|call|text|reach(?:ed)?\s+at|number)\b[^\n\d]{0,15}?"
            r"(?P<v>\+?1?[2-9]\d{9})(?!\d)"], score=0.6),
        GroupRecognizer("phone_international", "PHONE_NUMBER", [
            r"(?<![\w+])(?P<v>\+(?:[2-9]\d{0,2})[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4})(?![\w-])"], score=0.6),
    ]


SECRET_RECOGNIZERS = (support_pin, mfa_code, password, url_token, card_ending, dea_number, driver_license, passport,
                      ip_address, portal_username, phone_number)
