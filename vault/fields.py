"""A model field that stores a JSON value encrypted, and hands it to Python as a Secret."""

from typing import Any

from django.db import models

from vault import crypto
from vault.secrets import Secret


class SealedSecret(Secret):
    """A secret read from the database: decrypted on first reveal(), so listing rows never decrypts."""

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        super().__init__(None)
        self._token = token

    def reveal(self) -> Any:
        if self._value is None:
            self._value = crypto.decrypt(self._token)
        return self._value

    def __bool__(self) -> bool:
        return True

    @property
    def ciphertext(self) -> str:
        """The stored token, for key rotation (which re-encrypts without revealing)."""
        return self._token


class EncryptedSecretField(models.TextField):
    """Ciphertext in the column; a Secret (or None) in Python. Values are JSON (text, object…)."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else SealedSecret(value)

    def to_python(self, value):
        if value is None or isinstance(value, Secret):
            return value
        return Secret(value)

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, SealedSecret):
            # Unchanged since it was read (revealed or not): keep the ciphertext as stored.
            return value.ciphertext
        if not isinstance(value, Secret):
            value = Secret(value)
        return crypto.encrypt(value.reveal())

    def value_to_string(self, obj):
        return None
