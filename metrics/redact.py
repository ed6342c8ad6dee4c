"""Secrets never reach a screen, a log or stderr: one way to show a warehouse URL, and one
way to scrub its secrets from any message that may quote it (a driver error, say).

SQLAlchemy's own rendering hides the `user:password@` form; drivers also take secrets as
query keys (`?password=`, `?sslpassword=`, `?motherduck_token=`, `?api_key=`...), so every
query key that looks like a secret is masked too.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus

MASK = "***"
# query keys whose values are secrets: password, passwd, pwd, sslpassword, token, motherduck_token,
# secret, client_secret, key, api_key, sslkey (a path, but whose path is nobody's business), auth...
SECRET_KEY = re.compile(r"pass|pwd|token|secret|key|credential|auth|signature|session|cookie", re.IGNORECASE)
NOT_A_URL = "<not a SQLAlchemy URL>"


def _parse(url: str):
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(str(url))
    except Exception:  # noqa: BLE001 - an unreadable URL may still hold a secret: show none of it
        return None


def secret_values(url: str) -> list[str]:
    """The secret parts of a URL (password and secret-looking query values), longest first."""
    parsed = _parse(url)
    if parsed is None:
        return []
    found = [parsed.password] if parsed.password else []
    for key, value in parsed.query.items():
        if SECRET_KEY.search(key):
            found.extend(value if isinstance(value, tuple) else [value])
    return sorted({str(v) for v in found if v}, key=len, reverse=True)


def redact_url(url: str | None) -> str:
    """The URL for display: password and every secret-looking query value as ***."""
    if not url:
        return ""
    parsed = _parse(url)
    if parsed is None:
        return NOT_A_URL
    if not secret_values(url):  # nothing to hide: the URL exactly as the user wrote it
        return str(url)
    query = {k: (tuple(MASK for _ in v) if isinstance(v, tuple) else MASK) if SECRET_KEY.search(k) else v
             for k, v in parsed.query.items()}
    text = parsed.set(query=query).render_as_string(hide_password=True)
    return text.replace(quote_plus(MASK), MASK).replace(quote(MASK, safe=""), MASK)


def redact_text(text: str, url: str | None) -> str:
    """A message with every secret of `url` replaced by *** (raw and URL-encoded forms)."""
    text = str(text)
    if not url:
        return text
    if str(url) in text:
        text = text.replace(str(url), redact_url(url))
    for secret in secret_values(url):
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, MASK)
    return text


# -- personal data in free text (appeal texts, decision notes) ---------------------------------
#
# Appeal texts and decision notes carry the appellant's contact details. Every text that reaches
# a page, a download or a CLI file goes through `redact_personal` first. Each kind of personal
# data is replaced by a named mask, so a reader still sees that a contact was given. Numbers that
# are not personal data must survive: appeal and other record ids (ap_0000001, sp_012), ISO dates
# and times (2026-11-16, 14:05), amounts and counts ("3 strikes in 90 days", "$1,250.00").

PERSONAL_MASKS = {"email": "[email]", "phone": "[phone]", "card": "[card]", "handle": "[handle]",
                  "user_url": "[user-link]"}

# A user id in a link: the path segment after users/user/u/profile/members/seller(s)/buyer(s),
# or a query value of user_id / uid / userId / profile_id / customer_id / seller_id / buyer_id.
_USER_URL = re.compile(
    r"(?i)\b(?:https?://|www\.)[^\s<>\"']*?(?:/(?:users?|u|profile|profiles|members?|sellers?|buyers?|customers?|"
    r"accounts?)/[^\s/?#<>\"']+|[?&](?:user_?id|uid|profile_?id|customer_?id|seller_?id|buyer_?id|account_?id)="
    r"[^\s&#<>\"']+)[^\s<>\"']*"
)
# local part: letters (any script), digits and . _ % + -; the domain: labels of letters/digits/-.
# Obfuscated forms are masked too: "name [at] domain [dot] com", "name(at)domain.com", "name at domain dot com".
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_EMAIL_OBFUSCATED = re.compile(
    r"(?i)[\w.%+-]+\s*(?:\[at\]|\(at\)|\{at\}|\sat\s)\s*[\w-]+(?:\s*(?:\[dot\]|\(dot\)|\{dot\}|\sdot\s|\.)\s*[\w-]+)*"
    r"\s*(?:\[dot\]|\(dot\)|\{dot\}|\sdot\s|\.)\s*(?:com|net|org|de|uk|ie|pl|au|io|test|example|co|info|eu)\b"
)
_HANDLE = re.compile(r"(?<![\w.@])@[\w][\w.]{1,}(?<!\.)", re.UNICODE)
# card-like: 13 to 19 digits, optionally grouped by single spaces or hyphens
_CARD = re.compile(r"(?<![\w+-])[1-9](?:[ -]?\d){12,18}(?![\w-])")  # no card number starts with 0
# phone: an optional +, then digits with spaces, dots, hyphens, slashes or brackets between them;
# at least 7 digits in all. Dates, times and ids are ruled out in _phone below.
_PHONE = re.compile(r"(?<![\w+/.-])(?:\+|00)?\(?\d[\d ().\-/\u00a0]{5,}\d(?![\w-])")
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$|^\d{4}[./]\d{2}[./]\d{2}$")
_TIME_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(match: re.Match) -> str:
    # any 13-19 digit run is masked: a card number that fails Luhn (a typo) is still a card
    # number to the person it belongs to, and no record id of ours has that many bare digits
    return PERSONAL_MASKS["card"]


def _phone(match: re.Match) -> str:
    text = match.group(0)
    stripped = text.strip(" ()-./\u00a0")
    digits = _digits(stripped)
    if len(digits) < 7 or _DATE_LIKE.match(stripped) or _TIME_LIKE.match(stripped):
        return text
    if len(digits) > 15 and not stripped.startswith(("+", "00")):  # a run of numbers, not one phone number
        return text
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+", stripped):  # an amount or a decimal
        return text
    lead = text[: len(text) - len(text.lstrip(" ("))] if not text.startswith(("+", "(")) else ""
    tail = text[len(text.rstrip(" ).-/")):] if not text.endswith(")") else ""
    return f"{lead}{PERSONAL_MASKS['phone']}{tail}"


def redact_personal(text: str | None) -> str:
    """A free text fit to show: links carrying a user id, e-mail addresses (plain and
    obfuscated), card-like numbers, phone numbers and @handles replaced by named masks.
    None and "" give ""."""
    if not text:
        return ""
    import unicodedata

    text = unicodedata.normalize("NFKC", str(text))  # full-width digits and ＠ read as their ASCII forms
    text = _USER_URL.sub(PERSONAL_MASKS["user_url"], text)
    text = _EMAIL.sub(PERSONAL_MASKS["email"], text)
    text = _EMAIL_OBFUSCATED.sub(PERSONAL_MASKS["email"], text)
    text = _CARD.sub(_card, text)
    text = _PHONE.sub(_phone, text)
    return _HANDLE.sub(PERSONAL_MASKS["handle"], text)


def redact_frame_texts(frame, columns=("decision_note", "appeal_text", "note")):
    """A Polars frame with its free-text columns redacted (the ones present)."""
    import polars as pl

    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    return frame.with_columns(pl.col(c).map_elements(redact_personal, return_dtype=pl.Utf8, skip_nulls=True)
                              for c in present)
