"""Utilization metrics pushed by the vendor and the monthly right-sizing advice built from them.

``UtilizationSample`` is one day's average utilization of one resource (the vendor's
multi-cloud platform pushes them, 附件2 §7: "资源利用率以多云管理平台数据为基础"). Each month the
task ``sla.tasks.compute_rightsizing_advice`` turns the previous month's samples into a
``RightsizingReport`` (the 《月度资源调整建议》 of a contract and month) with one
``RightsizingAdvice`` per VM-type resource. Under an SLA annex (``Contract.scorecard``) the
vendor submits the report by the 5th working day (BT-2025 附件2 7.3); a contract without one
sets no due day (JZ-2026 五.2: "及时"). Departments accept (→ a draft change ticket) or
decline (with a reason) each change.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govcloud.models import BusinessSystem, Contract, Organization

PCT_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


def _pct(label: str, *, null: bool = False) -> models.DecimalField:
    return models.DecimalField(
        label, max_digits=5, decimal_places=2, validators=PCT_VALIDATORS, null=null, blank=null
    )


def _pct_range(field: str) -> Q:
    return Q(**{f"{field}__gte": 0, f"{field}__lte": 100}) | Q(**{f"{field}__isnull": True})


class UtilizationSample(models.Model):
    """A resource's average utilization over one day (percentages 0–100)."""

    resource = models.ForeignKey(
        "billing.Resource",
        verbose_name=_("云资源"),
        on_delete=models.CASCADE,
        related_name="utilization_samples",
    )
    day = models.DateField(_("日期"))
    cpu_pct = _pct(_("CPU 使用率（%）"))
    mem_pct = _pct(_("内存使用率（%）"))
    disk_pct = _pct(_("磁盘使用率（%）"))
    disk_used_gb = models.DecimalField(
        _("磁盘已用（GB）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    pushed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("推送人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    pushed_at = models.DateTimeField(_("推送时间"), default=timezone.now)

    class Meta:
        verbose_name = _("资源使用率")
        verbose_name_plural = _("资源使用率")
        ordering = ["resource", "day"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "day"], name="utilization_once_per_day"),
            models.CheckConstraint(
                condition=_pct_range("cpu_pct") & _pct_range("mem_pct") & _pct_range("disk_pct"),
                name="utilization_pct_0_100",
            ),
            models.CheckConstraint(
                condition=Q(disk_used_gb__isnull=True) | Q(disk_used_gb__gte=0),
                name="utilization_disk_used_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["day", "resource"])]

    def __str__(self) -> str:
        return f"{self.resource_id} {self.day:%Y-%m-%d}"


class UtilizationMonth(models.Model):
    """One contract-month of pushed utilization data: what the parties confirm jointly.

    BT-2025 附件2 7.3 "按照经三方确认无误的多云管理平台数据": under the term
    ``joint_confirmations["utilization_data"]`` each month with data gets a joint confirmation
    (``govcloud.joint``), and the utilization rule and the right-sizing advice read confirmed
    months only. New data pushed into a month restarts its confirmation.
    """

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("月份"), help_text=_("当月 1 日。"))

    class Meta:
        verbose_name = _("月度资源使用率数据")
        verbose_name_plural = _("月度资源使用率数据")
        ordering = ["contract", "month"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "month"], name="utilization_month_once"),
            models.CheckConstraint(condition=Q(month__day=1), name="utilization_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.month:%Y-%m}"

    def get_absolute_url(self) -> str:
        return reverse("sla_utilization", args=[self.contract_id]) + f"?month={self.month:%Y-%m}"


class RightsizingPolicy(models.Model):
    """Per-contract bounds of the per-unit catalogs (核 / GB) the advice must stay within.

    Flavour catalogs (JZ's ecs.4c8g …) are bounded by their smallest and largest flavour; the
    per-unit catalogs of BT (ecs.general.vcpu / ecs.general.mem) state no bounds, so they are
    contract data here (defaults: at least 1 core and 1 GB, no upper bound).
    """

    contract = models.OneToOneField(
        Contract,
        verbose_name=_("合同"),
        on_delete=models.CASCADE,
        related_name="rightsizing_policy",
    )
    min_vcpus = models.PositiveIntegerField(_("最低 vCPU（核）"), default=1)
    max_vcpus = models.PositiveIntegerField(_("最高 vCPU（核）"), null=True, blank=True)
    min_memory_gb = models.PositiveIntegerField(_("最低内存（GB）"), default=1)
    max_memory_gb = models.PositiveIntegerField(_("最高内存（GB）"), null=True, blank=True)

    class Meta:
        verbose_name = _("资源调整规则")
        verbose_name_plural = _("资源调整规则")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_vcpus__gte=1) & Q(min_memory_gb__gte=1),
                name="rightsizing_min_positive",
            ),
            models.CheckConstraint(
                condition=(Q(max_vcpus__isnull=True) | Q(max_vcpus__gte=models.F("min_vcpus")))
                & (Q(max_memory_gb__isnull=True) | Q(max_memory_gb__gte=models.F("min_memory_gb"))),
                name="rightsizing_max_not_below_min",
                violation_error_message=_("最高配置不得低于最低配置。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} 资源调整规则"


class EmergencyPeriod(models.Model):
    """A period the bureau marks as an emergency (紧急状况、重大事件): no right-sizing applies."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="+"
    )
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    reason = models.TextField(_("事由"))
    systems = models.ManyToManyField(
        BusinessSystem,
        verbose_name=_("涉及的业务系统"),
        blank=True,
        related_name="+",
        help_text=_("留空表示合同下全部业务系统。"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("紧急保障期")
        verbose_name_plural = _("紧急保障期")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="emergency_end_not_before_start",
                violation_error_message=_("结束日期不得早于开始日期。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_date:%Y-%m-%d}～{self.end_date:%Y-%m-%d} {self.reason[:30]}"


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")


REPORT_TRANSITIONS: dict[str, frozenset[str]] = {
    ReportStatus.DRAFT: frozenset({ReportStatus.SUBMITTED}),
    ReportStatus.SUBMITTED: frozenset(),
}


class RightsizingReport(models.Model):
    """《月度资源调整建议》 of one contract and data month, due by the 5th working day after."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("数据月份"), help_text=_("统计的月份（该月1日）。"))
    service_year = models.PositiveSmallIntegerField(_("服务年度"))
    # None on a contract without an SLA annex: its text sets no due day for the advice
    # (JZ-2026 五.2 "及时…提供…优化建议或动态调整意见"), so it is never late.
    due_date = models.DateField(_("提交截止日期"), null=True, blank=True)
    due_at = models.DateTimeField(_("提交截止时刻"), null=True, blank=True)
    due_provisional = models.BooleanField(_("截止日期为暂定"), default=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    avg_cpu_pct = _pct(_("整体 CPU 平均使用率（%）"), null=True)
    avg_mem_pct = _pct(_("整体内存平均使用率（%）"), null=True)
    computed_at = models.DateTimeField(_("计算时间"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    marked_wrong = models.BooleanField(_("存在计算错误"), default=False)
    wrong_reason = models.TextField(_("错误说明"), blank=True)
    marked_wrong_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("认定人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    pdf = models.FileField(_("PDF"), upload_to="sla/advice/%Y/%m/", blank=True)
    pdf_rendered_at = models.DateTimeField(_("PDF 生成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("月度资源调整建议")
        verbose_name_plural = _("月度资源调整建议")
        ordering = ["contract", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "month"], name="rightsizing_report_once"),
            models.CheckConstraint(
                condition=Q(marked_wrong=False) | ~Q(wrong_reason=""),
                name="rightsizing_wrong_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(due_date__isnull=True, due_at__isnull=True)
                | Q(due_date__isnull=False, due_at__isnull=False),
                name="rightsizing_due_date_and_instant_together",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.month:%Y-%m} 资源调整建议"

    def is_late(self, now=None) -> bool:
        if self.due_at is None:
            return False
        if self.submitted_at is not None:
            return self.submitted_at >= self.due_at
        return (now or timezone.now()) >= self.due_at


class AdviceDigest(models.Model):
    """The one e-mail a department gets in a calendar month about its advice to answer.

    Each submitted report used to e-mail every department it concerns, so a backlog of months
    (or several contracts) meant one e-mail per report. Now advice awaiting a department joins
    that department's digest of the month (Asia/Shanghai) it was first announced in: at most one
    per department and month; advice submitted after that month's digest went out joins the next
    month's (the daily task sends it on the first day).
    """

    department = models.ForeignKey(
        Organization, verbose_name=_("使用单位"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("月份"), help_text=_("发送月份（该月1日）。"))
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    advice_count = models.PositiveIntegerField(_("待确认建议数"), default=0)

    class Meta:
        verbose_name = _("资源调整建议汇总通知")
        verbose_name_plural = _("资源调整建议汇总通知")
        ordering = ["-month", "department"]
        constraints = [
            models.UniqueConstraint(fields=["department", "month"], name="advice_digest_once"),
            models.CheckConstraint(condition=Q(month__day=1), name="advice_digest_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.month:%Y-%m} 资源调整建议汇总"


class AdviceAction(models.TextChoices):
    CHANGE = "change", _("建议调整")
    KEEP = "keep", _("保持不变")
    EXEMPT = "exempt", _("不适用（豁免）")


class AdviceStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待使用单位确认")
    NOTED = "noted", _("无需调整")
    ACCEPTED = "accepted", _("已接受")
    DECLINED = "declined", _("已拒绝")


ADVICE_TRANSITIONS: dict[str, frozenset[str]] = {
    AdviceStatus.DRAFT: frozenset({AdviceStatus.SUBMITTED, AdviceStatus.NOTED}),
    AdviceStatus.SUBMITTED: frozenset({AdviceStatus.ACCEPTED, AdviceStatus.DECLINED}),
    AdviceStatus.NOTED: frozenset(),
    AdviceStatus.ACCEPTED: frozenset(),
    AdviceStatus.DECLINED: frozenset(),
}


class ResourceClass(models.TextChoices):
    FLAVOUR = "flavour", _("云主机规格（核+内存）")
    VCPU = "vcpu", _("vCPU（按核）")
    MEMORY = "memory", _("内存（按GB）")
    DISK = "disk", _("块存储")


class RightsizingAdvice(models.Model):
    """The advice for one resource in one month: keep, change (to what) or exempt (why)."""

    report = models.ForeignKey(
        RightsizingReport,
        verbose_name=_("调整建议"),
        on_delete=models.CASCADE,
        related_name="advice",
    )
    resource = models.ForeignKey(
        "billing.Resource", verbose_name=_("云资源"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        Organization, verbose_name=_("使用单位"), on_delete=models.PROTECT, related_name="+"
    )
    system = models.ForeignKey(
        BusinessSystem, verbose_name=_("业务系统"), on_delete=models.PROTECT, related_name="+"
    )
    resource_class = models.CharField(_("资源类型"), max_length=10, choices=ResourceClass.choices)
    current_item = models.ForeignKey(
        "billing.CatalogItem",
        verbose_name=_("当前规格"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    current_quantity = models.PositiveIntegerField(_("当前数量"))
    advised_item = models.ForeignKey(
        "billing.CatalogItem",
        verbose_name=_("建议规格"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    advised_quantity = models.PositiveIntegerField(_("建议数量"), null=True, blank=True)
    action = models.CharField(_("建议"), max_length=10, choices=AdviceAction.choices)
    explanation = models.TextField(_("依据"), blank=True)
    sample_days = models.PositiveSmallIntegerField(_("采样天数"), default=0)
    cpu_avg = _pct(_("CPU 平均使用率（%）"), null=True)
    mem_avg = _pct(_("内存平均使用率（%）"), null=True)
    disk_avg = _pct(_("磁盘平均使用率（%）"), null=True)
    disk_used_avg_gb = models.DecimalField(
        _("磁盘平均已用（GB）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=AdviceStatus.choices, default=AdviceStatus.DRAFT
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    decline_reason = models.TextField(_("拒绝理由"), blank=True)
    change_request = models.ForeignKey(
        "requests_app.ResourceRequest",
        verbose_name=_("变更工单"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    digest = models.ForeignKey(
        AdviceDigest,
        verbose_name=_("汇总通知"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="advice",
        help_text=_("通知使用单位的月度汇总邮件（未通知的为空）。"),
    )

    class Meta:
        verbose_name = _("资源调整建议明细")
        verbose_name_plural = _("资源调整建议明细")
        ordering = ["report", "department", "system", "resource"]
        constraints = [
            models.UniqueConstraint(fields=["report", "resource"], name="advice_once_per_resource"),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="advice_decline_has_reason",
                violation_error_message=_("拒绝调整建议须填写理由。"),
            ),
            models.CheckConstraint(
                condition=~Q(action="change")
                | (Q(advised_item__isnull=False) & Q(advised_quantity__isnull=False)),
                name="advice_change_has_target",
            ),
        ]
        indexes = [models.Index(fields=["department", "status"])]

    def __str__(self) -> str:
        return f"{self.report} · #{self.resource_id}"

    @property
    def current_label(self) -> str:
        return _config_label(self.current_item, self.current_quantity)

    @property
    def advised_label(self) -> str:
        if self.advised_item is None or self.advised_quantity is None:
            return ""
        return _config_label(self.advised_item, self.advised_quantity)


def _config_label(item, quantity: int) -> str:
    return f"{item.code} × {quantity}{item.unit}"
