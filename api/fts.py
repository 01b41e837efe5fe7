"""Full-text search: one tokenizer for both back ends.

User text is never handed to a query parser as is. It is split into word tokens the
way SQLite's ``unicode61 remove_diacritics 2`` tokenizer splits the indexed text
(letters and digits; accents removed; case folded) and each token becomes a quoted
prefix term, so neither FTS5 nor ``to_tsquery`` can meet a syntax error. PostgreSQL
indexes the same tokens (``scripts/pgload.py`` stores them), so both back ends find
the same agreements.
"""
from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"[^\W_]+")
MAX_TEXT = 100  # characters of search text
# NFKD can turn one character into up to 4 tokens (U+FDFA), so MAX_TEXT characters never
# exceed this: the documented maxLength is then the only limit a client meets.
MAX_TOKENS = 4 * MAX_TEXT


def tokens(text: str) -> list[str]:
    norm = unicodedata.normalize("NFKD", text)
    norm = "".join(ch for ch in norm if not unicodedata.combining(ch))
    return _TOKEN.findall(norm.casefold())


def index_text(*parts: str | None) -> str:
    """What PostgreSQL indexes for an agreement: its tokens separated by spaces."""
    return " ".join(t for p in parts if p for t in tokens(p))


def sqlite_match(toks: list[str]) -> str:
    # Tokens hold letters and digits only, so quoting cannot be broken out of.
    return " ".join(f'"{t}"*' for t in toks)


def pg_tsquery(toks: list[str]) -> str:
    return " & ".join(f"{t}:*" for t in toks)
