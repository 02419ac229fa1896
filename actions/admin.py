from django.contrib import admin
from django.db.models import Count

from actions.models import Action, ActionRun, Execution, Flow

ACTION_FIELDS = [
    "position",
    "parent",
    "branch",
    "action_id",
    "alias",
    "type",
    "action",
    "allow_failure",
    "mask_output",
    "params",
]


class ActionInline(admin.TabularInline):
    """The flow's actions, shown for reference: they are edited in the designer, which validates params
    through the catalog and keeps the flow's version. The secret params are never shown."""

    model = Action
    fields = ACTION_FIELDS
    readonly_fields = ACTION_FIELDS
    ordering = ["parent_id", "branch", "position"]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "action_count", "updated"]
    search_fields = ["name", "description"]
    fields = ["name", "description", "version", "created", "updated"]
    readonly_fields = ["version", "created", "updated"]
    inlines = [ActionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(action_count=Count("actions"))

    @admin.display(description="Actions", ordering="action_count")
    def action_count(self, obj: Flow) -> int:
        return obj.action_count


class ActionRunInline(admin.TabularInline):
    model = ActionRun
    fields = [
        "position",
        "action_id",
        "type",
        "action",
        "status",
        "duration_ms",
        "attempts",
        "params",
        "output",
        "error",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Execution)
class ExecutionAdmin(admin.ModelAdmin):
    """Executions are records: they can be read (and deleted), never written by hand."""

    list_display = ["id", "flow", "flow_version", "status", "trigger", "started", "duration"]
    list_filter = ["status", "trigger"]
    list_select_related = ["flow"]
    search_fields = ["id", "flow__name"]
    date_hierarchy = "created"
    fields = [
        "flow",
        "flow_version",
        "trigger",
        "status",
        "fields",
        "output",
        "error",
        "created",
        "started",
        "ended",
    ]
    readonly_fields = fields
    inlines = [ActionRunInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Duration (ms)")
    def duration(self, obj: Execution) -> int | None:
        return obj.duration_ms
