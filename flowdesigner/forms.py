"""The login form: Flow Designer is for staff accounts only (flowdesigner.access checks every page too)."""

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError


class StaffAuthenticationForm(AuthenticationForm):
    """Refuses a correct login of an account that is not staff, instead of logging it in to a 403."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_staff": "This account may not use Flow Designer: ask an administrator for staff access.",
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not user.is_staff:
            raise ValidationError(self.error_messages["not_staff"], code="not_staff")
