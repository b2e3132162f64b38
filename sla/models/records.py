"""The events the SLA scorecard reads (附件2 of the Baotou contract), per contract and service year.

Each record belongs to one contract and one service year (``service_year`` = the calendar year
the service year starts in, see ``sla.periods``). Only ``sla.services`` write these tables;
each model has its status transition table next to it, checked by
``govcloud.workflow.check_transition``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govcloud.models import BusinessSystem, Contract, Organization, PartyRole
from sla.rules import AREAS, SECURITY_MECHANISM_ITEMS

MINUTE = Decimal("60")


class ContractYearRecord(models.Model):
    """Fields every SLA record has: its contract and service year."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="+"
    )
    service_year = models.PositiveSmallIntegerField(
        _("服务年度"), help_text=_("服务年度开始的年份，如 2025 表示 2025-06-20 起的服务年度。")
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


def _user_fk(label: str, *, null: bool = False) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=label,
        on_delete=models.PROTECT,
        null=null,
        blank=null,
        related_name="+",
    )


# ---------------------------------------------------------------- 服务中断 outages


class OutageScope(models.TextChoices):
    PLATFORM = "platform", _("整个政务云平台")
    SYSTEMS = "systems", _("部分业务系统")


class OutageStatus(models.TextChoices):
    REPORTED = "reported", _("待确认")
    CONFIRMED = "confirmed", _("已确认")


OUTAGE_TRANSITIONS: dict[str, frozenset[str]] = {
    OutageStatus.REPORTED: frozenset({OutageStatus.CONFIRMED}),
    OutageStatus.CONFIRMED: frozenset(),
}


class Outage(ContractYearRecord):
    """A service interruption (服务中断) reported by the vendor, confirmed by bureau and supervisor.

    Planned maintenance (计划内停机) is announced by the vendor in advance. What makes it
    "planned" is the contract's maintenance term, read from the contract (DESIGN §4a):

    * ``maintenance_approvers`` (BT-2025 附件2 1.1(1): bureau and supervisor): every listed
      party approved it before it started — whatever the notice;
    * ``maintenance_notice_hours`` (JZ-2026 五.5: 72): it was announced at least that long
      before it started. A shorter notice is a notice-duty record for the bureau
      (``MaintenanceNoticeShortfall``).

    A contract with neither term treats any announced maintenance as planned.
    """

    title = models.CharField(_("标题"), max_length=200)
    started_at = models.DateTimeField(_("中断开始"))
    ended_at = models.DateTimeField(_("恢复时间"))
    scope = models.CharField(
        _("影响范围"), max_length=10, choices=OutageScope.choices, default=OutageScope.SYSTEMS
    )
    systems = models.ManyToManyField(
        BusinessSystem, verbose_name=_("受影响的业务系统"), blank=True, related_name="+"
    )
    cause = models.TextField(_("原因"))
    planned = models.BooleanField(_("计划内停机（维护）"), default=False)
    notified_at = models.DateTimeField(
        _("维护通知时间"), null=True, blank=True, help_text=_("乙方报告计划内停机的时间。")
    )
    maintenance_approved_at = models.DateTimeField(
        _("维护获批时间"), null=True, blank=True, help_text=_("最后一个审批方同意的时间。")
    )
    backup_restore_failed = models.BooleanField(
        _("备份恢复未起作用"), default=False, help_text=_("灾难备份考核：中断超过2小时的扣分。")
    )
    vendor_caused = models.BooleanField(
        _("乙方原因"), null=True, blank=True, help_text=_("确认后的认定结果；空表示尚未认定。")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=OutageStatus.choices, default=OutageStatus.REPORTED
    )
    reported_by = _user_fk(_("报告人"))
    confirmed_at = models.DateTimeField(_("确认完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("服务中断")
        verbose_name_plural = _("服务中断")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gt=models.F("started_at")),
                name="outage_end_after_start",
                violation_error_message=_("恢复时间必须晚于中断开始时间。"),
            ),
            models.CheckConstraint(
                condition=Q(planned=True) | Q(notified_at__isnull=True),
                name="outage_notice_only_if_planned",
            ),
        ]
        indexes = [models.Index(fields=["contract", "service_year", "status"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def minutes(self) -> Decimal:
        """Duration in minutes (fractions kept): the SLA sums seconds of interruption."""
        seconds = Decimal(int((self.ended_at - self.started_at).total_seconds()))
        return seconds / MINUTE

    @property
    def notice_hours_given(self) -> Decimal | None:
        """How many hours before the start the maintenance was announced (None: not planned)."""
        if not self.planned or self.notified_at is None:
            return None
        seconds = Decimal(int((self.started_at - self.notified_at).total_seconds()))
        return seconds / Decimal(3600)

    @property
    def notice_in_time(self) -> bool:
        """Announced at least the contract's notice period ahead (always, where it sets none)."""
        if not self.planned or self.notified_at is None:
            return False
        hours = self.contract.maintenance_notice_hours
        if hours is None:
            return True
        return self.notified_at <= self.started_at - timedelta(hours=hours)

    @property
    def maintenance_approved(self) -> bool:
        """Every party the contract names approved it before it began (none named: True)."""
        if not self.planned:
            return False
        if not self.contract.maintenance_approvers:
            return True
        return (
            self.maintenance_approved_at is not None
            and self.maintenance_approved_at <= self.started_at
        )

    @property
    def excluded_as_maintenance(self) -> bool:
        """Planned maintenance under the contract's terms: not an interruption."""
        return self.planned and self.maintenance_approved and self.notice_in_time

    @property
    def counts_for_availability(self) -> bool:
        return (
            self.status == OutageStatus.CONFIRMED
            and bool(self.vendor_caused)
            and not self.excluded_as_maintenance
        )


class SignoffStage(models.TextChoices):
    APPROVE_MAINTENANCE = "approve_maintenance", _("同意计划内停机")
    CONFIRM = "confirm", _("确认中断记录")


class OutageSignoff(models.Model):
    """One party's approval of a maintenance window, or its confirmation of an outage."""

    outage = models.ForeignKey(
        Outage, verbose_name=_("服务中断"), on_delete=models.CASCADE, related_name="signoffs"
    )
    stage = models.CharField(_("环节"), max_length=20, choices=SignoffStage.choices)
    party_role = models.CharField(_("合同角色"), max_length=20, choices=PartyRole.choices)
    user = _user_fk(_("操作人"))
    at = models.DateTimeField(_("时间"), default=timezone.now)
    vendor_caused = models.BooleanField(_("认定为乙方原因"), null=True, blank=True)
    comment = models.TextField(_("意见"), blank=True)

    class Meta:
        verbose_name = _("服务中断确认")
        verbose_name_plural = _("服务中断确认")
        ordering = ["outage", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["outage", "stage", "party_role"], name="outage_signoff_once_per_party"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outage_id} {self.get_stage_display()} {self.get_party_role_display()}"


# ---------------------------------------------------------------- 维护通知不足 notice duty


class ShortfallStatus(models.TextChoices):
    OPEN = "open", _("待甲方知悉")
    NOTED = "noted", _("甲方已知悉")


SHORTFALL_TRANSITIONS: dict[str, frozenset[str]] = {
    ShortfallStatus.OPEN: frozenset({ShortfallStatus.NOTED}),
    ShortfallStatus.NOTED: frozenset(),
}


class MaintenanceNoticeShortfall(ContractYearRecord):
    """A planned maintenance announced later than the contract's notice period allows.

    JZ-2026 五.5: "应提前 72 小时通知甲方联系人". The platform flags it to the bureau (this row
    and an e-mail); it is a record of the vendor's notice duty, not an SLA deduction — points
    only ever come from a contract's scorecard.
    """

    outage = models.OneToOneField(
        Outage,
        verbose_name=_("计划内停机"),
        on_delete=models.CASCADE,
        related_name="notice_shortfall",
    )
    required_hours = models.PositiveSmallIntegerField(_("合同约定提前通知（小时）"))
    notified_at = models.DateTimeField(_("通知时间"))
    started_at = models.DateTimeField(_("维护开始"))
    hours_given = models.DecimalField(_("实际提前（小时）"), max_digits=8, decimal_places=1)
    status = models.CharField(
        _("状态"), max_length=10, choices=ShortfallStatus.choices, default=ShortfallStatus.OPEN
    )
    noted_by = _user_fk(_("知悉人"), null=True)
    noted_at = models.DateTimeField(_("知悉时间"), null=True, blank=True)
    note = models.TextField(_("甲方意见"), blank=True)

    class Meta:
        verbose_name = _("维护通知不足记录")
        verbose_name_plural = _("维护通知不足记录")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | Q(noted_at__isnull=False),
                name="notice_shortfall_noted_has_time",
            ),
        ]
        indexes = [models.Index(fields=["contract", "service_year", "status"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.outage.title}"


# ---------------------------------------------------------------- 安全责任事故 incidents


class IncidentLevel(models.IntegerChoices):
    I = 1, _("Ⅰ级（特别重大）")  # noqa: E741 (the level's name)
    II = 2, _("Ⅱ级（重大）")
    III = 3, _("Ⅲ级（较大）")
    IV = 4, _("Ⅳ级（一般）")


class IncidentStatus(models.TextChoices):
    REPORTED = "reported", _("待认定")
    ASSESSED = "assessed", _("已认定")


INCIDENT_TRANSITIONS: dict[str, frozenset[str]] = {
    IncidentStatus.REPORTED: frozenset({IncidentStatus.ASSESSED}),
    IncidentStatus.ASSESSED: frozenset(),
}


class SecurityIncident(ContractYearRecord):
    """An information-security incident (信息安全责任事故), levels Ⅰ (worst) … Ⅳ."""

    level = models.PositiveSmallIntegerField(_("事故等级"), choices=IncidentLevel.choices)
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("事件经过"))
    affected_systems = models.TextField(_("受影响的系统"), blank=True)
    occurred_at = models.DateTimeField(_("发现时间"))
    reported_at = models.DateTimeField(_("通报时间"), default=timezone.now)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    evidence = models.FileField(_("事件响应报告"), upload_to="sla/incidents/%Y/%m/", blank=True)
    reported_by = _user_fk(_("报告人"))
    status = models.CharField(
        _("状态"), max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.REPORTED
    )
    fully_reported = models.BooleanField(
        _("已如实全面报告"), null=True, blank=True, help_text=_("由甲方或监理认定。")
    )
    vendor_caused = models.BooleanField(_("乙方责任"), default=True)
    assessment_comment = models.TextField(_("认定意见"), blank=True)
    assessed_by = _user_fk(_("认定人"), null=True)
    assessed_at = models.DateTimeField(_("认定时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("安全事件")
        verbose_name_plural = _("安全事件")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=4), name="incident_level_1_to_4"
            ),
            models.CheckConstraint(
                condition=Q(status="reported") | Q(fully_reported__isnull=False),
                name="incident_assessed_has_verdict",
            ),
        ]
        indexes = [models.Index(fields=["contract", "service_year", "status"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_level_display()} {self.title}"


# ---------------------------------------------------------------- 安全机制 checklist

# Built from the rules so the checklist and the scorer can never disagree on the five items.
SecurityItem = models.TextChoices(
    "SecurityItem",
    {code.upper(): (code, label) for code, label in SECURITY_MECHANISM_ITEMS.items()},
)


class ChecklistStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待审核")
    ACCEPTED = "accepted", _("已通过")
    REJECTED = "rejected", _("未通过")
    WAIVED = "waived", _("非乙方责任（免于扣分）")


CHECKLIST_TRANSITIONS: dict[str, frozenset[str]] = {
    ChecklistStatus.SUBMITTED: frozenset(
        {ChecklistStatus.ACCEPTED, ChecklistStatus.REJECTED, ChecklistStatus.WAIVED}
    ),
    ChecklistStatus.REJECTED: frozenset({ChecklistStatus.SUBMITTED, ChecklistStatus.WAIVED}),
    ChecklistStatus.ACCEPTED: frozenset(),
    ChecklistStatus.WAIVED: frozenset(),
}


class SecurityMechanismItem(ContractYearRecord):
    """One of the five security-mechanism items of a service year, with its evidence."""

    item = models.CharField(_("考核项"), max_length=20, choices=SecurityItem.choices)
    status = models.CharField(_("状态"), max_length=10, choices=ChecklistStatus.choices)
    evidence = models.FileField(_("证明材料"), upload_to="sla/security/%Y/%m/", blank=True)
    note = models.TextField(_("说明"), blank=True)
    submitted_by = _user_fk(_("提交人"), null=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    reviewed_by = _user_fk(_("审核人"), null=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_comment = models.TextField(_("审核意见"), blank=True)

    class Meta:
        verbose_name = _("安全机制考核项")
        verbose_name_plural = _("安全机制考核项")
        ordering = ["contract", "service_year", "item"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "service_year", "item"], name="security_item_once_per_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_year} {self.get_item_display()}"

    @property
    def fulfilled(self) -> bool:
        return self.status in (ChecklistStatus.ACCEPTED, ChecklistStatus.WAIVED)


# ---------------------------------------------------------------- 培训 training


class PlanStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")


PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    PlanStatus.SUBMITTED: frozenset({PlanStatus.APPROVED, PlanStatus.REJECTED}),
    PlanStatus.REJECTED: frozenset({PlanStatus.SUBMITTED}),
    PlanStatus.APPROVED: frozenset(),
}


class TrainingPlan(ContractYearRecord):
    """The vendor's 《培训计划》 of a service year, reviewed by the bureau."""

    description = models.TextField(_("计划内容"))
    document = models.FileField(_("培训计划文件"), upload_to="sla/training/%Y/%m/", blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=PlanStatus.choices)
    submitted_by = _user_fk(_("提交人"))
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    reviewed_by = _user_fk(_("审核人"), null=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_comment = models.TextField(_("审核意见"), blank=True)

    class Meta:
        verbose_name = _("培训计划")
        verbose_name_plural = _("培训计划")
        ordering = ["contract", "-service_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "service_year"], name="training_plan_once_per_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_year} 培训计划"


class SessionStatus(models.TextChoices):
    RECORDED = "recorded", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("不予认可")


SESSION_TRANSITIONS: dict[str, frozenset[str]] = {
    SessionStatus.RECORDED: frozenset({SessionStatus.CONFIRMED, SessionStatus.REJECTED}),
    SessionStatus.CONFIRMED: frozenset(),
    SessionStatus.REJECTED: frozenset(),
}


class TrainingSession(ContractYearRecord):
    """One training held for the bureau (and its departments); counts once the bureau confirms."""

    held_on = models.DateField(_("培训日期"))
    topic = models.CharField(_("培训主题"), max_length=200)
    attendees = models.PositiveIntegerField(_("参训人数"), validators=[MinValueValidator(1)])
    materials = models.FileField(_("培训材料"), upload_to="sla/training/%Y/%m/", blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=SessionStatus.choices, default=SessionStatus.RECORDED
    )
    recorded_by = _user_fk(_("记录人"))
    reviewed_by = _user_fk(_("确认人"), null=True)
    reviewed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    review_comment = models.TextField(_("确认意见"), blank=True)

    class Meta:
        verbose_name = _("培训记录")
        verbose_name_plural = _("培训记录")
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(attendees__gte=1), name="training_attendees_pos"),
        ]
        indexes = [models.Index(fields=["contract", "service_year", "status"])]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.topic}"


# ---------------------------------------------------------------- 交付物 deliverables


class DeliverableKind(models.TextChoices):
    MONTHLY_REPORT = "monthly_report", _("政务云运维服务月报")
    INSPECTION = "inspection", _("政务云巡检记录报告")
    QUARTERLY = "quarterly", _("季度报告")
    SLA_DOCUMENT = "sla_document", _("政务云运维服务SLA")
    RULES = "rules", _("政务云管理制度和规范")
    DEPLOYMENT = "deployment", _("资源部署方案、实施报告及测试报告")
    OTHER = "other", _("甲方要求的其他项目材料")
    # Recorded from billing's statement signals where the contract's terms make the monthly
    # statement a deliverable (``statement_is_deliverable``, BT-2025 附件3 二(二)); never created
    # or reviewed by hand: the statement itself is confirmed in billing.
    STATEMENT = "statement", _("月度服务资源统计表")
    # The exit (sla.services.exit): the handover plan, due ``handover_plan_days_before_end``
    # days before the service period ends (BT-2025 2.2 "制定详细的交接计划并提前30天提交给甲方
    # 审核"); the handover report after the handover ("交接完成后…提交详细的交接报告"); the
    # register of staff with access and their undertakings (BT-2025 附件5 2(6)).
    HANDOVER_PLAN = "handover_plan", _("服务交接计划")
    HANDOVER_REPORT = "handover_report", _("服务交接报告")
    STAFF_REGISTER = "staff_register", _("接触甲方信息人员名单")


class DeliverableStatus(models.TextChoices):
    PENDING = "pending", _("待提交")
    SUBMITTED = "submitted", _("待审核")
    ACCEPTED = "accepted", _("已通过")
    REJECTED = "rejected", _("被退回")


DELIVERABLE_TRANSITIONS: dict[str, frozenset[str]] = {
    DeliverableStatus.PENDING: frozenset({DeliverableStatus.SUBMITTED}),
    DeliverableStatus.SUBMITTED: frozenset(
        {DeliverableStatus.ACCEPTED, DeliverableStatus.REJECTED}
    ),
    DeliverableStatus.REJECTED: frozenset({DeliverableStatus.SUBMITTED}),
    DeliverableStatus.ACCEPTED: frozenset(),
}


class Deliverable(ContractYearRecord):
    """A document the vendor owes (交付成果), with its due date and its submissions.

    The monthly operations report of month *M* is due by the 5th working day of *M+1*; other
    kinds carry an explicit due date. Late = first submitted after the due date's end (or not
    at all once it has passed); every rejected submission counts on its own.
    """

    kind = models.CharField(_("类型"), max_length=20, choices=DeliverableKind.choices)
    title = models.CharField(_("名称"), max_length=200)
    period_month = models.DateField(
        _("所属月份"), null=True, blank=True, help_text=_("月报：报告的月份（该月1日）。")
    )
    due_date = models.DateField(_("截止日期"))
    due_at = models.DateTimeField(_("截止时刻"), help_text=_("截止日期次日 00:00（北京时间）。"))
    due_provisional = models.BooleanField(
        _("截止日期为暂定"), default=False, help_text=_("所需年度的法定节假日尚未载入。")
    )
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=DeliverableStatus.choices,
        default=DeliverableStatus.PENDING,
    )
    created_by = _user_fk(_("登记人"))
    first_submitted_at = models.DateTimeField(_("首次提交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("通过时间"), null=True, blank=True)
    statement = models.ForeignKey(
        "billing.Statement",
        verbose_name=_("月度服务资源统计表"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("统计表交付物：最近一次提交的版本。"),
    )
    found_wrong_at = models.DateTimeField(
        _("认定内容错误时间"),
        null=True,
        blank=True,
        help_text=_("统计表内容存在错误，按交付物不合格处理（每月一次）。"),
    )
    found_wrong_reason = models.TextField(_("错误说明"), blank=True)

    class Meta:
        verbose_name = _("交付物")
        verbose_name_plural = _("交付物")
        ordering = ["-due_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "kind", "period_month"],
                condition=Q(period_month__isnull=False),
                name="deliverable_once_per_kind_and_month",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["monthly_report", "statement"])
                | Q(period_month__isnull=False),
                name="deliverable_monthly_report_has_month",
            ),
        ]
        indexes = [models.Index(fields=["contract", "service_year", "status"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def is_late(self, now: datetime | None = None) -> bool:
        if self.first_submitted_at is not None:
            return self.first_submitted_at >= self.due_at
        return (now or timezone.now()) >= self.due_at


class Decision(models.TextChoices):
    ACCEPTED = "accepted", _("通过")
    REJECTED = "rejected", _("退回")


class DeliverableSubmission(models.Model):
    """One upload of a deliverable and the bureau's decision on it."""

    deliverable = models.ForeignKey(
        Deliverable, verbose_name=_("交付物"), on_delete=models.CASCADE, related_name="submissions"
    )
    number = models.PositiveSmallIntegerField(_("第几次提交"))
    document = models.FileField(_("文件"), upload_to="sla/deliverables/%Y/%m/")
    note = models.TextField(_("说明"), blank=True)
    submitted_by = _user_fk(_("提交人"))
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    decision = models.CharField(_("审核结果"), max_length=10, choices=Decision.choices, blank=True)
    reason = models.TextField(_("审核意见"), blank=True)
    reviewed_by = _user_fk(_("审核人"), null=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("交付物提交记录")
        verbose_name_plural = _("交付物提交记录")
        ordering = ["deliverable", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["deliverable", "number"], name="deliverable_submission_number_unique"
            ),
            models.CheckConstraint(
                condition=~Q(decision="rejected") | ~Q(reason=""),
                name="deliverable_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deliverable_id} 第{self.number}次提交"


# ---------------------------------------------------------------- 用户满意度 surveys


class SurveyStatus(models.TextChoices):
    OPEN = "open", _("进行中")
    CLOSED = "closed", _("已结束")


SURVEY_TRANSITIONS: dict[str, frozenset[str]] = {
    SurveyStatus.OPEN: frozenset({SurveyStatus.CLOSED}),
    SurveyStatus.CLOSED: frozenset(),
}


class SatisfactionSurvey(ContractYearRecord):
    """The bureau's (or auditor's) user-satisfaction survey of a service year."""

    title = models.CharField(_("标题"), max_length=200)
    instructions = models.TextField(_("填写说明"), blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.OPEN
    )
    opened_by = _user_fk(_("发起人"))
    closes_on = models.DateField(_("截止日期"), null=True, blank=True)
    closed_by = _user_fk(_("结束人"), null=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    eligible_count = models.PositiveIntegerField(
        _("应参与人数"), null=True, blank=True, help_text=_("结束时的使用单位用户数。")
    )

    class Meta:
        verbose_name = _("满意度调查")
        verbose_name_plural = _("满意度调查")
        ordering = ["contract", "-service_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "service_year"], name="survey_once_per_year"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SurveyResponse(models.Model):
    """One department user's answer: the questionnaire's total score (0–100) and a comment."""

    survey = models.ForeignKey(
        SatisfactionSurvey,
        verbose_name=_("满意度调查"),
        on_delete=models.CASCADE,
        related_name="responses",
    )
    respondent = _user_fk(_("答卷人"))
    department = models.ForeignKey(
        Organization, verbose_name=_("使用单位"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.PositiveSmallIntegerField(
        _("满意度评分"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    comment = models.TextField(_("意见建议"), blank=True)
    answered_at = models.DateTimeField(_("答卷时间"), default=timezone.now)

    class Meta:
        verbose_name = _("满意度答卷")
        verbose_name_plural = _("满意度答卷")
        ordering = ["survey", "answered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "respondent"], name="survey_one_answer_per_user"
            ),
            models.CheckConstraint(condition=Q(score__lte=100), name="survey_score_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} · {self.respondent_id} · {self.score}"


# ---------------------------------------------------------------- 整改通知 improvement notices


class NoticeStatus(models.TextChoices):
    ISSUED = "issued", _("待整改")
    FIXED = "fixed", _("已整改待确认")
    CONFIRMED = "confirmed", _("整改已确认")


NOTICE_TRANSITIONS: dict[str, frozenset[str]] = {
    NoticeStatus.ISSUED: frozenset({NoticeStatus.FIXED}),
    NoticeStatus.FIXED: frozenset({NoticeStatus.CONFIRMED, NoticeStatus.ISSUED}),
    NoticeStatus.CONFIRMED: frozenset(),
}


class ImprovementNotice(ContractYearRecord):
    """整改通知: the vendor must fix the issue and report within 10 working days."""

    title = models.CharField(_("问题"), max_length=200)
    description = models.TextField(_("问题描述及整改要求"))
    issuer_role = models.CharField(_("发出方"), max_length=20, choices=PartyRole.choices)
    issued_by = _user_fk(_("发出人"))
    issued_at = models.DateTimeField(_("发出时间"), default=timezone.now)
    due_at = models.DateTimeField(_("整改期限"))
    due_provisional = models.BooleanField(_("期限为暂定"), default=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.ISSUED
    )
    fix_report = models.TextField(_("整改报告"), blank=True)
    fix_document = models.FileField(_("整改报告文件"), upload_to="sla/notices/%Y/%m/", blank=True)
    fixed_by = _user_fk(_("整改人"), null=True)
    fixed_at = models.DateTimeField(_("整改提交时间"), null=True, blank=True)
    confirmed_by = _user_fk(_("确认人"), null=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    last_comment = models.TextField(_("最近确认意见"), blank=True)

    class Meta:
        verbose_name = _("整改通知")
        verbose_name_plural = _("整改通知")
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["contract", "service_year", "status"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def is_unfixed_in_time(self, now: datetime | None = None) -> bool:
        """Not fixed within the deadline: a late fix report, or none by now past the deadline."""
        if self.fixed_at is not None:
            return self.fixed_at >= self.due_at
        return (now or timezone.now()) >= self.due_at


# ---------------------------------------------------------------- 罚则 penalties


class PenaltyStatus(models.TextChoices):
    RECORDED = "recorded", _("待乙方确认")
    ACKNOWLEDGED = "acknowledged", _("乙方已签认")
    WITHDRAWN = "withdrawn", _("已撤销")


PENALTY_TRANSITIONS: dict[str, frozenset[str]] = {
    PenaltyStatus.RECORDED: frozenset({PenaltyStatus.ACKNOWLEDGED, PenaltyStatus.WITHDRAWN}),
    PenaltyStatus.ACKNOWLEDGED: frozenset(),
    PenaltyStatus.WITHDRAWN: frozenset(),
}

AreaChoice = models.TextChoices(
    "AreaChoice", {code.upper(): (code, label) for code, (label, _points) in AREAS.items()}
)


class Penalty(ContractYearRecord):
    """罚则记录 kept by the supervisor; it takes effect once the vendor acknowledges it."""

    occurred_on = models.DateField(_("发生日期"))
    reason = models.TextField(_("处罚事由"))
    clause = models.CharField(_("依据条款"), max_length=200)
    amount = models.DecimalField(
        _("扣款金额（元）"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    points = models.DecimalField(
        _("扣分"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1"))],
    )
    area = models.CharField(_("扣分考核项"), max_length=30, choices=AreaChoice.choices, blank=True)
    status = models.CharField(
        _("状态"), max_length=15, choices=PenaltyStatus.choices, default=PenaltyStatus.RECORDED
    )
    recorded_by = _user_fk(_("记录人"))
    acknowledged_by = _user_fk(_("签认人"), null=True)
    acknowledged_at = models.DateTimeField(_("签认时间"), null=True, blank=True)
    withdrawn_reason = models.TextField(_("撤销理由"), blank=True)

    class Meta:
        verbose_name = _("罚则记录")
        verbose_name_plural = _("罚则记录")
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=False) | Q(points__isnull=False),
                name="penalty_has_amount_or_points",
                violation_error_message=_("请填写扣款金额或扣分。"),
            ),
            models.CheckConstraint(
                condition=Q(points__isnull=True) | ~Q(area=""),
                name="penalty_points_have_area",
                violation_error_message=_("扣分须指明考核项。"),
            ),
            models.CheckConstraint(
                condition=(Q(amount__isnull=True) | Q(amount__gt=0))
                & (Q(points__isnull=True) | Q(points__gt=0)),
                name="penalty_positive",
            ),
        ]
        indexes = [models.Index(fields=["contract", "service_year", "status"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.reason[:40]}"
