"""Form pieces shared by the params forms of the catalog: JSON-valued params and expression checks."""

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from actions.catalog import ParamsForm
from actions.expressions import check, references, to_text


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> Any:
    """Strict JSON (no NaN or Infinity), with an error message that says where the text is wrong."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None


class _TypedText(str):
    """JSON text as the user typed it, as opposed to a stored param whose value is text."""


class JSONParam(forms.JSONField):
    """A param holding any JSON value, edited as JSON text in a textarea.

    Unlike Django's JSONField, `{}`, `[]` and `null` are values, not blanks: only blank text is missing.
    `types` restricts the top-level value (e.g. `(dict,)`), named by `type_name` in the error.
    """

    widget = forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "code"})

    def __init__(self, *, types: tuple[type, ...] = (), type_name: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.types = types
        self.type_name = type_name

    def clean(self, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        if isinstance(value, str):
            try:
                value = parse_json(value)
            except ValueError as exc:
                raise ValidationError(f"Invalid JSON: {exc}.", code="invalid") from None
        if self.types and (isinstance(value, bool) or not isinstance(value, self.types)):
            raise ValidationError(f"Enter {self.type_name} in JSON.", code="invalid")
        self.validate(value)
        self.run_validators(value)
        return value

    def validate(self, value: Any) -> None:
        """Checks of the parsed value, for subclasses (`required` is decided on the text, in `clean`)."""

    def prepare_value(self, value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, _TypedText):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Submitted text (maybe invalid JSON) is shown back exactly as typed.
        return _TypedText(data) if isinstance(data, str) else data


class ExpressionParamsForm(ParamsForm):
    """A params form whose values may hold `{{ … }}` expressions.

    Every expression is parsed at validation, so a syntax error, an unknown function or a wrong arity is
    reported when the flow is saved, naming the param and the position. References to actions that do
    not run before this one become warnings (they resolve to undefined, which may be intended).
    Optional params left blank are not stored.
    """

    @classmethod
    def data_from_params(cls, params: dict, secrets: dict | None = None) -> QueryDict:
        data = super().data_from_params(params, secrets)
        for name, field in cls.base_fields.items():
            value = params.get(name)
            if isinstance(field, JSONParam):
                # JSON values are typed as JSON text (str() would write Python's spelling).
                if name in params:
                    data[name] = json.dumps(value, ensure_ascii=False)
            elif isinstance(field, forms.CharField) and isinstance(value, bool | int | float):
                data[name] = to_text(value)
        return data

    def clean(self) -> dict:
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            for error in check(value, name):
                self.add_error(name, str(error))
            if self.earlier_ids is not None and name in self.cleaned_data:
                self._warn_about_later_actions(name, value)
        return self.cleaned_data

    def _warn_about_later_actions(self, name: str, value: Any) -> None:
        for path in references(value):
            if len(path) > 1 and path[0] == "actions" and path[1] not in self.earlier_ids:
                message = f"“actions.{path[1]}” does not run before this action: it is undefined here."
                if message not in self.warnings.get(name, []):
                    self.warnings.setdefault(name, []).append(message)

    def to_params(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if self.fields[name].required or value not in (None, "")
        }
