"""Right-sizing reports without a due day on contracts whose terms set none."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0007_statement_deliverables"),
    ]

    operations = [
        migrations.AlterField(
            model_name="rightsizingreport",
            name="due_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="提交截止时刻"),
        ),
        migrations.AlterField(
            model_name="rightsizingreport",
            name="due_date",
            field=models.DateField(blank=True, null=True, verbose_name="提交截止日期"),
        ),
        migrations.AddConstraint(
            model_name="rightsizingreport",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("due_at__isnull", True), ("due_date__isnull", True)),
                    models.Q(("due_at__isnull", False), ("due_date__isnull", False)),
                    _connector="OR",
                ),
                name="rightsizing_due_date_and_instant_together",
            ),
        ),
    ]
