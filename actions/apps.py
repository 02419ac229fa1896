from django.apps import AppConfig
from django.core import checks


class ActionsConfig(AppConfig):
    name = "actions"
    verbose_name = "Flows and actions"

    def ready(self) -> None:
        from actions.catalog.http import check_oauth_connection
        from actions.ssrf import check_outbound_allowlist
        from vault.checks import register_checker
        from vault.models import ConnectionType

        checks.register(check_outbound_allowlist, checks.Tags.security)
        # The vault does no HTTP: its Check of an OAuth connection fetches a token through our client.
        register_checker(ConnectionType.OAUTH_CLIENT_CREDENTIALS, check_oauth_connection)
