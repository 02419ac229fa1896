import json
import uuid
from typing import Self

from django.db import models
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac

from vault.fields import EncryptedSecretField
from vault.secrets import Secret


class ConnectionType(models.TextChoices):
    BEARER = "BEARER", "Bearer token"
    BASIC_AUTH = "BASIC_AUTH", "Basic auth"
    API_KEY = "API_KEY", "API key"
    OAUTH_CLIENT_CREDENTIALS = "OAUTH_CLIENT_CREDENTIALS", "OAuth client credentials"


class Connection(models.Model):
    """A named credential. Its `setup` is write-only: encrypted at rest, never shown again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=150, unique=True)
    type = models.CharField(max_length=32, choices=ConnectionType.choices, default=ConnectionType.BEARER)
    setup = EncryptedSecretField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    allowed_hosts = models.JSONField(
        default=list, blank=True, help_text="Hosts this credential may be sent to; empty means any host."
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        permissions = [("use_connection", "Can use a connection in actions")]
        constraints = [
            # Actions and exports name a connection: "GitHub" and "github" must not be two of them.
            models.UniqueConstraint(
                Lower("name"),
                name="unique_connection_name_ci",
                violation_error_message="A connection with this name already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ready(self) -> bool:
        return self.setup is not None

    @classmethod
    def find(cls, ref: str) -> Self | None:
        """The connection whose id (UUID text) or name is `ref`; names never look like UUIDs."""
        try:
            return cls.objects.filter(pk=uuid.UUID(str(ref))).first()
        except ValueError:
            return cls.objects.filter(name=ref).first()

    def summary(self) -> dict:
        """Everything that may be shown about a connection outside its edit form (never the secret)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "type": self.type,
            "ready": self.ready,
            "fingerprint": self.fingerprint,
        }

    def set_setup(self, setup: dict) -> None:
        """Replace the secret setup and its fingerprint."""
        self.setup = Secret(setup)
        self.fingerprint = fingerprint_of(setup)


def fingerprint_of(setup: dict) -> str:
    """A short, non-reversible tag that changes whenever the setup changes."""
    canonical = json.dumps(setup, sort_keys=True, separators=(",", ":"))
    return salted_hmac("vault.connection.fingerprint", canonical, algorithm="sha256").hexdigest()[:16]
