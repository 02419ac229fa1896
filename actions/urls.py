from django.urls import path

from actions.views import canvas, editor, executions, flows, transfer

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
    # Run, executions, duplicate, import and export (actions/views/executions.py, transfer.py, flows.py)
    path("<uuid:flow_id>/run/", executions.flow_run, name="flow_run"),
    path("<uuid:flow_id>/executions/", executions.flow_execution_list, name="flow_execution_list"),
    path("executions/", executions.execution_list, name="execution_list"),
    path("executions/<uuid:execution_id>/", executions.execution_detail, name="execution_detail"),
    path("executions/<uuid:execution_id>/rerun/", executions.execution_rerun, name="execution_rerun"),
    path("<uuid:flow_id>/duplicate/", flows.flow_duplicate, name="flow_duplicate"),
    path("<uuid:flow_id>/export/", transfer.flow_export, name="flow_export"),
    path("import/", transfer.flow_import, name="flow_import"),
]
