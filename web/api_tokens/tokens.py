"""The token format: ``duet_<id>_<secret>``, and the one-way digest the database keeps.

The fixed ``duet_`` marker and fixed lengths let secret scanners match a leaked token
(regular expression :data:`TOKEN_PATTERN`). The id is public (listing, revoking, logs); the
secret is 43 characters of base62, 256 random bits, so a plain SHA-256 of the token cannot be
reversed or brute-forced and costs nothing per request, unlike a password hash.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from datetime import timedelta

MARKER = "duet_"
ID_LENGTH = 12
SECRET_LENGTH = 43
_ALPHABET = string.ascii_letters + string.digits

#: What a duet token looks like, for secret scanners.
TOKEN_PATTERN = rf"{MARKER}[0-9a-f]{{{ID_LENGTH}}}_[0-9A-Za-z]{{{SECRET_LENGTH}}}"
_TOKEN = re.compile(rf"{MARKER}(?P<id>[0-9a-f]{{{ID_LENGTH}}})_[0-9A-Za-z]{{{SECRET_LENGTH}}}")
#: A DRF authtoken key, carried over hashed by migration 0002 (40 hex characters).
_LEGACY = re.compile(r"[0-9a-f]{40}")

_DURATION = re.compile(r"(?P<count>[1-9][0-9]{0,5})(?P<unit>[smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def new_id() -> str:
    return secrets.token_hex(ID_LENGTH // 2)


def new_token(token_id: str) -> str:
    """A fresh token for ``token_id``; shown once, never stored."""
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))
    return f"{MARKER}{token_id}_{secret}"


def digest(token: str) -> str:
    """What the database stores instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    """A duet token, or a carried-over DRF key; anything else is refused without a query."""
    return bool(_TOKEN.fullmatch(token) or _LEGACY.fullmatch(token))


def parse_duration(text: str) -> timedelta:
    """``90d``, ``12h``, ``30m``, ``2w``, ``3600s``: the ``--expires-in`` of the commands."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"invalid duration {text!r}: use a positive number and a unit, "
            "s, m, h, d or w (e.g. 90d, 12h)"
        )
    return timedelta(**{_UNITS[match["unit"]]: int(match["count"])})
