from django.contrib import admin
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from vault.forms import SETUP_KEYS, ConnectionForm
from vault.models import Connection, ConnectionType


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    """The same write-only form as the vault page: one setup section per type, secrets never rendered."""

    form = ConnectionForm
    list_display = ["name", "type", "is_ready", "fingerprint", "last_used"]
    list_filter = ["type"]
    search_fields = ["name"]
    readonly_fields = ["is_ready", "fingerprint", "created", "updated", "last_used"]
    fieldsets = [
        (None, {"fields": ["name", "type", "allowed_hosts"]}),
        *(
            (
                f"{ConnectionType(type_).label} setup",
                {
                    "classes": ["setup-section", f"setup-{type_}"],
                    "description": "Used only when the type above is "
                    f"“{ConnectionType(type_).label}”. Secret fields are write-only and always shown empty.",
                    "fields": [k.field for k in keys],
                },
            )
            for type_, keys in SETUP_KEYS.items()
        ),
        ("Status", {"fields": ["is_ready", "fingerprint", "created", "updated", "last_used"]}),
    ]

    class Media:
        js = ["vault/connection-admin.js"]

    def get_fieldsets(self, request, obj=None):
        # A connection being added has no status yet.
        return self.fieldsets if obj else self.fieldsets[:-1]

    @admin.display(boolean=True, description="Ready")
    def is_ready(self, obj: Connection) -> bool:
        return obj.ready

    @method_decorator(sensitive_post_parameters())
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)
