from django.urls import path

from vault import views

app_name = "vault"
urlpatterns = [
    path("", views.connection_list, name="list"),
    path("new/", views.connection_create, name="create"),
    path("<uuid:pk>/", views.connection_edit, name="edit"),
    path("<uuid:pk>/delete/", views.connection_delete, name="delete"),
    path("<uuid:pk>/check/", views.connection_check, name="check"),
]
