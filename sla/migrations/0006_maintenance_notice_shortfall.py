"""Notice-duty records of planned maintenance announced later than the contract's notice period."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("govcloud", "0009_contract_terms"),
        ("sla", "0005_calendar_moved_to_core"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MaintenanceNoticeShortfall",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "service_year",
                    models.PositiveSmallIntegerField(
                        help_text="服务年度开始的年份，如 2025 表示 2025-06-20 起的服务年度。",
                        verbose_name="服务年度",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="创建时间"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                (
                    "required_hours",
                    models.PositiveSmallIntegerField(verbose_name="合同约定提前通知（小时）"),
                ),
                ("notified_at", models.DateTimeField(verbose_name="通知时间")),
                ("started_at", models.DateTimeField(verbose_name="维护开始")),
                (
                    "hours_given",
                    models.DecimalField(
                        decimal_places=1, max_digits=8, verbose_name="实际提前（小时）"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "待甲方知悉"), ("noted", "甲方已知悉")],
                        default="open",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("noted_at", models.DateTimeField(blank=True, null=True, verbose_name="知悉时间")),
                ("note", models.TextField(blank=True, verbose_name="甲方意见")),
            ],
            options={
                "verbose_name": "维护通知不足记录",
                "verbose_name_plural": "维护通知不足记录",
                "ordering": ["-started_at", "-id"],
            },
        ),
        migrations.AlterField(
            model_name="outage",
            name="notified_at",
            field=models.DateTimeField(
                blank=True,
                help_text="乙方报告计划内停机的时间。",
                null=True,
                verbose_name="维护通知时间",
            ),
        ),
        migrations.AddField(
            model_name="maintenancenoticeshortfall",
            name="contract",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="govcloud.contract",
                verbose_name="合同",
            ),
        ),
        migrations.AddField(
            model_name="maintenancenoticeshortfall",
            name="noted_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="知悉人",
            ),
        ),
        migrations.AddField(
            model_name="maintenancenoticeshortfall",
            name="outage",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notice_shortfall",
                to="sla.outage",
                verbose_name="计划内停机",
            ),
        ),
        migrations.AddIndex(
            model_name="maintenancenoticeshortfall",
            index=models.Index(
                fields=["contract", "service_year", "status"], name="sla_mainten_contrac_f8ff8a_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="maintenancenoticeshortfall",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "open"), ("noted_at__isnull", False), _connector="OR"
                ),
                name="notice_shortfall_noted_has_time",
            ),
        ),
    ]
