from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic.base import RedirectView

from flowdesigner.forms import StaffAuthenticationForm

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="actions:flow_list"), name="home"),
    path("login/", auth_views.LoginView.as_view(authentication_form=StaffAuthenticationForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("vault/", include("vault.urls")),
    path("flows/", include("actions.urls")),
]
