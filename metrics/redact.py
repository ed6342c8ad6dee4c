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
