from django.apps import AppConfig
from django.core import checks


class ActionsConfig(AppConfig):
    name = "actions"
    verbose_name = "Flows and actions"

    def ready(self) -> None:
        from actions.ssrf import check_outbound_allowlist

        checks.register(check_outbound_allowlist, checks.Tags.security)
