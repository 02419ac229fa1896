"""The migrations that make flow and connection names unique whatever their case keep existing data:
an older database may hold "Demo" and "demo", and the newer one is renamed rather than the upgrade failing."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(*targets: tuple[str, str]):
    """The app registry as of `targets`, after migrating the test database there."""
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    executor.loader.build_graph()
    return executor.loader.project_state(list(targets)).apps


@pytest.mark.parametrize(
    ("before", "after", "model"),
    [
        (("actions", "0003_testrun"), ("actions", "0004_flow_name_unique_ci"), "actions.Flow"),
        (("vault", "0001_initial"), ("vault", "0002_connection_name_unique_ci"), "vault.Connection"),
    ],
)
def test_names_that_differ_only_by_case_are_renamed_oldest_first(transactional_db, before, after, model):
    try:
        Model = migrate(before).get_model(model)
        for name in ["Demo", "demo", "DEMO", "demo (2)", "x" * 150, "X" * 150]:
            Model.objects.create(name=name)

        Model = migrate(after).get_model(model)

        assert list(Model.objects.order_by("created", "pk").values_list("name", flat=True)) == [
            "Demo",
            "demo (3)",
            "DEMO (4)",
            "demo (2)",
            "x" * 150,
            "X" * 146 + " (2)",
        ]
    finally:
        migrate(*MigrationExecutor(connection).loader.graph.leaf_nodes())
