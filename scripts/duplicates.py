"""Spotting that a new record is probably one the dataset already has.

`dca validate` refuses two agreements with the same parties, date and type. A
contributor is more likely to come with the same agreement dated a few days
apart (the signing vs the announcement) or under the same title, so `dca add`
warns about those: same parties signed within 31 days of each other, or the
same title. Dates known only to the month or year count as their whole period.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re

WINDOW_DAYS = 31


def date_range(value: str) -> tuple[dt.date, dt.date] | None:
    """First and last day a partial ISO date can mean (None when it is not a date)."""
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            d = dt.date.fromisoformat(value)
            return d, d
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}", value):
            y, m = int(value[:4]), int(value[5:7])
            return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])
        if re.fullmatch(r"[0-9]{4}", value):
            y = int(value)
            return dt.date(y, 1, 1), dt.date(y, 12, 31)
    except ValueError:
        return None
    return None


def days_apart(a: str, b: str) -> int | None:
    ra, rb = date_range(a), date_range(b)
    if not ra or not rb:
        return None
    return max(0, (rb[0] - ra[1]).days, (ra[0] - rb[1]).days)


def _title(t: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", t.casefold()).split())


def probable_duplicates(agreements: list[dict[str, str]], parties: list[dict[str, str]],
                        new: dict[str, str], new_parties: list[str]) -> list[tuple[str, str]]:
    """(existing agreement_id, why it looks the same) for each probable duplicate."""
    by_agreement: dict[str, set[str]] = {}
    for p in parties:
        by_agreement.setdefault(p.get("agreement_id") or "", set()).add(p.get("country_iso3") or "")
    mine = set(new_parties)
    title = _title(new.get("title", ""))
    out = []
    for a in agreements:
        aid = a.get("agreement_id") or ""
        reasons = []
        if by_agreement.get(aid) == mine:
            gap = days_apart(a.get("signed_on") or "", new.get("signed_on", ""))
            if gap is not None and gap <= WINDOW_DAYS:
                if a.get("signed_on") == new.get("signed_on"):
                    when = "on the same date"
                elif gap == 0:
                    when = "in the same period"
                else:
                    when = f"{gap} day{'s' if gap != 1 else ''} apart"
                dates = a.get("signed_on") if when == "on the same date" else f"{a.get('signed_on')} and {new.get('signed_on')}"
                reasons.append(f"same parties ({', '.join(sorted(mine))}), signed {when} ({dates})")
        if title and _title(a.get("title") or "") == title:
            reasons.append(f"same title ('{a.get('title')}')")
        if reasons:
            out.append((aid, " and ".join(reasons)))
    return out
