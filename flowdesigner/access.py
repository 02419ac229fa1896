"""Access control for every page and partial: a logged-in, active staff user."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous → login (an HTMX request gets HX-Redirect); logged in but not staff → 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            htmx = getattr(request, "htmx", None)
            if htmx:
                # After logging in, come back to the page the partial belongs to, not to the partial.
                page = htmx.current_url_abs_path or settings.LOGIN_REDIRECT_URL
                login = redirect_to_login(page, settings.LOGIN_URL)
                return HttpResponse(status=204, headers={"HX-Redirect": login["Location"]})
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not (user.is_active and user.is_staff):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
