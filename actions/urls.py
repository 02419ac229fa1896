from django.urls import path

from actions.views import editor, flows

app_name = "actions"
urlpatterns = [
    path("", flows.flow_list, name="flow_list"),
]
