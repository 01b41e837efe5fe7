"""Opaque keyset cursors, signed so that a tampered or foreign cursor is refused.

A cursor is ``base64url(JSON [key values...]) "." base64url(HMAC-SHA256)``. The HMAC
is keyed by the build's content hash and covers the query it belongs to (endpoint,
filters and sort), so a cursor cannot be edited, moved to another query, or reused
after a new build: each of those is a 400 problem, never wrong data or a 500.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

import orjson

from .problems import Problem


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    def __init__(self, key: str) -> None:
        self.key = key.encode()

    def _mac(self, payload: bytes, scope: str) -> bytes:
        return hmac.new(self.key, payload + b"\x00" + scope.encode(), hashlib.sha256).digest()[:16]

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
        if not isinstance(values, list) or len(values) != len(shape) or not all(
            v is None or isinstance(v, t) for v, t in zip(values, shape)
        ):
            raise bad
        return values
