import django.db.models.functions.text
from django.db import migrations, models


def rename_case_duplicates(apps, schema_editor):
    """Give a flow whose name differs from an older one's only by case a free "Name (2)", so the
    constraint can be added to a database that already holds both."""
    Flow = apps.get_model("actions", "Flow")
    rows = list(Flow.objects.order_by("created", "pk"))
    kept: dict[str, object] = {}
    for row in rows:
        kept.setdefault(row.name.lower(), row)
    taken = set(kept)
    for row in rows:
        if kept[row.name.lower()] is row:
            continue
        number = 2
        while True:
            suffix = f" ({number})"
            name = row.name[: 150 - len(suffix)] + suffix
            if name.lower() not in taken:
                break
            number += 1
        taken.add(name.lower())
        row.name = name
        row.save(update_fields=["name"])


class Migration(migrations.Migration):
    dependencies = [
        ("actions", "0003_testrun"),
    ]

    operations = [
        migrations.RunPython(rename_case_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="flow",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                name="unique_flow_name_ci",
                violation_error_message="A flow with this name already exists.",
            ),
        ),
    ]
