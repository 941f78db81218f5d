"""API keys: one per council (tenant), role and, for providers, provider.

A key reads ``ca_<key id>_<secret>``: the key id (public, 12 hex characters) finds the stored
row and the secret is 32 random bytes (256 bits) from :mod:`secrets`. Only the SHA-256 of the
whole key is stored, compared in constant time.

Why SHA-256 and not a password hash or HMAC: slow hashes (bcrypt, argon2) exist to protect
guessable passwords; a 256-bit random secret cannot be guessed, so a stolen table of its
SHA-256 digests is as useless as a table of argon2 hashes, and checking a key stays in
microseconds on every request. An HMAC with a server secret would add nothing for such keys and
one more secret to keep, rotate and lose.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

KEY_PREFIX = "ca"
_KEY_RE = re.compile(r"^ca_([0-9a-f]{12})_([A-Za-z0-9_\-]{43})$")


class Role(StrEnum):
    """What a key may do."""

    ADMIN = "admin"
    BROKER = "broker"
    PROVIDER = "provider"


@dataclass(frozen=True)
class NewKey:
    """A freshly made key: ``secret_key`` is shown once and never stored."""

    key_id: str
    secret_key: str
    key_sha256: str


def digest(key: str) -> str:
    """SHA-256 of a whole key, hex."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def new_key() -> NewKey:
    """A new random key and the digest to store."""
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key_id=key_id, secret_key=key, key_sha256=digest(key))


def key_id_of(key: str) -> str | None:
    """The key id of a well-formed key, or None for anything else."""
    match = _KEY_RE.match(key)
    return match.group(1) if match else None


def matches(key: str, stored_sha256: str) -> bool:
    """True when ``key`` hashes to ``stored_sha256`` (constant-time comparison)."""
    return hmac.compare_digest(digest(key), stored_sha256)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key of one council, with a role (and a provider for provider keys)."""

    key_id: str
    tenant_id: str
    role: Role
    provider_id: str | None = None

    def sees_provider(self, provider_id: str | None) -> bool:
        """Provider keys see only their own provider's data; other roles see the council's."""
        return self.role is not Role.PROVIDER or provider_id == self.provider_id
