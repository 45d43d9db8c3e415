"""Encryption of secrets at rest (OAuth tokens, service-account keys, webhook secrets).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with a key from settings
(``<SERVICE>_ENCRYPTION_KEY`` or the shared ``BALISE_ENCRYPTION_KEY``). Several keys may
be given, comma-separated: the first encrypts, all of them decrypt, so a key can be
rotated without re-encrypting every row at once. Development generates a key into
``var/`` (like :func:`shared.settings.dev_secret`); production refuses to start without
one (see :class:`shared.settings.EncryptionSettings`).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class DecryptionFailed(Exception):
    """A stored secret could not be decrypted: wrong or rotated-away key, or damaged data."""


class SecretBox:
    """Encrypts and decrypts short secrets with the configured key(s)."""

    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise ValueError("no encryption key configured")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])
        except ValueError as exc:
            raise ValueError(
                "The encryption key is not a Fernet key (32 url-safe base64-encoded bytes); "
                "generate one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`."
            ) from exc

    def __repr__(self) -> str:
        return "SecretBox(<keys hidden>)"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, ValueError, UnicodeError) as exc:
            raise DecryptionFailed(
                "A stored secret cannot be decrypted with the configured encryption key."
            ) from exc

    def encrypt_json(self, value: Any) -> str:
        return self.encrypt(json.dumps(value, separators=(",", ":")))

    def decrypt_json(self, token: str) -> Any:
        return json.loads(self.decrypt(token))

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the first (newest) key."""
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")


@functools.lru_cache(maxsize=8)
def box(keys: str) -> SecretBox:
    """A cached :class:`SecretBox` for a key string (building one parses the keys)."""
    return SecretBox(keys)


def box_for(settings: Any) -> SecretBox:
    """The secret box of a service, from its settings' ``encryption_key``."""
    return box(settings.encryption_key.get_secret_value())


def dev_encryption_key(var_dir: Path) -> str:
    """A development Fernet key kept in ``var/`` so every process and restart agree on it."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / ".encryption_key"
    if path.exists():
        return path.read_text().strip()
    value = Fernet.generate_key().decode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value
