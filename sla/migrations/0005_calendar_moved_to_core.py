"""The official calendar now lives in the core app: drop it from sla's state only.

``govcloud.0004_official_calendar`` has renamed (or created) the tables.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0004_utilization_and_advice"),
        ("govcloud", "0004_official_calendar"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="CalendarDay"),
                migrations.DeleteModel(name="CalendarYear"),
            ],
            database_operations=[],
        ),
    ]
