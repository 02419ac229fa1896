"""Validation of vault connections: name, type, allowed hosts and each type's write-only setup.

One form serves the vault page, the Django admin and the `vault` command. Every setup field of every
type is declared here (the admin shows them all, one section per type); only the chosen type's fields
are read. Secret fields are password inputs that never render a value: blank keeps the stored secret.
"""

import re
import uuid
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.forms.boundfield import BoundField
from django.views.decorators.debug import sensitive_variables

from vault.crypto import DecryptionError
from vault.hosts import normalize_host
from vault.models import Connection, ConnectionType


@dataclass(frozen=True)
class SetupKey:
    """One key of a type's setup (Auth0 name) and the form field that edits it."""

    key: str
    field: str
    secret: bool = False
    required: bool = True


SETUP_KEYS: dict[str, tuple[SetupKey, ...]] = {
    ConnectionType.BEARER: (SetupKey("token", "bearer_token", secret=True),),
    ConnectionType.BASIC_AUTH: (
        SetupKey("username", "basic_username"),
        SetupKey("password", "basic_password", secret=True),
    ),
    ConnectionType.API_KEY: (
        SetupKey("name", "api_key_name"),
        SetupKey("value", "api_key_value", secret=True),
        SetupKey("in", "api_key_in"),
    ),
    ConnectionType.OAUTH_CLIENT_CREDENTIALS: (
        SetupKey("client_id", "oauth_client_id"),
        SetupKey("client_secret", "oauth_client_secret", secret=True),
        SetupKey("token_endpoint", "oauth_token_endpoint"),
        SetupKey("audience", "oauth_audience", required=False),
        SetupKey("resource", "oauth_resource", required=False),
        SetupKey("scope", "oauth_scope", required=False),
    ),
}

TYPE_DESCRIPTIONS = {
    ConnectionType.BEARER: "Sends Authorization: Bearer <token>.",
    ConnectionType.BASIC_AUTH: "Sends Authorization: Basic with a username and a password.",
    ConnectionType.API_KEY: "Sends a key in a request header or a query parameter.",
    ConnectionType.OAUTH_CLIENT_CREDENTIALS: (
        "Gets an access token from a token endpoint with a client ID and secret, "
        "and sends it as a bearer token."
    ),
}

WRITE_ONLY_HELP = "Write-only: stored encrypted and never shown again, not even when the form has an error."
WRITE_ONLY_KEEP_HELP = (
    "Write-only: never shown again, not even when the form has an error. "
    "Leave blank to keep the stored value; type a new one to replace it."
)

no_line_breaks = RegexValidator(
    r"[\r\n\x00]",
    inverse_match=True,
    message="Line breaks are not allowed: this value is sent in an HTTP header.",
)
no_colon = RegexValidator(":", inverse_match=True, message="A Basic auth username cannot contain a colon.")
http_url = URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// URL.")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _secret(label: str, *, strip: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=strip,
        validators=[no_line_breaks],
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


def _text(label: str, *, help_text: str = "", validators: list | None = None) -> forms.CharField:
    return forms.CharField(label=label, required=False, help_text=help_text, validators=validators or [])


class HostListField(forms.CharField):
    """Host names or IP addresses separated by commas or new lines → a normalized list."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value) -> list[str]:
        hosts, spaced, invalid = [], [], []
        # Commas and new lines only: a space inside a host is a typo to show, not a separator to guess.
        for item in re.split(r"[,\r\n]+", super().to_python(value)):
            item = item.strip()
            if not item:
                continue
            if re.search(r"\s", item):
                spaced.append(f"“{item}”")
                continue
            try:
                hosts.append(normalize_host(item))
            except ValueError:
                invalid.append(item)
        errors = []
        if spaced:
            errors.append(
                ValidationError(
                    "A host cannot contain spaces: %(hosts)s. Separate hosts with commas or new lines.",
                    code="space",
                    params={"hosts": ", ".join(spaced)},
                )
            )
        if invalid:
            errors.append(
                ValidationError(
                    "Not a host name or IP address: %(hosts)s.",
                    code="invalid",
                    params={"hosts": ", ".join(invalid)},
                )
            )
        if errors:
            raise ValidationError(errors)
        return list(dict.fromkeys(hosts))


@dataclass(frozen=True)
class SetupRow:
    """A setup field as the template shows it; `retype` when a typed secret was dropped by an error."""

    field: BoundField
    retype: bool


class ConnectionForm(forms.ModelForm):
    allowed_hosts = HostListField(
        label="Allowed hosts",
        required=False,
        help_text=(
            "Host names or IP addresses this credential may be sent to, separated by commas or new lines. "
            "Leave empty to allow any host."
        ),
    )
    bearer_token = _secret("Token")
    basic_username = _text("Username", validators=[no_line_breaks, no_colon])
    basic_password = _secret("Password", strip=False)
    api_key_name = _text(
        "Key name",
        help_text="The header or query parameter that carries the key, e.g. X-API-Key or api_key.",
        validators=[no_line_breaks],
    )
    api_key_value = _secret("Value")
    api_key_in = forms.ChoiceField(
        label="Send in",
        choices=[("HEADER", "Header"), ("QUERY", "Query parameter")],
        initial="HEADER",
        required=False,
        widget=forms.RadioSelect,
    )
    oauth_client_id = _text("Client ID", validators=[no_line_breaks])
    oauth_client_secret = _secret("Client secret")
    oauth_token_endpoint = _text(
        "Token endpoint", help_text="e.g. https://example.auth0.com/oauth/token", validators=[http_url]
    )
    oauth_audience = _text("Audience (optional)")
    oauth_resource = _text("Resource (optional)")
    oauth_scope = _text("Scope (optional)", help_text="Space-separated scopes.")

    class Meta:
        model = Connection
        fields = ["name", "type", "allowed_hosts"]
        widgets = {"type": forms.RadioSelect}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # What is stored now: clean() and the templates need it after the form has updated the instance.
        self.stored_type = None if self.instance._state.adding else self.instance.type
        self.stored_setup: dict | None = None
        self.setup_unreadable = False
        self.new_setup: dict | None = None
        if self.instance.setup is not None:
            try:
                self.stored_setup = self.instance.setup.reveal()
            except DecryptionError:
                self.setup_unreadable = True
            else:
                for k in SETUP_KEYS.get(self.stored_type, ()):
                    if not k.secret and k.key in self.stored_setup:
                        self.initial.setdefault(k.field, self.stored_setup[k.key])
        for type_, keys in SETUP_KEYS.items():
            for k in keys:
                if k.secret:
                    self.fields[k.field].help_text = (
                        WRITE_ONLY_KEEP_HELP if self.keeps_secret(type_) else WRITE_ONLY_HELP
                    )

    def keeps_secret(self, type_: str) -> bool:
        """Whether leaving the secret blank keeps a stored one (same type, secret already set)."""
        return self.stored_type == type_ and self.instance.setup is not None

    @property
    def chosen_type(self) -> str:
        value = self.data.get(self.add_prefix("type")) if self.is_bound else self.initial.get("type")
        return value if value in SETUP_KEYS else (self.stored_type or ConnectionType.BEARER)

    @property
    def chosen_type_label(self) -> str:
        return ConnectionType(self.chosen_type).label

    @property
    def type_changed(self) -> bool:
        return self.stored_type is not None and self.chosen_type != self.stored_type

    @property
    def type_options(self) -> list[tuple]:
        return [(radio, TYPE_DESCRIPTIONS[radio.data["value"]]) for radio in self["type"]]

    @property
    def setup_rows(self) -> list[SetupRow]:
        failed = self.is_bound and bool(self.errors)
        return [
            SetupRow(self[k.field], retype=failed and k.secret and bool(self[k.field].data))
            for k in SETUP_KEYS[self.chosen_type]
        ]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        try:
            uuid.UUID(name)
        except ValueError:
            pass
        else:
            raise ValidationError("A name cannot look like a connection id (a UUID).", code="invalid")
        # Unique whatever the case: flows name their connection, and "GitHub" is "github" to a reader.
        if Connection.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise ValidationError("A connection with this name already exists.", code="unique")
        return name

    @sensitive_variables()
    def clean(self) -> dict:
        cleaned = super().clean()
        type_ = cleaned.get("type")
        if type_ in SETUP_KEYS and not any(k.field in self.errors for k in SETUP_KEYS[type_]):
            self.new_setup = self._setup(type_, cleaned)
        return cleaned

    @sensitive_variables()
    def _setup(self, type_: str, cleaned: dict) -> dict | None:
        """The setup to store, or None to leave the stored one as it is. Missing fields become errors."""
        keys = SETUP_KEYS[type_]
        same_type = self.keeps_secret(type_)
        if same_type and self.setup_unreadable and not any(k.field in self.changed_data for k in keys):
            return None
        stored = self.stored_setup if same_type else None
        setup = {}
        for k in keys:
            value = cleaned.get(k.field) or ""
            if not value and k.secret and stored:
                value = stored.get(k.key, "")
            if value:
                setup[k.key] = value
            elif k.required:
                unreadable = k.secret and same_type and self.setup_unreadable
                self.add_error(
                    k.field,
                    "The stored value cannot be decrypted with the current keys: enter it again."
                    if unreadable
                    else "This field is required.",
                )
        if setup.get("in") == "HEADER" and "name" in setup and not HEADER_NAME.fullmatch(setup["name"]):
            self.add_error("api_key_name", "Not a valid header name: use letters, digits and - _ . only.")
        return None if setup == stored else setup

    def save(self, commit: bool = True) -> Connection:
        if self.new_setup is not None:
            self.instance.set_setup(self.new_setup)
        return super().save(commit)


def setup_form_data(type_: str, setup: dict) -> dict[str, str]:
    """Form data for a setup given as JSON (Auth0 keys), e.g. on the command line; ValueError if malformed."""
    fields = {k.key: k.field for k in SETUP_KEYS[type_]}
    unknown = sorted(set(setup) - set(fields))
    if unknown:
        raise ValueError(
            f"Unknown setup key(s) for {type_}: {', '.join(unknown)}. Expected: {', '.join(fields)}."
        )
    for key, value in setup.items():
        if not isinstance(value, str):
            raise ValueError(f'Setup key "{key}" must be a string.')
    return {fields[key]: value for key, value in setup.items()}


SETUP_KEY_OF_FIELD = {k.field: k.key for keys in SETUP_KEYS.values() for k in keys}
