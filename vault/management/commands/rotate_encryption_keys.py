"""Re-encrypt every encrypted column of every installed app under the first FIELD_ENCRYPTION_KEYS key."""

import json

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from vault import crypto
from vault.fields import EncryptedSecretField, SealedSecret


class Command(BaseCommand):
    help = (
        "Re-encrypt every vault secret (and every other EncryptedSecretField column) with the first key of "
        "FIELD_ENCRYPTION_KEYS. All or nothing: if one value cannot be decrypted, nothing is changed. "
        "Afterwards the older keys can be removed."
    )

    def handle(self, *args, **options) -> None:
        counts: dict[str, dict[str, int]] = {}
        # The vault does not know which apps hold secrets: it finds every column of its field type.
        with transaction.atomic():
            for model in apps.get_models():
                fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedSecretField)]
                for field in fields:
                    counts.setdefault(model._meta.label, {})[field] = self._rotate(model, field)
        self.stdout.write(json.dumps(counts, indent=2))
        total = sum(n for by_field in counts.values() for n in by_field.values())
        self.stderr.write(f"Re-encrypted {total} value(s) under the first key of FIELD_ENCRYPTION_KEYS.")

    def _rotate(self, model, field: str) -> int:
        manager = model._base_manager
        rows = manager.filter(**{f"{field}__isnull": False}).values_list("pk", field).order_by("pk")
        rotated = []
        for pk, sealed in rows:
            try:
                rotated.append((pk, crypto.rotate(sealed.ciphertext)))
            except crypto.DecryptionError:
                raise CommandError(
                    f"{model._meta.label} row {pk}: {field} cannot be decrypted with any key of "
                    "FIELD_ENCRYPTION_KEYS. Nothing was changed.",
                    returncode=1,
                ) from None
        for pk, token in rotated:
            manager.filter(pk=pk).update(**{field: SealedSecret(token)})
        return len(rotated)
