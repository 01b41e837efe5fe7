"""Words for codes and dates on the pages (the data keep the codes)."""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


def label(code: str | None) -> str:
    """``general_defence_cooperation`` -> ``General defence cooperation``."""
    if not code:
        return ""
    text = str(code).replace("_", " ")
    return text[:1].upper() + text[1:]


def human_date(value: str | None) -> str:
    """An ISO date truncated to what is known, in words: 20 Nov 2014, Nov 2014 or 2014."""
    if not value:
        return ""
    m = _DATE.match(str(value))
    if not m:
        return str(value)
    y, mo, d = m.groups()
    try:
        if d:
            dt.date(int(y), int(mo), int(d))
            return f"{int(d)} {MONTHS[int(mo) - 1]} {y}"
        if mo:
            return f"{MONTHS[int(mo) - 1]} {y}"
    except (ValueError, IndexError):
        return str(value)
    return y


def web_url(value: str | None) -> str | None:
    """The address if it is an absolute http(s) URL (so never ``javascript:`` or ``data:``), else None."""
    if not value:
        return None
    v = str(value).strip()
    try:
        parts = urlsplit(v)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc and not any(c in v for c in "\x00\r\n\t "):
        return v
    return None


def file_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"  # pragma: no cover


def status_age(as_of: str | None, reference: str | None) -> str:
    """How old a status is at the build: "2 years 3 months", "5 months", "under a month".

    A status is only as current as the latest source that confirms it, so the page says
    how long before this build that source was; the reference is the build's date, which
    keeps the page the same for the life of a build (and its ETag valid).
    """
    try:
        a = dt.date.fromisoformat(str(as_of)[:10])
        r = dt.date.fromisoformat(str(reference)[:10])
    except (TypeError, ValueError):
        return ""
    months = (r.year - a.year) * 12 + (r.month - a.month) - (1 if r.day < a.day else 0)
    if months < 1:
        return "under a month"
    y, m = divmod(months, 12)
    parts = ([f"{y} year{'s' if y != 1 else ''}"] if y else []) + ([f"{m} month{'s' if m != 1 else ''}"] if m else [])
    return " ".join(parts)
