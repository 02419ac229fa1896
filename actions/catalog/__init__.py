"""The action catalog: every action type a flow can hold, one module per type.

A module in this package describes its type with an `ActionType` and calls `register()` at import time;
the package imports all its modules the first time the catalog is read, so adding an action type means
adding one module and touching nothing else.

Contract of a type:
- `form_class(data=None, *, params=None, has_secret=False, earlier_ids=None, may_use_connections=True)`:
  a `ParamsForm` that edits the stored `params` (and knows whether a secret is stored; a user without
  `vault.use_connection` may keep a stored connection but not choose one); once valid, `form.params`
  is what to store and `form.secret_params(stored)` the new secret params (a `Secret` or None; a
  blank password field keeps `stored`). `form_class.data_from_params(params, secrets)` turns params as
  written in an action file (secret values included) into form data, so a file is validated exactly
  like the editor.
  Secret params are keyed by the name of the form field that edits them.
- `output_keys`: the keys its output always has (`actions.<id>.<key>`), for the editor's suggestions.
- `run(params, ctx) -> ActionResult`: performs the action on its stored params; expressions are resolved
  against `ctx.scope`. A failure raises `ActionFailed(code, message)`.
"""

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from itertools import zip_longest
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from vault.secrets import Secret


class ActionFailed(Exception):
    """The action could not complete. `output` is what it yields when the action allows failure;
    `meta` what was recorded before it failed (e.g. the request as sent)."""

    def __init__(self, code: str, message: str, output: Any = None, meta: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.output = output
        self.meta = meta or {}

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class RunContext:
    """What one run of an action may use besides its params: the expression scope and its own secrets."""

    scope: dict
    secret_params: Secret | None = None


@dataclass(frozen=True)
class ActionResult:
    output: Any
    meta: dict = field(default_factory=dict)


class RowsWidget(forms.Widget):
    """Key/value rows, posted as two parallel lists: `<name>_key` and `<name>_value`."""

    def value_from_datadict(self, data, files, name) -> list[tuple[str, str]]:
        if not hasattr(data, "getlist"):
            return data.get(name) or []
        keys, values = data.getlist(f"{name}_key"), data.getlist(f"{name}_value")
        return list(zip_longest(keys, values, fillvalue=""))

    def value_omitted_from_data(self, data, files, name) -> bool:
        return False


class RowsField(forms.Field):
    """Ordered key/value rows (a key may repeat). Blank rows are ignored; a value without a key is an
    error. Cleans to a list of (key, value) pairs; the template renders the rows itself."""

    widget = RowsWidget
    default_error_messages = {"no_key": "Row %(row)s has a value but no name."}

    def __init__(self, *, strip_values: bool = False, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.strip_values = strip_values

    def prepare_value(self, value) -> list[tuple[str, str]]:
        if isinstance(value, dict):
            return [(str(k), v) for k, v in value.items()]
        return [
            (row.get("key", ""), row.get("value", "")) if isinstance(row, dict) else tuple(row)
            for row in value or []
        ]

    def to_python(self, value) -> list[tuple[str, str]]:
        cleaned, errors = [], []
        for number, (key, item) in enumerate(self.prepare_value(value), start=1):
            key, item = str(key).strip(), str(item).strip() if self.strip_values else str(item)
            if not key and item.strip():
                errors.append(
                    ValidationError(self.error_messages["no_key"], code="no_key", params={"row": number})
                )
            elif key:
                cleaned.append((key, item))
        if errors:
            raise ValidationError(errors)
        return cleaned


class ParamsForm(forms.Form):
    """Base of every params form: stored params in, validated params (and secrets) out.

    `earlier_ids` are the ids of the actions that run before this one, to warn about references to
    actions that cannot have an output yet; `warnings` maps a field name to such non-blocking messages.
    """

    def __init__(
        self,
        data=None,
        *,
        params: dict | None = None,
        has_secret: bool = False,
        earlier_ids: frozenset[str] | None = None,
        may_use_connections: bool = True,
    ) -> None:
        super().__init__(data, initial=self.initial_from_params(params or {}))
        self.has_secret = has_secret
        self.may_use_connections = may_use_connections
        self.earlier_ids = earlier_ids
        self.warnings: dict[str, list[str]] = {}

    @classmethod
    def initial_from_params(cls, params: dict) -> dict:
        return dict(params)

    @classmethod
    def data_from_params(cls, params: dict, secrets: dict | None = None) -> QueryDict:
        """Form data equivalent to `params` (and the secret values), as if typed in the editor."""
        initial = cls.initial_from_params(params) | (secrets or {})
        data = QueryDict(mutable=True)
        for name, field_ in cls.base_fields.items():
            value = initial.get(name, field_.initial)
            if isinstance(field_, RowsField):
                pairs = field_.prepare_value(value)
                data.setlist(f"{name}_key", [str(key) for key, _ in pairs])
                data.setlist(f"{name}_value", [str(item) for _, item in pairs])
            elif isinstance(field_, forms.BooleanField):
                if value:
                    data[name] = "on"
            elif value is not None:
                data[name] = str(value)
        return data

    @property
    def params(self) -> dict:
        """The validated params to store (a form with a field named `params` overrides `to_params`)."""
        return self.to_params()

    def to_params(self) -> dict:
        return dict(self.cleaned_data)

    def secret_params(self, stored: Secret | None) -> Secret | None:
        return stored


@dataclass(frozen=True)
class ActionType:
    type: str
    action: str
    label: str
    icon: str
    description: str
    form_class: type[ParamsForm]
    run: Callable[[dict, RunContext], ActionResult]
    # A template (e.g. "page.html#partial") that lays out the params form; None renders it field by field.
    template_name: str | None = None
    # The keys its output always has, offered by the editor's autocomplete before any run shows them.
    output_keys: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return f"{self.type}/{self.action}"


_registry: dict[tuple[str, str], ActionType] = {}


def register(action_type: ActionType) -> ActionType:
    _registry[(action_type.type, action_type.action)] = action_type
    return action_type


@cache
def _discover() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def get(type: str, action: str) -> ActionType | None:
    """The registered type, or None for one the catalog does not know (an unsupported import)."""
    _discover()
    return _registry.get((type, action))


def all_types() -> list[ActionType]:
    _discover()
    return sorted(_registry.values(), key=lambda t: (t.type, t.action))
