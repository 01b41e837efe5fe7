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
