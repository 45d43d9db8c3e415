"""Secrets at rest: the key from settings, its generation in development, rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from services.ingest.config import IngestSettings
from shared.crypto import DecryptionFailed, SecretBox
from tests.conftest import TEST_SECRET


def make(tmp_path, **kw):
    values = {"secret_key": TEST_SECRET, "var_dir": tmp_path, "database_url": "sqlite://"}
    return IngestSettings(**{**values, **kw})


def test_production_refuses_to_start_without_a_key(tmp_path, monkeypatch):
    monkeypatch.delenv("INGEST_ENCRYPTION_KEY", raising=False)
    monkeypatch.delenv("BALISE_ENCRYPTION_KEY", raising=False)
    with pytest.raises(ValueError, match="ENCRYPTION_KEY"):
        make(tmp_path, environment="production")
    key = Fernet.generate_key().decode()
    ok = make(tmp_path, environment="production", encryption_key=key)
    assert ok.encryption_key.get_secret_value() == key
    assert not (tmp_path / ".encryption_key").exists()


def test_development_generates_and_keeps_a_key(tmp_path, monkeypatch):
    monkeypatch.delenv("INGEST_ENCRYPTION_KEY", raising=False)
    monkeypatch.delenv("BALISE_ENCRYPTION_KEY", raising=False)
    a = make(tmp_path, environment="development")
    b = make(tmp_path, environment="development")
    assert a.encryption_key.get_secret_value() == b.encryption_key.get_secret_value()
    assert (tmp_path / ".encryption_key").stat().st_mode & 0o077 == 0
    assert key_repr_hidden(a)


def key_repr_hidden(settings) -> bool:
    return settings.encryption_key.get_secret_value() not in repr(settings)


def test_env_variable_and_malformed_key(tmp_path, monkeypatch):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("INGEST_ENCRYPTION_KEY", key)
    assert make(tmp_path).encryption_key.get_secret_value() == key
    monkeypatch.setenv("INGEST_ENCRYPTION_KEY", "not-a-key")
    with pytest.raises(ValueError, match="Fernet"):
        make(tmp_path)


def test_rotation_and_tampering():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = SecretBox(old).encrypt("refresh-token-123")
    rotated_box = SecretBox(f"{new},{old}")
    assert rotated_box.decrypt(token) == "refresh-token-123"
    fresh = rotated_box.rotate(token)
    assert SecretBox(new).decrypt(fresh) == "refresh-token-123"
    with pytest.raises(DecryptionFailed):
        SecretBox(new).decrypt(token)
    with pytest.raises(DecryptionFailed):
        SecretBox(old).decrypt(token[:-4] + "AAAA")
    assert "refresh-token" not in repr(rotated_box)
