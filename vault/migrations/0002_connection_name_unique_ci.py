import django.db.models.functions.text
from django.db import migrations, models


def rename_case_duplicates(apps, schema_editor):
    """Give a connection whose name differs from an older one's only by case a free "Name (2)", so the
    constraint can be added to a database that already holds both."""
    Connection = apps.get_model("vault", "Connection")
    rows = list(Connection.objects.order_by("created", "pk"))
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
        ("vault", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(rename_case_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="connection",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"),
                name="unique_connection_name_ci",
                violation_error_message="A connection with this name already exists.",
            ),
        ),
    ]
