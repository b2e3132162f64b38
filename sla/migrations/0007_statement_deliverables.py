"""Monthly statements recorded as deliverables (late / found wrong), where the terms say so."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0008_reference_contract_terms"),
        ("sla", "0006_maintenance_notice_shortfall"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="deliverable",
            name="deliverable_monthly_report_has_month",
        ),
        migrations.AddField(
            model_name="deliverable",
            name="found_wrong_at",
            field=models.DateTimeField(
                blank=True,
                help_text="统计表内容存在错误，按交付物不合格处理（每月一次）。",
                null=True,
                verbose_name="认定内容错误时间",
            ),
        ),
        migrations.AddField(
            model_name="deliverable",
            name="found_wrong_reason",
            field=models.TextField(blank=True, verbose_name="错误说明"),
        ),
        migrations.AddField(
            model_name="deliverable",
            name="statement",
            field=models.ForeignKey(
                blank=True,
                help_text="统计表交付物：最近一次提交的版本。",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="billing.statement",
                verbose_name="月度服务资源统计表",
            ),
        ),
        migrations.AlterField(
            model_name="deliverable",
            name="kind",
            field=models.CharField(
                choices=[
                    ("monthly_report", "政务云运维服务月报"),
                    ("inspection", "政务云巡检记录报告"),
                    ("quarterly", "季度报告"),
                    ("sla_document", "政务云运维服务SLA"),
                    ("rules", "政务云管理制度和规范"),
                    ("deployment", "资源部署方案、实施报告及测试报告"),
                    ("other", "甲方要求的其他项目材料"),
                    ("statement", "月度服务资源统计表"),
                ],
                max_length=20,
                verbose_name="类型",
            ),
        ),
        migrations.AddConstraint(
            model_name="deliverable",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind__in", ["monthly_report", "statement"]), _negated=True),
                    ("period_month__isnull", False),
                    _connector="OR",
                ),
                name="deliverable_monthly_report_has_month",
            ),
        ),
    ]
