import uuid

from django.db import models
from django.db.models.functions import Lower
from django.utils.text import slugify

from vault.fields import EncryptedSecretField


class Flow(models.Model):
    """An ordered list of actions (Auth0 Forms "Flows" shape)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Incremented by every save.")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # "Demo" and "demo" would be the same flow to a reader, and to an import.
            models.UniqueConstraint(
                Lower("name"),
                name="unique_flow_name_ci",
                violation_error_message="A flow with this name already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def free_action_id(self, label: str) -> str:
        """A free action id built from a type's label: http_request_1, http_request_2…"""
        base = slugify(label).replace("-", "_") or "action"
        taken = set(self.actions.values_list("action_id", flat=True))
        number = 1
        while f"{base}_{number}" in taken:
            number += 1
        return f"{base}_{number}"


class Branch(models.TextChoices):
    MAIN = "", "main"
    THEN = "then", "then"
    ELSE = "else", "else"


class Action(models.Model):
    """One action of a flow, with the Auth0 envelope (id, alias, type, action, flags, params).

    Nested actions (the then/else lists of an If/then) point at their parent action and branch.
    Secret params (the inline basic-auth password) live encrypted in `secret_params`, never in `params`.
    """

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="actions")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    branch = models.CharField(max_length=4, choices=Branch.choices, default=Branch.MAIN, blank=True)
    position = models.PositiveIntegerField(default=0)
    action_id = models.SlugField(max_length=100, verbose_name="id")
    alias = models.CharField(max_length=150, blank=True)
    type = models.CharField(max_length=50)
    action = models.CharField(max_length=50)
    allow_failure = models.BooleanField(default=False)
    mask_output = models.BooleanField(default=False)
    params = models.JSONField(default=dict, blank=True)
    secret_params = EncryptedSecretField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "action_id"], name="unique_action_id_per_flow")
        ]

    def __str__(self) -> str:
        return self.alias or self.action_id

    @property
    def kind(self) -> str:
        return f"{self.type}/{self.action}"


class Trigger(models.TextChoices):
    MANUAL = "manual", "manual"
    WEBHOOK = "webhook", "webhook"
    CLI = "cli", "CLI"
    API = "api", "API"
    SCHEDULE = "schedule", "schedule"


class Status(models.TextChoices):
    PENDING = "pending", "pending"
    RUNNING = "running", "running"
    COMPLETED = "completed", "completed"
    FAILED = "failed", "failed"


class Execution(models.Model):
    """One run of a flow: its input, its outcome and (in `action_runs`) what every action did.

    Everything stored here has been redacted: no Secret's value is ever written to these rows.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="executions")
    flow_version = models.PositiveIntegerField()
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    fields = models.JSONField(default=dict, blank=True, help_text="The input fields.")
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True, help_text="{action_id, code, message} when failed.")
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    ended = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["flow", "-created"], name="execution_flow_recent")]

    def __str__(self) -> str:
        return f"{self.flow_id} #{self.id} ({self.status})"

    @property
    def duration_ms(self) -> int | None:
        if self.started is None or self.ended is None:
            return None
        return round((self.ended - self.started).total_seconds() * 1000)

    def summary(self) -> dict:
        """The execution as the command line and the API print it."""
        return {
            "id": str(self.id),
            "status": self.status,
            "output": self.output,
            "error": self.error,
            "actions": [
                {"id": run.action_id, "status": run.status, "output": run.output}
                for run in self.action_runs.all()
            ],
        }


class ActionRun(models.Model):
    """What one action did in one execution: resolved params (secrets masked), output, timing, error."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="action_runs")
    position = models.PositiveIntegerField(help_text="Order of the run within the execution.")
    action_id = models.CharField(max_length=100, verbose_name="id")
    type = models.CharField(max_length=50)
    action = models.CharField(max_length=50)
    status = models.CharField(max_length=10, choices=Status.choices)
    params = models.JSONField(default=dict, blank=True)
    output = models.JSONField(null=True, blank=True, help_text='"masked" when the action masks its output.')
    meta = models.JSONField(default=dict, blank=True, help_text="Timing, size, request as sent (masked)…")
    error = models.JSONField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=1)
    started = models.DateTimeField()

    class Meta:
        ordering = ["execution", "position"]

    def __str__(self) -> str:
        return f"{self.action_id} ({self.status})"

    @property
    def kind(self) -> str:
        return f"{self.type}/{self.action}"


class TestRun(models.Model):
    """One press of Test on a saved action, kept so its result can be reopened and compared.

    Stored as the result panel showed it: redacted like an execution (no Secret's value), the output
    "masked" when the action masks it, and an output too large to keep replaced by `truncated`.
    """

    # pytest would otherwise try to collect this class (its name starts with "Test").
    __test__ = False

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="test_runs")
    created = models.DateTimeField(auto_now_add=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The HTTP status, if any.")
    success = models.BooleanField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    method = models.CharField(max_length=10, blank=True)
    url = models.TextField(blank=True, help_text="The URL as sent (secrets masked).")
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    failure_allowed = models.BooleanField(default=False)
    mask_output = models.BooleanField(default=False)
    output = models.JSONField(null=True, blank=True)
    truncated = models.BooleanField(default=False, help_text="The output was too large to keep.")
    meta = models.JSONField(default=dict, blank=True, help_text="Timing, size, request as sent (masked)…")

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["action", "-created"], name="testrun_action_recent")]

    def __str__(self) -> str:
        return f"Test run #{self.pk} of action #{self.action_id}"
