"""Opaque keyset cursors, signed so that a tampered or foreign cursor is refused.

A cursor is ``base64url(JSON [key values...]) "." base64url(HMAC-SHA256)``. The HMAC
key is derived from a secret of the deployment (``DCA_CURSOR_SECRET``; by default
random per server process) and the build's content hash, and covers the query it
belongs to (endpoint, filters and sort), so a cursor cannot be forged, edited, moved
to another query, or reused after a new build: each of those is a 400 problem, never
wrong data or a 500. The content hash alone would not do as a key: /v1/meta and
/healthz publish it.

Even a correctly signed cursor is type-checked value by value before it reaches a
statement (exact types: ``True`` is not an integer; integers within SQLite's and
PostgreSQL's 64-bit range; strings of bounded length), so that a leaked secret or a
bug cannot turn into an OverflowError or a cast error.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

import orjson

from .problems import Problem


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(data: bytes) -> str:
    """base64url without padding (``base64.urlsafe_b64encode`` in one C call and a translate)."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


INT64 = (-(2**63), 2**63 - 1)
MAX_TEXT = 1000


def _valid(value: Any, kind: type) -> bool:
    if value is None:
        return True
    if kind is int:
        return type(value) is int and INT64[0] <= value <= INT64[1]
    if kind is str:
        return type(value) is str and len(value) <= MAX_TEXT and "\x00" not in value
    return type(value) is kind


class CursorCodec:
    def __init__(self, secret: bytes, build: str) -> None:
        if not secret:
            raise ValueError("a cursor secret is needed")
        self.key = hmac.new(secret, b"dca-cursor\x00" + build.encode(), hashlib.sha256).digest()
        # HMAC-SHA256 with the key already absorbed: each cursor copies this state (in C) instead of
        # setting the key up again, which with OpenSSL 3 costs more than the MAC itself.
        self._keyed = hmac.new(self.key, digestmod=hashlib.sha256)

    def _mac(self, payload: bytes, scope: str) -> bytes:
        h = self._keyed.copy()
        h.update(payload + b"\x00" + scope.encode())
        return h.digest()[:16]

    def encode(self, values: list[Any], scope: str) -> str:
        payload = orjson.dumps(values)
        return f"{_b64(payload)}.{_b64(self._mac(payload, scope))}"

    def decode(self, cursor: str, scope: str, shape: tuple[type, ...]) -> list[Any]:
        """The key values, or a 400 problem if the cursor is not one this query issued."""
        bad = Problem(
            400,
            "cursor: not a cursor issued for this query by this build; follow the `next` link of the "
            "previous page unchanged (cursors are tied to the filters, the sort and the dataset build)",
            type="invalid-cursor",
            errors=[{"parameter": "cursor", "message": "invalid, tampered with, or from another query or build"}],
        )
        if not isinstance(cursor, str) or len(cursor) > 2048 or cursor.count(".") != 1:
            raise bad
        head, sig = cursor.split(".")
        try:
            payload = _unb64(head)
            mac = _unb64(sig)
        except (binascii.Error, ValueError):
            raise bad from None
        if _b64(payload) != head or _b64(mac) != sig:
            raise bad  # only the canonical encoding: any changed character is refused
        if not hmac.compare_digest(mac, self._mac(payload, scope)):
            raise bad
        try:
            values = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise bad from None
        if type(values) is not list or len(values) != len(shape) or not all(
            _valid(v, t) for v, t in zip(values, shape)
        ):
            raise bad
        return values
