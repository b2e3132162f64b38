"""Core domain: organisations, users and their roles, contracts and the audit trail."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models, router, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govcloud.audit_chain import CHAIN_FIELDS, GENESIS_HASH, row_hash


class OrganizationKind(models.TextChoices):
    BUREAU = "bureau", _("甲方（主管单位）")
    VENDOR = "vendor", _("乙方（服务商）")
    SUPERVISOR = "supervisor", _("监理单位")
    AUDITOR = "auditor", _("审计单位")
    DEPARTMENT = "department", _("使用单位")
    # The operator of the platform itself (not a contract party): keeps what all bureaus share,
    # the official calendar first, and invites the parties' user administrators.
    PLATFORM = "platform", _("平台运营方")


# Staff of these organisations work on contracts and carry legal weight: 2FA is mandatory.
PARTY_KINDS = frozenset(
    {
        OrganizationKind.BUREAU,
        OrganizationKind.VENDOR,
        OrganizationKind.SUPERVISOR,
        OrganizationKind.AUDITOR,
    }
)


class Organization(models.Model):
    name = models.CharField(_("名称"), max_length=200, unique=True)
    short_name = models.CharField(_("简称"), max_length=60, blank=True)
    kind = models.CharField(_("类型"), max_length=20, choices=OrganizationKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级主管单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="departments",
        help_text=_("使用单位所属的甲方（主管单位）。"),
    )
    email = models.EmailField(_("通知邮箱"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="department", parent__isnull=False)
                | (~Q(kind="department") & Q(parent__isnull=True)),
                name="org_department_has_bureau_parent",
                violation_error_message=_("使用单位必须指定所属甲方，其他单位不得指定上级。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == OrganizationKind.DEPARTMENT:
            if self.parent_id is None:
                raise ValidationError({"parent": _("使用单位必须指定所属甲方。")})
            if self.parent and self.parent.kind != OrganizationKind.BUREAU:
                raise ValidationError({"parent": _("使用单位的上级必须是甲方（主管单位）。")})
        elif self.parent_id is not None:
            raise ValidationError({"parent": _("只有使用单位可以指定上级。")})

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


class Role(models.TextChoices):
    STAFF = "staff", _("业务人员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    # A vendor's, supervisor's or auditor's own administrator of its users (the bureau's is its
    # security administrator); invited once, accepted by that party.
    USER_ADMIN = "user_admin", _("用户管理员")
    # Staff of the platform operator: the platform-wide official calendar.
    PLATFORM_OPERATOR = "platform_operator", _("平台运维员")


# 三员分立 (MLPS level 3): only the bureau has the three administrator roles.
ADMIN_ROLES = frozenset({Role.SECURITY_ADMIN, Role.AUDIT_ADMIN, Role.SYSTEM_ADMIN})
#: Organisations whose own user administrator manages their users.
USER_ADMIN_KINDS = frozenset(
    {OrganizationKind.VENDOR, OrganizationKind.SUPERVISOR, OrganizationKind.AUDITOR}
)


class User(AbstractUser):
    """A person; belongs to exactly one organisation and has one role in it."""

    full_name = models.CharField(_("姓名"), max_length=60, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("所属单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.STAFF)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    # A system of an organisation (e.g. the vendor's operations platform) calling the API with
    # tokens; it never signs in interactively, so the second factor is not skipped for anyone.
    is_service_account = models.BooleanField(
        _("服务账号"),
        default=False,
        help_text=_("只通过 API 令牌访问接口，不能登录门户或管理后台。"),
    )

    objects = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(organization__isnull=False) | Q(is_superuser=True),
                name="user_has_organization",
                violation_error_message=_("除平台超级用户外，每个用户必须属于一个单位。"),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def clean(self) -> None:
        super().clean()
        kind = self.organization.kind if self.organization is not None else None
        if self.role in ADMIN_ROLES and kind != OrganizationKind.BUREAU:
            raise ValidationError({"role": _("安全、审计、系统管理员只能由甲方人员担任。")})
        if self.role == Role.USER_ADMIN and kind not in USER_ADMIN_KINDS:
            raise ValidationError({"role": _("用户管理员只能由乙方、监理或审计单位人员担任。")})
        if (self.role == Role.PLATFORM_OPERATOR) != (kind == OrganizationKind.PLATFORM):
            raise ValidationError(
                {"role": _("平台运营方的人员只能是平台运维员，平台运维员只能属于平台运营方。")}
            )

    def save(self, *args, **kwargs):
        # The admin site is the bureau's workplace, and that of the parties' user administrators
        # and the platform operator (their own pages only); nobody else gets in (derived).
        kind = (
            Organization.objects.filter(pk=self.organization_id)
            .values_list("kind", flat=True)
            .first()
            if self.organization_id is not None
            else None
        )
        # A service account (API tokens) never enters the admin site, whatever its organisation.
        self.is_staff = not self.is_service_account and (
            self.is_superuser
            or kind == OrganizationKind.BUREAU
            or (self.role == Role.USER_ADMIN and kind in USER_ADMIN_KINDS)
            or (self.role == Role.PLATFORM_OPERATOR and kind == OrganizationKind.PLATFORM)
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "is_staff" not in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_staff"}
        super().save(*args, **kwargs)

    @property
    def kind(self) -> str | None:
        return self.organization.kind if self.organization_id else None

    @property
    def requires_two_factor(self) -> bool:
        return (
            self.is_superuser or self.kind in PARTY_KINDS or self.kind == OrganizationKind.PLATFORM
        )

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def is_user_admin(self) -> bool:
        """A vendor's, supervisor's or auditor's administrator of its own users."""
        return self.role == Role.USER_ADMIN and self.kind in USER_ADMIN_KINDS

    @property
    def is_platform_operator(self) -> bool:
        return self.role == Role.PLATFORM_OPERATOR and self.kind == OrganizationKind.PLATFORM

    @property
    def is_department_user(self) -> bool:
        return self.kind == OrganizationKind.DEPARTMENT

    @property
    def is_bureau_staff(self) -> bool:
        return self.kind == OrganizationKind.BUREAU and self.role == Role.STAFF

    @property
    def is_vendor(self) -> bool:
        return self.kind == OrganizationKind.VENDOR

    @property
    def is_supervisor(self) -> bool:
        return self.kind == OrganizationKind.SUPERVISOR

    @property
    def is_auditor(self) -> bool:
        return self.kind == OrganizationKind.AUDITOR


class PricePeriod(models.TextChoices):
    YEAR = "year", _("按年（元/年）")
    MONTH = "month", _("按月（元/月）")


class Proration(models.TextChoices):
    DAYS_365 = "days_365", _("实际天数/365")
    DAYS_IN_MONTH = "days_in_month", _("实际天数/当月天数")


class PartialDay(models.TextChoices):
    WHOLE_DAY = "whole_day", _("上线、下线当天各按一天计")
    HALF_DAY_UNDER_12H = "half_day_under_12h", _("不足12小时按0.5天，12小时及以上按1天")


class SettlementCadence(models.TextChoices):
    YEARLY = "yearly", _("按年结算（每年12月）")
    HALF_YEARLY = "half_yearly", _("按半年结算")


class DiscountScope(models.TextChoices):
    SUBTOTAL = "subtotal", _("折扣作用于合计（合计×折扣后取整）")
    LINE = "line", _("折扣作用于每行（每行×折扣后取整）")


class Scorecard(models.TextChoices):
    """Which SLA scorecard rule set a contract's annex sets, if any ("" = none)."""

    NONE = "", _("无服务水平考核")
    SLA100 = "sla100", _("百分制服务水平考核（服务可用性、交付、安全等十项）")


class JointSubject(models.TextChoices):
    """What a contract may require several parties to confirm jointly (会签)."""

    UTILIZATION_DATA = "utilization_data", _("资源利用率数据")
    IMPROVEMENT_REPORT = "improvement_report", _("整改报告")
    LATE_DELIVERY_EXEMPTION = "late_delivery_exemption", _("交付超时免责")
    INCIDENT_LEVEL = "incident_level", _("安全事件定级")
    DEDUCTION_ACKNOWLEDGEMENT = "deduction_acknowledgement", _("扣款确认")
    DATA_DELETION = "data_deletion", _("数据删除记录")
    DELIVERY_TIME = "delivery_time", _("交付时间确认")
    INVENTORY_CORRECTION = "inventory_correction", _("资源清单更正")


class ContractStatus(models.TextChoices):
    """The contract's life-cycle state (``govcloud.lifecycle``): derived from its dates and
    terms, stored on ``Contract.status`` for lists and filters and kept in step by the daily
    task and every life-cycle action."""

    DRAFT = "draft", _("待生效")
    ACTIVE = "active", _("履行中")
    EXPIRING = "expiring", _("即将到期")
    CONTINUATION = "continuation", _("期满继续服务")
    CLOSED = "closed", _("已结束")
    TERMINATED = "terminated", _("已终止")


def _role_list_error(value: object) -> str | None:
    roles = {str(r) for r in PartyRole.values}
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        return str(_('须为当事方角色的列表，如 ["bureau", "supervisor"]。'))
    unknown = [r for r in value if r not in roles]
    if unknown:
        return str(
            _("未知的当事方角色：%(roles)s（可选 %(allowed)s）。")
            % {"roles": "、".join(unknown), "allowed": "、".join(sorted(roles))}
        )
    if len(set(value)) != len(value):
        return str(_("当事方角色不得重复。"))
    return None


def term_errors(contract: Contract) -> dict[str, str]:
    """Validation of the terms stored as JSON (role lists), for ``Contract.clean``."""
    errors: dict[str, str] = {}
    problem = _role_list_error(contract.maintenance_approvers)
    if problem:
        errors["maintenance_approvers"] = problem
    confirmations = contract.joint_confirmations
    if not isinstance(confirmations, dict):
        errors["joint_confirmations"] = str(_("须为“事项: 当事方列表”的映射。"))
    else:
        subjects = set(JointSubject.values)
        for subject, roles in confirmations.items():
            if subject not in subjects:
                errors["joint_confirmations"] = str(
                    _("未知的共同确认事项“%(subject)s”（可选 %(allowed)s）。")
                    % {"subject": subject, "allowed": "、".join(sorted(subjects))}
                )
                break
            problem = _role_list_error(roles)
            if problem or not roles:
                errors["joint_confirmations"] = f"{subject}: {problem or _('至少一个当事方。')}"
                break
    return errors


class Contract(models.Model):
    """A government-cloud service contract with its billing parameters (DESIGN §4)."""

    code = models.CharField(_("合同编号"), max_length=30, unique=True)
    name = models.CharField(_("合同名称"), max_length=200)
    procurement_no = models.CharField(_("采购项目编号"), max_length=60, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=ContractStatus.choices, default=ContractStatus.ACTIVE
    )
    # --- Life-cycle (``govcloud.lifecycle``): the state is derived from these and the dates.
    activated_at = models.DateTimeField(
        _("生效启用时间"),
        null=True,
        blank=True,
        default=timezone.now,
        help_text=_("甲方启用合同的时间；留空表示待生效（已录入、尚未启用）。"),
    )
    predecessor = models.OneToOneField(
        "self",
        verbose_name=_("前序合同"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="successor",
        help_text=_("本合同承接其资源的前一期合同（每个合同至多一个后续合同）。"),
    )
    cutover_on = models.DateField(
        _("承接切换日"),
        null=True,
        blank=True,
        help_text=_("自该日00:00（北京时间）起资源由本合同计费，前序合同随之结束。"),
    )
    termination_notice_on = models.DateField(_("终止通知日"), null=True, blank=True)
    terminates_on = models.DateField(
        _("终止日"),
        null=True,
        blank=True,
        help_text=_("提前终止时的最后服务日（计费至该日24:00）。"),
    )
    termination_reason = models.TextField(_("终止原因"), blank=True)
    service_start = models.DateField(_("服务期开始"))
    service_end = models.DateField(_("服务期结束"))
    billing_from = models.DateField(
        _("计费起始日"), help_text=_("自该日00:00起的使用量按本合同结算（可早于服务期开始）。")
    )
    price_period = models.CharField(_("价格周期"), max_length=10, choices=PricePeriod.choices)
    proration = models.CharField(_("折算方式"), max_length=20, choices=Proration.choices)
    partial_day_rule = models.CharField(
        _("不足一天计费规则"), max_length=30, choices=PartialDay.choices
    )
    discount_factor = models.DecimalField(
        _("折扣系数"),
        max_digits=6,
        decimal_places=4,
        help_text=_("中标折扣，如 0.9993 表示按目录价的 99.93% 计费。"),
    )
    test_period_months = models.PositiveSmallIntegerField(
        _("测试期（月）"), default=0, help_text=_("新系统交付后的免费测试期，0 表示无。")
    )
    settlement_cadence = models.CharField(
        _("结算周期"), max_length=20, choices=SettlementCadence.choices
    )
    estimated_amount = models.DecimalField(
        _("合同估算金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    vat_rate = models.DecimalField(
        _("增值税率"), max_digits=5, decimal_places=4, default=Decimal("0.06")
    )
    discount_applies_to = models.CharField(
        _("折扣作用范围"),
        max_length=10,
        choices=DiscountScope.choices,
        default=DiscountScope.SUBTOTAL,
    )
    # --- Terms (DESIGN §4a): every rule that differs between contracts, read by the services.
    # Empty (None / "" / [] / {}) means the contract sets no such rule. ``govcloud.terms`` lists
    # them with labels; ``ContractClause`` rows cite the clause each comes from.
    delivery_working_days = models.PositiveSmallIntegerField(
        _("交付时限（工作日）"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("审批通过后须交付的工作日数；留空表示合同未约定时限（如“及时”）。"),
    )
    extended_delivery_working_days = models.PositiveSmallIntegerField(
        _("延期交付时限（工作日）"),
        null=True,
        blank=True,
        help_text=_("经甲方批准延期后的交付时限；留空表示不可延期。"),
    )
    delivery_time_tolerance_hours = models.PositiveSmallIntegerField(
        _("交付时间补录容差（小时）"),
        default=2,
        validators=[MaxValueValidator(72)],
        help_text=_("乙方登记的交付时间最多可早于登记时刻的小时数；更早须附证明并经审核方确认。"),
    )
    scorecard = models.CharField(
        _("服务水平考核"), max_length=20, choices=Scorecard.choices, default="", blank=True
    )
    utilization_threshold_pct = models.PositiveSmallIntegerField(
        _("资源利用率下限（%）"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("全平台平均 CPU 或内存利用率低于该值时扣款；留空表示无此规则。"),
    )
    utilization_charge_pct = models.DecimalField(
        _("利用率不达标扣款（年服务费的 %）"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    maintenance_notice_hours = models.PositiveSmallIntegerField(
        _("计划维护提前通知（小时）"),
        null=True,
        blank=True,
        help_text=_("留空表示合同未约定通知期限。"),
    )
    maintenance_approvers = models.JSONField(
        _("计划维护须同意的当事方"),
        default=list,
        blank=True,
        help_text=_('如 ["bureau", "supervisor"]；留空表示只需通知、无须批准。'),
    )
    upgrade_notice_working_days = models.PositiveSmallIntegerField(
        _("平台升级书面申请提前（工作日）"), null=True, blank=True
    )
    improvement_working_days = models.PositiveSmallIntegerField(
        _("书面通知后的整改期限（工作日）"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    dispute_escalation_working_days = models.PositiveSmallIntegerField(
        _("统计表争议提交审计（工作日）"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("争议超过该工作日数提交审计；留空表示协商解决、不提交审计。"),
    )
    statement_due_working_day = models.PositiveSmallIntegerField(
        _("月度统计表提交期限（次月第 N 个工作日）"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(23)],
        help_text=_("留空表示合同未约定提交期限。"),
    )
    statement_is_deliverable = models.BooleanField(
        _("统计表按交付物考核"),
        default=False,
        help_text=_("逾期提交按交付物超时、内容错误按交付物不合格处理。"),
    )
    settlement_month = models.PositiveSmallIntegerField(
        _("年度结算月份"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    payment_working_days = models.PositiveSmallIntegerField(
        _("收到拨款后付款期限（工作日）"), null=True, blank=True
    )
    invoice_lead_working_days = models.PositiveSmallIntegerField(
        _("付款节点前开票（工作日）"), null=True, blank=True
    )
    invoice_not_above_due = models.BooleanField(
        _("发票不得早于付款条件、不得超过应付金额"), default=False
    )
    deduction_notice_working_days = models.PositiveSmallIntegerField(
        _("扣款书面通知期限（工作日）"), null=True, blank=True
    )
    deduction_needs_vendor_ack = models.BooleanField(_("扣款经乙方签字确认后生效"), default=False)
    joint_confirmations = models.JSONField(
        _("须共同确认的事项"),
        default=dict,
        blank=True,
        help_text=_('如 {"utilization_data": ["bureau", "vendor", "supervisor"]}。'),
    )
    termination_notice_days = models.PositiveSmallIntegerField(
        _("提前终止书面通知（日）"), null=True, blank=True
    )
    continuation_working_days = models.PositiveSmallIntegerField(
        _("期满后继续服务上限（工作日）"), null=True, blank=True
    )
    handover_plan_days_before_end = models.PositiveSmallIntegerField(
        _("交接计划提前提交（日）"),
        null=True,
        blank=True,
        help_text=_("服务期满前须提交交接计划的天数；留空表示合同未约定交接计划。"),
    )
    staff_register_required = models.BooleanField(
        _("须提交接触甲方信息人员名单及保密协议"), default=False
    )
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("合同")
        verbose_name_plural = _("合同")
        ordering = ["-service_start", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(predecessor__isnull=True, cutover_on__isnull=True)
                | Q(predecessor__isnull=False, cutover_on__isnull=False),
                name="contract_successor_has_cutover",
                violation_error_message=_("承接前序合同须有切换日。"),
            ),
            models.CheckConstraint(
                condition=Q(terminates_on__isnull=True, termination_notice_on__isnull=True)
                | Q(
                    terminates_on__isnull=False,
                    termination_notice_on__isnull=False,
                    terminates_on__gte=models.F("termination_notice_on"),
                ),
                name="contract_termination_after_notice",
                violation_error_message=_("终止日不得早于终止通知日。"),
            ),
            models.CheckConstraint(
                condition=Q(service_start__lt=models.F("service_end")),
                name="contract_period_start_before_end",
                violation_error_message=_("服务期开始必须早于结束。"),
            ),
            models.CheckConstraint(
                condition=Q(billing_from__lte=models.F("service_start")),
                name="contract_billing_from_not_after_start",
                violation_error_message=_("计费起始日不得晚于服务期开始。"),
            ),
            models.CheckConstraint(
                condition=Q(discount_factor__gt=0) & Q(discount_factor__lte=1),
                name="contract_discount_in_range",
                violation_error_message=_("折扣系数必须大于 0 且不超过 1。"),
            ),
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0) & Q(vat_rate__lt=1),
                name="contract_vat_in_range",
                violation_error_message=_("增值税率必须在 0 与 1 之间。"),
            ),
            models.CheckConstraint(
                condition=Q(estimated_amount__isnull=True) | Q(estimated_amount__gt=0),
                name="contract_estimated_amount_positive",
                violation_error_message=_("估算金额必须为正数。"),
            ),
            models.CheckConstraint(
                condition=Q(
                    delivery_working_days__isnull=True, extended_delivery_working_days__isnull=True
                )
                | Q(delivery_working_days__gte=1, extended_delivery_working_days__isnull=True)
                | Q(
                    delivery_working_days__gte=1,
                    extended_delivery_working_days__gte=models.F("delivery_working_days"),
                ),
                name="contract_delivery_days_sane",
                violation_error_message=_(
                    "延期交付时限不得短于标准交付时限，且须先有标准交付时限。"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    # Parties, in the roles the contract gives them. Reading from a prefetched
    # ``parties`` avoids a query per call on list pages.
    def _parties(self) -> list[ContractParty]:
        return sorted(self.parties.all(), key=lambda p: (p.role, p.pk or 0))

    def parties_with_role(self, role: str) -> list[ContractParty]:
        return [p for p in self._parties() if p.role == role]

    @property
    def bureau(self) -> Organization | None:
        parties = self.parties_with_role(PartyRole.BUREAU)
        return parties[0].organization if parties else None

    @property
    def review_chain(self) -> list[ContractParty]:
        """Parties that approve tickets, in order (焦作: bureau; 包头: bureau then supervisor)."""
        return sorted(
            (p for p in self._parties() if p.review_order is not None),
            key=lambda p: p.review_order,
        )

    @property
    def signoff_parties(self) -> list[ContractParty]:
        """Parties whose confirmation signs a monthly statement, in signing order."""
        return sorted(
            (p for p in self._parties() if p.signoff_order is not None),
            key=lambda p: p.signoff_order,
        )

    def clean(self) -> None:
        errors = {}
        if self.service_start and self.service_end and self.service_start >= self.service_end:
            errors["service_end"] = _("服务期结束必须晚于开始。")
        if self.billing_from and self.service_start and self.billing_from > self.service_start:
            errors["billing_from"] = _("计费起始日不得晚于服务期开始。")
        errors.update(term_errors(self))
        if self.price_period == PricePeriod.MONTH and self.proration == Proration.DAYS_365:
            errors["proration"] = _("按月定价的合同按当月天数折算。")
        if self.price_period == PricePeriod.YEAR and self.proration == Proration.DAYS_IN_MONTH:
            errors["proration"] = _("按年定价的合同按 365 天折算。")
        if errors:
            raise ValidationError(errors)


class PartyRole(models.TextChoices):
    BUREAU = "bureau", _("甲方")
    VENDOR = "vendor", _("乙方")
    SUPERVISOR = "supervisor", _("监理")
    AUDITOR = "auditor", _("审计")


class ContractParty(models.Model):
    """An organisation's place on a contract: its role, review step and sign-off order."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.CASCADE, related_name="parties"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("单位"),
        on_delete=models.PROTECT,
        related_name="contract_parties",
    )
    role = models.CharField(_("合同角色"), max_length=20, choices=PartyRole.choices)
    is_lead = models.BooleanField(_("牵头方"), default=True)
    review_order = models.PositiveSmallIntegerField(
        _("审核顺序"), null=True, blank=True, help_text=_("资源申请审核链中的位置，空表示不审核。")
    )
    signoff_order = models.PositiveSmallIntegerField(
        _("签认顺序"),
        null=True,
        blank=True,
        help_text=_("月度服务资源统计表签认顺序，空表示不签认。"),
    )

    class Meta:
        verbose_name = _("合同当事方")
        verbose_name_plural = _("合同当事方")
        ordering = ["contract", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "organization"], name="party_once_per_contract"
            ),
            models.UniqueConstraint(
                fields=["contract", "review_order"],
                condition=Q(review_order__isnull=False),
                name="party_unique_review_order",
            ),
            models.UniqueConstraint(
                fields=["contract", "signoff_order"],
                condition=Q(signoff_order__isnull=False),
                name="party_unique_signoff_order",
            ),
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(role="bureau"),
                name="party_one_bureau_per_contract",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} · {self.get_role_display()} · {self.organization}"

    def clean(self) -> None:
        if self.organization_id and self.organization.kind != self.role:
            raise ValidationError({"organization": _("单位类型与合同角色不一致。")})


class ContractClause(models.Model):
    """The clause a term of the contract comes from: number and a short quote (DESIGN §4a)."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.CASCADE, related_name="clauses"
    )
    term = models.CharField(_("条款项"), max_length=40)
    clause = models.CharField(_("条款编号"), max_length=60)
    quote = models.CharField(_("条款原文摘录"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("合同条款出处")
        verbose_name_plural = _("合同条款出处")
        ordering = ["contract", "term"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "term"], name="clause_once_per_term"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} · {self.term} · {self.clause}"

    def clean(self) -> None:
        # Imported here: govcloud.terms reads these models at import time (a cycle otherwise).
        from govcloud.terms import TERM_KEYS

        if self.term and self.term not in TERM_KEYS:
            raise ValidationError({"term": _("未知的条款项“%(key)s”。") % {"key": self.term}})


class Installment(models.Model):
    """A contracted payment installment (包头: advance, half-year, final)."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.CASCADE, related_name="installments"
    )
    sequence = models.PositiveSmallIntegerField(_("期次"))
    label = models.CharField(_("名称"), max_length=60)
    amount = models.DecimalField(
        _("约定金额（元）"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("留空表示按结算金额确定。"),
    )
    condition = models.CharField(_("付款条件"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("付款期次")
        verbose_name_plural = _("付款期次")
        ordering = ["contract", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "sequence"], name="installment_seq_unique"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0),
                name="installment_amount_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} 第{self.sequence}期 {self.label}"


# Key of the PostgreSQL advisory lock that serialises appends to the audit chain ("govaud").
AUDIT_CHAIN_LOCK = 0x676F76617564


class ContractExpiryWarning(models.Model):
    """An expiry warning sent to every party of a contract (``govcloud.lifecycle``): one row per
    contract and threshold (90 or 30 days before the end), so each goes out once."""

    contract = models.ForeignKey(
        Contract,
        verbose_name=_("合同"),
        on_delete=models.CASCADE,
        related_name="expiry_warnings",
    )
    days_before = models.PositiveSmallIntegerField(_("到期前天数"))
    due_on = models.DateField(_("应提醒日"))
    sent_at = models.DateTimeField(_("发出时间"))
    recipients = models.PositiveIntegerField(_("收件人数"), default=0)
    skipped = models.BooleanField(
        _("未单独发送"),
        default=False,
        help_text=_("录入时已过该提醒日、且更近的提醒同时发出：不再单独发送。"),
    )

    class Meta:
        verbose_name = _("合同到期提醒")
        verbose_name_plural = _("合同到期提醒")
        ordering = ["contract", "-days_before"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "days_before"], name="contract_expiry_warning_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} −{self.days_before}d"


class AuditEventQuerySet(models.QuerySet):
    """Also the base manager's queryset (``Meta.base_manager_name``), so no internal path of
    Django's (related managers, the deletion collector) can rewrite an audit row either."""

    def update(self, **kwargs):
        raise PermissionError("审计日志只能追加，不能修改。")

    def _update(self, values):
        raise PermissionError("审计日志只能追加，不能修改。")

    def bulk_update(self, objs, fields, batch_size=None):
        raise PermissionError("审计日志只能追加，不能修改。")

    def delete(self):
        raise PermissionError("审计日志只能追加，不能删除。")

    def _raw_delete(self, using):
        raise PermissionError("审计日志只能追加，不能删除。")

    def bulk_create(self, objs, *args, **kwargs):
        raise PermissionError("审计日志只能逐条追加，以便串入哈希链。")


class AuditEvent(models.Model):
    """One append-only row of the audit trail: who did what to which object, when, from where."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    actor_repr = models.CharField(_("操作人（记录时）"), max_length=150, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("操作人单位"),
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    action = models.CharField(_("操作"), max_length=60, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=60, db_index=True, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=40, blank=True, db_index=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    before = models.JSONField(_("变更前"), null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("变更后"), null=True, blank=True, encoder=DjangoJSONEncoder)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("合同"),
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )

    # The hash chain (govcloud.audit_chain): set by save(), under the chain lock.
    seq = models.BigIntegerField(_("序号"), unique=True, editable=False)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, editable=False)
    row_hash = models.CharField(_("本条哈希"), max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]
        base_manager_name = "objects"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_repr} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        """Append the row to the chain. ``at`` is the time of appending, whatever was set."""
        if self.pk is not None or not self._state.adding:
            raise PermissionError("审计日志只能追加，不能修改。")
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            self._chain_onto_head(using)
            super().save(*args, **kwargs)

    def _chain_onto_head(self, using: str) -> None:
        # The lock is held until the surrounding transaction commits, so no second transaction
        # can read the same head and chain onto it (the unique seq is the backstop). SQLite
        # serialises writers already (transaction_mode IMMEDIATE).
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
        newest = type(self)._base_manager.using(using).order_by("-seq")
        head = newest.values_list("seq", "row_hash").first()
        self.seq, self.prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        # Taken after the lock, so that ``at`` follows the order of the chain.
        self.at = timezone.now()
        # Hash what the database will give back: Django sends IPv6 compressed, "" as NULL.
        self.ip_address = self._meta.get_field("ip_address").get_prep_value(self.ip_address) or None
        self.row_hash = row_hash({name: getattr(self, name) for name in CHAIN_FIELDS})

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志只能追加，不能删除。")


class BusinessSystem(models.Model):
    """A department's business system (业务系统): what resources are requested for."""

    department = models.ForeignKey(
        Organization,
        verbose_name=_("使用单位"),
        on_delete=models.PROTECT,
        related_name="systems",
        limit_choices_to={"kind": OrganizationKind.DEPARTMENT},
    )
    name = models.CharField(_("系统名称"), max_length=120)
    is_emergency_or_security = models.BooleanField(
        _("应急、安全类系统"), default=False, help_text=_("此类系统不参与资源利用率调整建议。")
    )
    description = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("业务系统")
        verbose_name_plural = _("业务系统")
        ordering = ["department", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "name"], name="system_name_per_department"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class OutboxEmail(models.Model):
    """One e-mail to one recipient about one thing; the unique key makes it exactly-once."""

    key = models.CharField(_("去重键"), max_length=200)
    recipient = models.EmailField(_("收件人"))
    subject = models.CharField(_("主题"), max_length=200)
    body = models.TextField(_("正文"))
    attachments = models.JSONField(
        _("附件"),
        default=list,
        blank=True,
        help_text=_("[{name, path, mimetype}]，路径相对于媒体目录。"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    claimed_at = models.DateTimeField(
        _("开始发送时间"),
        null=True,
        blank=True,
        help_text=_("发送前登记；长时间停在“发送中”的邮件由定时任务以同一 Message-ID 重发。"),
    )
    message_id = models.CharField(
        _("Message-ID"),
        max_length=200,
        blank=True,
        help_text=_("首次发送时确定，重发沿用，收件方可据此识别重复。"),
    )
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("合同"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("邮件发件箱")
        verbose_name_plural = _("邮件发件箱")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["key", "recipient"], name="outbox_once_per_recipient"),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.recipient} · {self.subject}"


class JobStatus(models.TextChoices):
    PENDING = "pending", _("待执行")
    RUNNING = "running", _("执行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class Job(models.Model):
    """A durable record of one document render or signature task (``govcloud.jobs``).

    Written inside the service's transaction, so the work it stands for commits or rolls back
    with the action; enqueued after commit; a periodic sweeper re-enqueues what is still
    pending, whatever happened to the broker or the worker in between.
    """

    task = models.CharField(_("任务"), max_length=100)
    args = models.JSONField(_("参数"), default=list, blank=True)
    kwargs = models.JSONField(_("命名参数"), default=dict, blank=True)
    key = models.CharField(
        _("去重键"),
        max_length=200,
        help_text=_("同一键的任务在执行前只登记一次。"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    run_after = models.DateTimeField(_("最早执行时间"), default=timezone.now)
    claimed_at = models.DateTimeField(_("开始执行时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("合同"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One waiting record per key: scheduling the same render twice before it ran is one.
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(status="pending"),
                name="job_once_while_waiting",
            ),
        ]
        indexes = [models.Index(fields=["status", "run_after"])]

    def __str__(self) -> str:
        return f"{self.task} {self.key}"


# =============================================================================== official calendar
#
# The official working-day calendar (法定节假日安排), kept year by year. Each year the State
# Council's General Office publishes a notice (国务院办公厅关于 20XX 年部分节假日安排的通知)
# listing the days off and the weekend days that become working days. ``CalendarYear`` is one
# such notice; ``CalendarDay`` one dated entry of it. ``govcloud.calendar`` turns the rows into
# the ``govcloud.workdays.YearCalendar`` every clock counts with. A year without a
# ``CalendarYear`` is *missing*: clocks in it are provisional (weekends only) until it is entered.
# Only ``govcloud.calendar``'s services write these tables, so that every change is audited,
# bumps ``CalendarYear.version`` and tells every process to forget its cached copy.


FIRST_YEAR = 2000
LAST_YEAR = 2100


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("放假")
    WORKDAY = "workday", _("调休上班")


class CalendarYear(models.Model):
    """One year's official schedule, with where it comes from."""

    year = models.PositiveSmallIntegerField(
        _("年度"),
        unique=True,
        validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)],
    )
    source = models.CharField(
        _("依据"),
        max_length=200,
        help_text=_(
            "国务院办公厅通知的文号，如“国办发明电〔2025〕7号”，或“chinesecalendar 1.11.0”。"
        ),
    )
    notice_url = models.URLField(_("通知链接"), blank=True)
    notes = models.TextField(_("备注"), blank=True)
    loaded_at = models.DateTimeField(_("载入时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Bumped in the same transaction as every change to the year's days; other processes compare
    # it with the version their cached copy was built from (see govcloud.calendar).
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    class Meta:
        verbose_name = _("法定节假日")
        verbose_name_plural = _("法定节假日")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=FIRST_YEAR) & Q(year__lte=LAST_YEAR),
                name="calendar_year_in_range",
                violation_error_message=_("年度必须在 2000 与 2100 之间。"),
            ),
        ]

    def __str__(self) -> str:
        return _("%(year)s 年节假日安排") % {"year": self.year}


class CalendarDay(models.Model):
    """A day off or a make-up working day of one year's schedule.

    Holidays are stored as the notice lists them, weekend days of a holiday run included (国庆节
    10-01…10-07); a weekend day that is not listed is simply a day off.
    """

    # Keyed by the year number rather than the row id: the rows read naturally, the data
    # migration needs no id look-ups, and the constraint below can compare the two columns.
    calendar_year = models.ForeignKey(
        CalendarYear,
        verbose_name=_("年度"),
        to_field="year",
        on_delete=models.CASCADE,
        related_name="days",
    )
    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=DayKind.choices)
    name = models.CharField(
        _("节日"), max_length=40, help_text=_("如“国庆节”；调休上班日填所属节日。")
    )

    class Meta:
        verbose_name = _("放假与调休日期")
        verbose_name_plural = _("放假与调休日期")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DayKind.values),
                name="calendar_day_kind_valid",
                violation_error_message=_("类型必须是放假或调休上班。"),
            ),
            models.CheckConstraint(
                condition=Q(date__year=F("calendar_year")),
                name="calendar_day_in_its_year",
                violation_error_message=_("日期必须在所属年度之内。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name} {self.get_kind_display()}"

    def clean(self) -> None:
        errors = {}
        if self.date and self.calendar_year_id and self.date.year != self.calendar_year_id:
            errors["date"] = _("日期 %(date)s 不在 %(year)s 年度之内。") % {
                "date": self.date.isoformat(),
                "year": self.calendar_year_id,
            }
        # Every notice so far moves working days onto Saturdays and Sundays only; a "make-up"
        # Monday would be a no-op in the arithmetic and is certainly a typo for a nearby date.
        elif self.date and self.kind == DayKind.WORKDAY and self.date.weekday() < 5:
            errors["date"] = _("调休上班日必须是周六或周日，%(date)s 是工作日。") % {
                "date": self.date.isoformat()
            }
        if errors:
            raise ValidationError(errors)


# =============================================================================== API tokens


class TokenScope(models.TextChoices):
    READ = "read", _("只读")
    VENDOR_WRITE = "vendor_write", _("乙方读写（交付、统计表、指标推送）")


#: Days a new API token lives unless its issuer says otherwise.
API_TOKEN_DEFAULT_DAYS = 90


class ApiToken(models.Model):
    """A named, scoped, expiring credential of a *service account* (never a person's).

    Only the SHA-256 of the secret is stored; the secret is shown once, when the user's own
    organisation administrator creates the token (``govcloud.api_tokens.api_token_create``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("服务账号"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("名称"), max_length=80, help_text=_("如“乙方运维平台对接”。"))
    prefix = models.CharField(_("标识前缀"), max_length=12, editable=False, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(_("权限范围"), max_length=20, choices=TokenScope.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("到期时间"))
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("吊销人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="api_token_name_unique_per_user"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")),
                name="api_token_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


# ================================================================================ invitations


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("待接受")
    ACCEPTED = "accepted", _("已接受")
    REVOKED = "revoked", _("已撤销")


class Invitation(models.Model):
    """The invitation of a party's user administrator (vendor, supervisor, auditor).

    Issued by the platform operator, or by a bureau's security administrator for a party on one
    of the bureau's contracts. It creates an inactive user with no usable password; the invited
    person opens the one-time link, sets a password and enrols TOTP, and only then is the user
    active. Only the SHA-256 of the link's token is stored.
    """

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("受邀单位"),
        on_delete=models.PROTECT,
        related_name="invitations",
        limit_choices_to={"kind__in": sorted(USER_ADMIN_KINDS)},
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
    )
    username = models.CharField(_("用户名"), max_length=150)
    full_name = models.CharField(_("姓名"), max_length=60, blank=True)
    email = models.EmailField(_("邮箱"))
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=InvitationStatus.choices,
        default=InvitationStatus.PENDING,
    )
    token_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("有效期至"))
    sent_count = models.PositiveSmallIntegerField(_("发送次数"), default=1)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("邀请人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    invited_by_organization = models.ForeignKey(
        Organization,
        verbose_name=_("邀请单位"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    password_set_at = models.DateTimeField(_("设置密码时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("邀请时间"), default=timezone.now)
    accepted_at = models.DateTimeField(_("接受时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("用户管理员邀请")
        verbose_name_plural = _("用户管理员邀请")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(status="pending"),
                name="invitation_one_pending_per_organization",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.username}"

    @property
    def is_open(self) -> bool:
        return self.status == InvitationStatus.PENDING and self.expires_at > timezone.now()


# ------------------------------------------------------------------------------ joint confirmation


class JointStatus(models.TextChoices):
    OPEN = "open", _("待会签")
    CONFIRMED = "confirmed", _("已共同确认")
    OBJECTED = "objected", _("有异议")


class JointDecision(models.TextChoices):
    CONFIRM = "confirm", _("确认")
    OBJECT = "object", _("异议")


class JointConfirmation(models.Model):
    """One record several parties must confirm (会签), as the contract's terms name them.

    The parties are the roles of ``contract.joint_confirmations[subject]`` *when the record was
    opened* (``required_roles``): a later change of the terms does not move the goalposts of a
    record under way. An objection stops the round; when the originator revises the record,
    ``round`` goes up and every party confirms again (the entries of earlier rounds stay).
    """

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField(_("事项"), max_length=40, choices=JointSubject.choices)
    content_type = models.ForeignKey(
        "contenttypes.ContentType", verbose_name=_("对象类型"), on_delete=models.PROTECT
    )
    object_id = models.PositiveBigIntegerField(_("对象编号"))
    title = models.CharField(_("标题"), max_length=200)
    required_roles = models.JSONField(_("须确认的当事方"), default=list)
    status = models.CharField(
        _("状态"), max_length=10, choices=JointStatus.choices, default=JointStatus.OPEN
    )
    round = models.PositiveSmallIntegerField(_("轮次"), default=1)
    opened_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("共同确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("共同确认（会签）")
        verbose_name_plural = _("共同确认（会签）")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "subject"], name="joint_once_per_object"
            ),
            models.CheckConstraint(
                condition=Q(status="confirmed", confirmed_at__isnull=False)
                | (~Q(status="confirmed") & Q(confirmed_at__isnull=True)),
                name="joint_confirmed_at_iff_confirmed",
            ),
        ]
        indexes = [models.Index(fields=["contract", "subject", "status"])]

    def __str__(self) -> str:
        return f"{self.get_subject_display()}：{self.title}"


class JointConfirmationEntry(models.Model):
    """One party's confirmation or objection in one round of a joint confirmation."""

    confirmation = models.ForeignKey(
        JointConfirmation,
        verbose_name=_("共同确认"),
        on_delete=models.CASCADE,
        related_name="entries",
    )
    round = models.PositiveSmallIntegerField(_("轮次"))
    role = models.CharField(_("当事方"), max_length=20, choices=PartyRole.choices)
    organization = models.ForeignKey(
        Organization, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision = models.CharField(_("意见"), max_length=10, choices=JointDecision.choices)
    reason = models.TextField(_("理由"), blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("会签意见")
        verbose_name_plural = _("会签意见")
        ordering = ["confirmation", "round", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["confirmation", "round", "role"], name="joint_entry_once_per_role"
            ),
            models.CheckConstraint(
                condition=Q(decision="confirm") | ~Q(reason=""),
                name="joint_objection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.get_decision_display()}"
