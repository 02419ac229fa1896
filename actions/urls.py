from django.urls import path

from actions.views import canvas, editor, flows

app_name = "actions"
urlpatterns = [
    # Flows (actions/views/flows.py)
    path("", flows.flow_list, name="flow_list"),
    path("new/", flows.flow_create, name="flow_create"),
    path("<uuid:flow_id>/", flows.flow_detail, name="flow_detail"),
    path("<uuid:flow_id>/edit/", flows.flow_edit, name="flow_edit"),
    path("<uuid:flow_id>/delete/", flows.flow_delete, name="flow_delete"),
    # The action editor and its Test (actions/views/editor.py)
    path("<uuid:flow_id>/actions/new/<str:type>/<str:action>/", editor.action_create, name="action_create"),
    path("<uuid:flow_id>/actions/<int:pk>/", editor.action_edit, name="action_edit"),
    path("<uuid:flow_id>/actions/<int:pk>/delete/", editor.action_delete, name="action_delete"),
    path("<uuid:flow_id>/actions/<int:pk>/test/", editor.action_test, name="action_test"),
    path("<uuid:flow_id>/actions/test/", editor.action_test_new, name="action_test_new"),
    path("<uuid:flow_id>/actions/rows/<str:field>/", editor.row, name="row"),
    # Import from cURL, and the history of a saved action's tests (actions/views/editor.py)
    path("<uuid:flow_id>/actions/<int:pk>/curl/", editor.action_import_curl, name="action_import_curl"),
    path("<uuid:flow_id>/actions/curl/", editor.action_import_curl_new, name="action_import_curl_new"),
    path(
        "<uuid:flow_id>/actions/<int:pk>/tests/<int:run_pk>/", editor.action_test_run, name="action_test_run"
    ),
    path(
        "<uuid:flow_id>/actions/<int:pk>/tests/compare/",
        editor.action_test_compare,
        name="action_test_compare",
    ),
    # The canvas: insert from the catalog, reorder, move, delete (actions/views/canvas.py)
    path("<uuid:flow_id>/canvas/catalog/", canvas.catalog_dialog, name="canvas_catalog"),
    path("<uuid:flow_id>/canvas/insert/", canvas.action_insert, name="canvas_insert"),
    path("<uuid:flow_id>/canvas/reorder/", canvas.actions_reorder, name="canvas_reorder"),
    path("<uuid:flow_id>/canvas/<int:pk>/move/<str:direction>/", canvas.action_move, name="canvas_move"),
    path("<uuid:flow_id>/canvas/<int:pk>/delete/", canvas.action_remove, name="canvas_delete"),
]
