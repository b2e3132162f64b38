"""Formerly loaded the official calendar into sla's tables; the calendar is the core's now.

``govcloud.0004`` renames the tables this filled on older databases, and
``govcloud.0005_load_official_calendar`` fills them on new ones.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_calendar")]

    operations = []
