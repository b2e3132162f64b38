"""Turn the ticket ↔ resource-history link around: the request line points at the change.

Until now ``billing.ResourceChange.request`` pointed up at the ticket (billing depending on
requests_app). The line that delivered a change now holds it; the data is copied here, and
``billing.0007`` drops the old column afterwards (``run_before`` keeps that order without
billing's migrations depending on this app).
"""

import django.db.models.deletion
from django.db import migrations, models


def copy_links(apps, schema_editor):
    db = schema_editor.connection.alias
    ResourceChange = apps.get_model("billing", "ResourceChange")
    RequestLine = apps.get_model("requests_app", "RequestLine")
    changes = ResourceChange.objects.using(db).filter(request__isnull=False).order_by("id")
    for change in changes.iterator():
        line = (
            RequestLine.objects.using(db)
            .filter(
                request_id=change.request_id,
                delivered_resource_id=change.resource_id,
                resource_change__isnull=True,
            )
            .order_by("id")
            .first()
        )
        if line is not None:
            line.resource_change_id = change.pk
            line.save(update_fields=["resource_change"])


def copy_links_back(apps, schema_editor):
    db = schema_editor.connection.alias
    ResourceChange = apps.get_model("billing", "ResourceChange")
    RequestLine = apps.get_model("requests_app", "RequestLine")
    lines = RequestLine.objects.using(db).filter(resource_change__isnull=False)
    for line in lines.iterator():
        ResourceChange.objects.using(db).filter(pk=line.resource_change_id).update(
            request_id=line.request_id
        )


class Migration(migrations.Migration):
    # Not one transaction: on PostgreSQL the copy's row updates leave deferred foreign-key
    # checks pending on billing_resourcechange, and dropping the column that references it in
    # the same transaction is refused ("pending trigger events"). Each step commits instead.
    atomic = False

    dependencies = [
        ("billing", "0006_statement_documents"),
        ("requests_app", "0002_line_previous_configuration"),
    ]
    run_before = [("billing", "0007_resource_change_without_ticket")]

    operations = [
        migrations.AddField(
            model_name="requestline",
            name="resource_change",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="request_line",
                to="billing.resourcechange",
                verbose_name="资源变更记录",
            ),
        ),
        migrations.RunPython(copy_links, copy_links_back),
    ]
