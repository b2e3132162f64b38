"""Drop ``ResourceChange.request``: the ticket's line now points at the change.

``requests_app.0003_line_resource_change`` copies the links first (it declares ``run_before``
this migration), so billing's migrations need no dependency on the app above it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_statement_documents")]

    operations = [migrations.RemoveField(model_name="resourcechange", name="request")]
