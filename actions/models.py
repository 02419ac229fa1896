import uuid

from django.db import models

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

    def __str__(self) -> str:
        return self.name


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
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
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
        constraints = [models.UniqueConstraint(fields=["flow", "action_id"], name="unique_action_id_per_flow")]

    def __str__(self) -> str:
        return self.alias or self.action_id

    @property
    def kind(self) -> str:
        return f"{self.type}/{self.action}"
