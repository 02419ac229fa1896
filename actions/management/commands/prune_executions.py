"""`manage.py prune_executions [--days N]`: delete executions older than the retention period.

Prints `{"deleted": N, "days": D, "before": ISO time}` on stdout. The period defaults to
`FLOWS_EXECUTION_RETENTION_DAYS` (30 unless configured).
"""

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from actions.models import Execution


class Command(BaseCommand):
    help = "Delete executions (and their action runs) older than the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep executions of the last N days (default: FLOWS_EXECUTION_RETENTION_DAYS).",
        )

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        if days is None:
            days = settings.FLOWS_EXECUTION_RETENTION_DAYS
        if days < 0:
            raise CommandError("--days must be 0 or more.", returncode=2)
        before = timezone.now() - timedelta(days=days)
        _, per_model = Execution.objects.filter(created__lt=before).delete()
        deleted = per_model.get(Execution._meta.label, 0)
        self.stdout.write(json.dumps({"deleted": deleted, "days": days, "before": before.isoformat()}))
        self.stderr.write(f"Deleted {deleted} execution{'' if deleted == 1 else 's'} older than {days} days.")
