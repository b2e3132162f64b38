"""Billing data: priced catalogs (with dated prices), the resource inventory and the test
periods of new systems, monthly statements with their versions, sign-offs, disputes and
department bills, and the settlement (deductions, payments, invoices, funds arrivals)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from govcloud.formatting import format_unit_price
from govcloud.models import Contract, DiscountScope, PricePeriod

#: The most one line of a ticket may ask for when the catalog item sets no ``max_quantity``,
#: by unit: a sanity bound against typing slips (99,999,999,999 vCPU), far above any real
#: request of one department; a larger need is the bureau's decision (raise the item's limit).
DEFAULT_MAX_QUANTITY_BY_UNIT: dict[str, int] = {
    "核": 10_000,
    "vCPU": 10_000,
    "GB": 1_000_000,
    "TB": 10_000,
}
#: Every other unit (台, 块, 个, 套, IP, 实例 …): counted things.
DEFAULT_MAX_QUANTITY = 1_000


def default_max_quantity(unit: str) -> int:
    """The bound of a unit when the catalog item sets none (``DEFAULT_MAX_QUANTITY_BY_UNIT``)."""
    return DEFAULT_MAX_QUANTITY_BY_UNIT.get(unit.strip(), DEFAULT_MAX_QUANTITY)


class CatalogItem(models.Model):
    """One priced row of a contract's service catalog (服务目录及价格), by stable code."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.CASCADE, related_name="catalog_items"
    )
    code = models.CharField(_("目录编码"), max_length=40)
    section = models.CharField(_("服务类别"), max_length=40)
    name = models.CharField(_("服务名称"), max_length=100)
    spec = models.CharField(_("规格说明"), max_length=300, blank=True)
    unit = models.CharField(_("计量单位"), max_length=20)
    unit_price = models.DecimalField(
        _("单价（元）"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    period = models.CharField(_("计价周期"), max_length=10, choices=PricePeriod.choices)
    vcpus = models.PositiveIntegerField(_("vCPU（核）"), null=True, blank=True)
    memory_gb = models.PositiveIntegerField(_("内存（GB）"), null=True, blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("可申请"), default=True)
    max_quantity = models.PositiveIntegerField(
        _("单行数量上限"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "一条申请明细（开通或变更后）最多可申请的数量；留空按计量单位的默认上限："
            "核 10,000，GB 1,000,000，TB 10,000，其他单位 1,000。"
        ),
    )

    class Meta:
        verbose_name = _("服务目录项")
        verbose_name_plural = _("服务目录")
        ordering = ["contract", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "code"], name="catalog_code_per_contract"),
            # Zero is a real price in the catalogs (业务迁移服务 is free); negative is not.
            models.CheckConstraint(
                condition=Q(unit_price__gte=0),
                name="catalog_price_not_negative",
                violation_error_message=_("单价不能为负数。"),
            ),
            models.CheckConstraint(
                condition=Q(max_quantity__isnull=True) | Q(max_quantity__gte=1),
                name="catalog_max_quantity_positive",
                violation_error_message=_("单行数量上限须为正整数。"),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.code} {self.name}（{self.spec}）" if self.spec else f"{self.code} {self.name}"
        )

    @property
    def quantity_limit(self) -> int:
        """The most one ticket line may ask for: ``max_quantity``, else the unit's default."""
        return self.max_quantity or default_max_quantity(self.unit)

    def quantity_refusal(self, quantity: int) -> str:
        """Why ``quantity`` may not be asked for in one line, or "" (the service and the form
        both ask here, so the portal and the API refuse with the same words)."""
        if quantity <= self.quantity_limit:
            return ""
        return str(
            _(
                "数量 %(q)s 超过“%(name)s”每条明细的上限 %(max)s %(unit)s；"
                "确需更多的，请联系甲方调整该目录项的数量上限。"
            )
            % {
                "q": f"{quantity:,}",
                "name": self.name,
                "max": f"{self.quantity_limit:,}",
                "unit": self.unit,
            }
        )

    @property
    def price_label(self) -> str:
        per = "年" if self.period == PricePeriod.YEAR else "月"
        return f"{format_unit_price(self.unit_price)}/{self.unit}/{per}"


class CatalogPrice(models.Model):
    """One price of a catalog item from a day on (价格变更自生效日起适用).

    An item's first price is effective from the contract's billing start; a change (catalog
    upload, ``load_contract``, the admin) adds a row from its effective date with the clause or
    amendment it rests on, so months before it keep billing at the old price. The statement
    engine splits a line where the price changes inside a month. ``CatalogItem.unit_price`` is
    the newest row's price (what new requests are estimated with).
    """

    item = models.ForeignKey(
        CatalogItem, verbose_name=_("目录项"), on_delete=models.CASCADE, related_name="prices"
    )
    effective_from = models.DateField(_("生效日期"), help_text=_("自该日00:00起按此单价计费。"))
    unit_price = models.DecimalField(
        _("单价（元）"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    basis = models.CharField(
        _("依据"), max_length=300, help_text=_("合同条款或补充协议，如“补充协议（2026-05）第2条”。")
    )
    created_at = models.DateTimeField(_("录入时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_repr = models.CharField(_("录入来源"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("目录价格")
        verbose_name_plural = _("目录价格（含生效日期）")
        ordering = ["item", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "effective_from"], name="catalog_price_once_per_day"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="catalog_price_row_not_negative"
            ),
            models.CheckConstraint(condition=~Q(basis=""), name="catalog_price_has_basis"),
        ]

    def __str__(self) -> str:
        return f"{self.item.code} {self.unit_price} 自 {self.effective_from:%Y-%m-%d}"


class ResourceStatus(models.TextChoices):
    ACTIVE = "active", _("在用")
    RELEASED = "released", _("已释放")


class Resource(models.Model):
    """A delivered cloud resource in the inventory: one catalog item for one business system.

    ``quantity`` and ``catalog_item`` are the current configuration; the history that
    billing reads is in ``ResourceChange`` (the first row is the delivery).
    """

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="resources"
    )
    department = models.ForeignKey(
        "govcloud.Organization",
        verbose_name=_("使用单位"),
        on_delete=models.PROTECT,
        related_name="resources",
    )
    system = models.ForeignKey(
        "govcloud.BusinessSystem",
        verbose_name=_("业务系统"),
        on_delete=models.PROTECT,
        related_name="resources",
    )
    catalog_item = models.ForeignKey(
        CatalogItem, verbose_name=_("目录项"), on_delete=models.PROTECT, related_name="resources"
    )
    quantity = models.PositiveIntegerField(_("数量"))
    vendor_ref = models.CharField(
        _("乙方资源标识"), max_length=200, blank=True, help_text=_("如云主机实例 ID、卷 ID。")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ResourceStatus.choices, default=ResourceStatus.ACTIVE
    )
    online_at = models.DateTimeField(_("上线时间"))
    billing_starts_at = models.DateTimeField(
        _("计费开始"), help_text=_("交付时间，或测试期结束时间（测试期间不计费）。")
    )
    offline_at = models.DateTimeField(_("下线时间"), null=True, blank=True)
    imported = models.BooleanField(
        _("库存导入"),
        default=False,
        help_text=_("由资源清单导入（按文件计费，不适用测试期）；否则为平台工单交付。"),
    )
    carried_from = models.OneToOneField(
        "self",
        verbose_name=_("承接自"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="carried_to",
        help_text=_("后续合同在切换日承接的前序合同资源（billing.services.succession）。"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("云资源")
        verbose_name_plural = _("云资源")
        ordering = ["department", "system", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="resource_quantity_positive",
                violation_error_message=_("数量必须为正整数。"),
            ),
            models.CheckConstraint(
                condition=Q(billing_starts_at__gte=models.F("online_at")),
                name="resource_billing_not_before_online",
                violation_error_message=_("计费开始不得早于上线时间。"),
            ),
            models.CheckConstraint(
                condition=Q(offline_at__isnull=True) | Q(offline_at__gt=models.F("online_at")),
                name="resource_offline_after_online",
                violation_error_message=_("下线时间必须晚于上线时间。"),
            ),
        ]
        indexes = [models.Index(fields=["contract", "status"])]

    def __str__(self) -> str:
        ref = f" [{self.vendor_ref}]" if self.vendor_ref else ""
        return f"#{self.pk} {self.catalog_item.code} × {self.quantity}{ref}"


class ResourceChange(models.Model):
    """One configuration of a resource from ``delivered_at`` on (quantity history)."""

    resource = models.ForeignKey(
        Resource, verbose_name=_("云资源"), on_delete=models.CASCADE, related_name="changes"
    )
    catalog_item = models.ForeignKey(
        CatalogItem, verbose_name=_("目录项"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("数量"))
    delivered_at = models.DateTimeField(_("交付时间"))
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("资源变更记录")
        verbose_name_plural = _("资源变更记录")
        ordering = ["resource", "delivered_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="resource_change_quantity_positive"
            ),
        ]
        indexes = [models.Index(fields=["resource", "delivered_at"])]

    def __str__(self) -> str:
        return f"{self.resource_id}: {self.quantity} @ {self.delivered_at:%Y-%m-%d %H:%M}"


class SystemTestPeriod(models.Model):
    """The free test period of a new business system (包头 §5.1.2: 原则上测试期为1个月，测试期间
    不计费), for contracts whose ``test_period_months`` is not 0.

    It starts at the first ticket delivery of a system that has no resource yet and lasts
    ``test_period_months``; every resource of the system delivered by a ticket while it runs
    starts billing at ``ends_at``. The bureau may end it early (cutover) or extend it, with a
    reason (``SystemTestPeriodChange``); the billing start of the resources it covers follows.
    """

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="test_periods"
    )
    system = models.ForeignKey(
        "govcloud.BusinessSystem",
        verbose_name=_("业务系统"),
        on_delete=models.PROTECT,
        related_name="test_periods",
    )
    started_at = models.DateTimeField(_("测试期开始"), help_text=_("该系统首次工单交付时间。"))
    ends_at = models.DateTimeField(_("测试期结束"), help_text=_("自该时刻起计费。"))
    contract_ends_at = models.DateTimeField(
        _("合同约定结束"), help_text=_("按合同测试期月数推算的结束时间。")
    )
    created_at = models.DateTimeField(_("创建时间"))
    changed_at = models.DateTimeField(_("最近调整时间"), null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最近调整人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    change_reason = models.TextField(_("最近调整原因"), blank=True)

    class Meta:
        verbose_name = _("新系统测试期")
        verbose_name_plural = _("新系统测试期")
        ordering = ["contract", "-started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "system"], name="test_period_once_per_system"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gte=models.F("started_at")),
                name="test_period_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} · {self.system} · 至 {self.ends_at:%Y-%m-%d %H:%M}"

    @property
    def was_changed(self) -> bool:
        return self.ends_at != self.contract_ends_at


class SystemTestPeriodChangeKind(models.TextChoices):
    END_EARLY = "end_early", _("提前结束（切换上线）")
    EXTEND = "extend", _("延长测试期")


class SystemTestPeriodChange(models.Model):
    """One change of a test period by the bureau: who, when, why, from which end to which."""

    period = models.ForeignKey(
        SystemTestPeriod, verbose_name=_("测试期"), on_delete=models.PROTECT, related_name="changes"
    )
    kind = models.CharField(
        _("调整方式"), max_length=10, choices=SystemTestPeriodChangeKind.choices
    )
    old_ends_at = models.DateTimeField(_("原结束时间"))
    new_ends_at = models.DateTimeField(_("新结束时间"))
    reason = models.TextField(_("原因"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("调整人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("调整时间"))
    resources = models.JSONField(
        _("计费开始随之调整的资源"), default=list, blank=True, help_text=_("资源 ID 列表。")
    )

    class Meta:
        verbose_name = _("测试期调整记录")
        verbose_name_plural = _("测试期调整记录")
        ordering = ["period", "at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="test_period_change_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.period_id}: {self.get_kind_display()} → {self.new_ends_at:%Y-%m-%d %H:%M}"


# =============================================================================== statements


class ImmutableRecordError(PermissionError):
    """A write to a record that the contract says can no longer change (a signed statement,
    a sign-off, a department bill). Services refuse earlier with an ``ApplicationError``; this
    is the backstop for code that bypasses them (shell, admin, a stray ``update()``)."""


class StatementStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交，待签认")
    DISPUTED = "disputed", _("有异议，退回乙方")
    ESCALATED = "escalated", _("争议已提交审计")
    SIGNED = "signed", _("已签认")
    SUPERSEDED = "superseded", _("已被更正版本取代")


#: A signed statement is frozen; the only write it accepts is becoming superseded.
FROZEN_STATUSES = frozenset({StatementStatus.SIGNED, StatementStatus.SUPERSEDED})

#: The one transition table of a statement version (checked by ``govcloud.workflow``).
TRANSITIONS: dict[str, frozenset[str]] = {
    StatementStatus.DRAFT: frozenset({StatementStatus.SUBMITTED}),
    StatementStatus.SUBMITTED: frozenset({StatementStatus.DISPUTED, StatementStatus.SIGNED}),
    StatementStatus.DISPUTED: frozenset({StatementStatus.ESCALATED}),
    # The auditor's decision: the vendor's figures stand (back to sign-off, or signed when
    # nobody else is pending), or the dispute stands (the vendor issues a new version).
    StatementStatus.ESCALATED: frozenset(
        {StatementStatus.SUBMITTED, StatementStatus.SIGNED, StatementStatus.DISPUTED}
    ),
    StatementStatus.SIGNED: frozenset({StatementStatus.SUPERSEDED}),
    StatementStatus.SUPERSEDED: frozenset(),
}

_SUPERSEDE_FIELDS = frozenset({"status", "superseded_at"})


class StatementQuerySet(models.QuerySet):
    """Bulk writes may not touch statements past the draft stage."""

    def update(self, **kwargs):
        if self.filter(status__in=FROZEN_STATUSES).exists():
            raise ImmutableRecordError("已签认的月度服务资源统计表不能修改。")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.exclude(status=StatementStatus.DRAFT).exists():
            raise ImmutableRecordError("只有草稿状态的统计表可以删除。")
        return super().delete()


class Statement(models.Model):
    """One version of a contract's monthly statement (月度服务资源统计表).

    Every version is kept: a dispute makes the vendor issue a new version, a correction of a
    signed statement is a new version that ``supersedes`` it. Totals are those of the engine
    (``billing.services.engine``) at generation; the lines are frozen once submitted.
    """

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="statements"
    )
    year = models.PositiveSmallIntegerField(_("年"))
    month = models.PositiveSmallIntegerField(_("月"))
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    status = models.CharField(
        _("状态"), max_length=12, choices=StatementStatus.choices, default=StatementStatus.DRAFT
    )
    supersedes = models.ForeignKey(
        "self",
        verbose_name=_("更正的已签认版本"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
    )
    supersede_reason = models.TextField(_("更正原因"), blank=True)
    due_date = models.DateField(
        _("提交期限"),
        null=True,
        blank=True,
        help_text=_("次月第 N 个工作日（合同的 statement_due_working_day）；合同未约定则无。"),
    )
    due_provisional = models.BooleanField(
        _("期限为暂定"), default=False, help_text=_("该年度法定节假日尚未载入，按周末推算。")
    )
    is_late = models.BooleanField(_("逾期提交"), default=False)
    discount = models.DecimalField(_("折扣系数"), max_digits=6, decimal_places=4)
    discount_applies_to = models.CharField(
        _("折扣作用范围"),
        max_length=10,
        choices=DiscountScope.choices,
        default=DiscountScope.SUBTOTAL,
        help_text=_("subtotal：结算金额 = 小计 × 折扣；line：各明细已含折扣，结算金额 = 小计。"),
    )
    vat_rate = models.DecimalField(_("增值税率"), max_digits=5, decimal_places=4)
    subtotal = models.DecimalField(_("小计（元）"), max_digits=14, decimal_places=2)
    total = models.DecimalField(_("结算金额（元）"), max_digits=14, decimal_places=2)
    vat = models.DecimalField(_("其中增值税（元）"), max_digits=14, decimal_places=2)
    generated_at = models.DateTimeField(_("生成时间"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    disputed_at = models.DateTimeField(_("最近异议时间"), null=True, blank=True)
    dispute_opened_at = models.DateTimeField(
        _("争议开始时间"),
        null=True,
        blank=True,
        help_text=_(
            "本月争议的起算时间（跨版本连续的争议从第一次异议起算），"
            "超过合同约定的工作日数提交审计。"
        ),
    )
    signed_at = models.DateTimeField(_("签认完成时间"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("被取代时间"), null=True, blank=True)
    inventory_corrections = models.ManyToManyField(
        "InventoryCorrection",
        verbose_name=_("引用的资源清单更正"),
        blank=True,
        related_name="statements",
        help_text=_("本版本生成时已生效、此前版本尚未引用的资源清单更正。"),
    )

    objects = StatementQuerySet.as_manager()

    class Meta:
        verbose_name = _("月度服务资源统计表")
        verbose_name_plural = _("月度服务资源统计表")
        ordering = ["contract", "-year", "-month", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "year", "month", "version"],
                name="statement_version_unique",
            ),
            # At most one valid signed version and one draft per contract and month.
            models.UniqueConstraint(
                fields=["contract", "year", "month"],
                condition=Q(status="signed"),
                name="statement_one_signed_per_month",
            ),
            models.UniqueConstraint(
                fields=["contract", "year", "month"],
                condition=Q(status="draft"),
                name="statement_one_draft_per_month",
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1) & Q(month__lte=12),
                name="statement_month_valid",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="statement_version_positive"),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0) & Q(total__gte=0) & Q(vat__gte=0),
                name="statement_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["signed", "superseded"]) | Q(signed_at__isnull=False),
                name="statement_signed_has_signed_at",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="statement_submitted_has_submitted_at",
            ),
            models.CheckConstraint(
                condition=Q(supersedes__isnull=True) | ~Q(supersede_reason=""),
                name="statement_correction_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["status", "dispute_opened_at"])]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.period} 第{self.version}版"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored in FROZEN_STATUSES:
                update_fields = kwargs.get("update_fields")
                becomes_superseded = (
                    stored == StatementStatus.SIGNED
                    and self.status == StatementStatus.SUPERSEDED
                    and update_fields is not None
                    and set(update_fields) <= _SUPERSEDE_FIELDS
                )
                if not becomes_superseded:
                    raise ImmutableRecordError("已签认的月度服务资源统计表不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
        if stored is not None and stored != StatementStatus.DRAFT:
            raise ImmutableRecordError("只有草稿状态的统计表可以删除。")
        return super().delete(*args, **kwargs)

    @property
    def period(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def is_frozen(self) -> bool:
        return self.status in FROZEN_STATUSES

    @property
    def discount_on_lines(self) -> bool:
        """The discount is already in every line (total = subtotal)."""
        return self.discount_applies_to == DiscountScope.LINE

    @property
    def subtotal_factor(self) -> Decimal:
        """What the line subtotals are multiplied by to make the total: the discount, or 1
        where the lines already carry it (department bills split by it)."""
        return Decimal(1) if self.discount_on_lines else self.discount


def _refuse_unless_draft(statement_ids: set[int]) -> None:
    if statement_ids and (
        Statement.objects.filter(pk__in=statement_ids)
        .exclude(status=StatementStatus.DRAFT)
        .exists()
    ):
        raise ImmutableRecordError("统计表已提交或已签认，明细不能再修改。")


class StatementLineQuerySet(models.QuerySet):
    """Lines change only while their statement is a draft: what a party confirms is final."""

    def update(self, **kwargs):
        _refuse_unless_draft(set(self.values_list("statement_id", flat=True)))
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse_unless_draft(set(self.values_list("statement_id", flat=True)))
        return super().delete()

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        _refuse_unless_draft({obj.statement_id for obj in objs})
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, *args, **kwargs):
        objs = list(objs)
        _refuse_unless_draft({obj.statement_id for obj in objs})
        return super().bulk_update(objs, *args, **kwargs)


class StatementLine(models.Model):
    """One resource and configuration segment in the month, rounded on its own (never merged).

    Names, codes and prices are copied from the inventory at generation so that a signed
    statement reads the same after a department is renamed or a price is corrected.
    """

    statement = models.ForeignKey(
        Statement, verbose_name=_("统计表"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveIntegerField(_("序号"))
    department = models.ForeignKey(
        "govcloud.Organization",
        verbose_name=_("使用单位"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    department_name = models.CharField(_("使用单位名称"), max_length=200)
    system = models.ForeignKey(
        "govcloud.BusinessSystem",
        verbose_name=_("业务系统"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    system_name = models.CharField(_("业务系统名称"), max_length=120)
    catalog_item = models.ForeignKey(
        CatalogItem, verbose_name=_("目录项"), on_delete=models.PROTECT, related_name="+"
    )
    item_code = models.CharField(_("目录编码"), max_length=40)
    item_name = models.CharField(_("服务名称"), max_length=200)
    unit = models.CharField(_("计量单位"), max_length=20)
    resource = models.ForeignKey(
        Resource, verbose_name=_("云资源"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("数量"))
    unit_price = models.DecimalField(_("单价（元）"), max_digits=12, decimal_places=2)
    price_period = models.CharField(_("计价周期"), max_length=10, choices=PricePeriod.choices)
    divisor = models.PositiveSmallIntegerField(_("折算天数"))
    service_days = models.DecimalField(_("服务天数"), max_digits=6, decimal_places=1)
    amount = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2)
    segment_start = models.DateTimeField(_("计费起"))
    segment_end = models.DateTimeField(_("计费止"))

    objects = StatementLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("统计表明细")
        verbose_name_plural = _("统计表明细")
        ordering = ["statement", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "position"], name="statement_line_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="statement_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(service_days__gt=0) & Q(amount__gte=0),
                name="statement_line_days_positive",
            ),
            models.CheckConstraint(
                condition=Q(segment_end__gt=models.F("segment_start")),
                name="statement_line_segment_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_code} × {self.quantity} · {self.service_days} 天 · {self.amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse_unless_draft({self.statement_id})
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        _refuse_unless_draft({self.statement_id})
        return super().delete(*args, **kwargs)


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRecordError("签认与争议记录只能追加，不能修改。")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableRecordError("签认与争议记录只能追加，不能删除。")


class AppendOnlyModel(models.Model):
    """Rows that are evidence: written once, never changed or deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and type(self).objects.filter(pk=self.pk).exists():
            raise ImmutableRecordError("签认与争议记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRecordError("签认与争议记录只能追加，不能删除。")


class SignoffAction(models.TextChoices):
    CONFIRM = "confirm", _("确认")
    DISPUTE = "dispute", _("提出异议")
    #: The auditor's determination of an escalated dispute in the vendor's favour stands in
    #: for the disputing party's confirmation (包头 §7.1.1: 由监理方委托第三方审计机构确定).
    DETERMINE = "determine", _("审计确定")


class ReauthMethod(models.TextChoices):
    TOTP = "totp", _("动态验证码")
    PASSWORD = "password", _("登录密码")


class StatementSignoff(AppendOnlyModel):
    """One party's act on one statement version: confirm, dispute, or the auditor's ruling."""

    statement = models.ForeignKey(
        Statement, verbose_name=_("统计表"), on_delete=models.PROTECT, related_name="signoffs"
    )
    party = models.ForeignKey(
        "govcloud.ContractParty",
        verbose_name=_("合同当事方"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    on_behalf_of = models.ForeignKey(
        "govcloud.ContractParty",
        verbose_name=_("代为确定的当事方"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("审计确定时，原提出异议的当事方。"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签认人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=10, choices=SignoffAction.choices)
    comment = models.TextField(_("意见"), blank=True)
    at = models.DateTimeField(_("时间"))
    reauth_method = models.CharField(_("身份验证方式"), max_length=10, choices=ReauthMethod.choices)

    class Meta:
        verbose_name = _("统计表签认记录")
        verbose_name_plural = _("统计表签认记录")
        ordering = ["statement", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "party"],
                condition=Q(action="confirm"),
                name="signoff_one_confirmation_per_party",
            ),
            models.UniqueConstraint(
                fields=["statement", "party"],
                condition=Q(action="dispute"),
                name="signoff_one_dispute_per_party",
            ),
            models.UniqueConstraint(
                fields=["statement", "on_behalf_of"],
                condition=Q(action="determine"),
                name="signoff_one_determination_per_party",
            ),
            models.CheckConstraint(
                condition=Q(action="determine", on_behalf_of__isnull=False)
                | (~Q(action="determine") & Q(on_behalf_of__isnull=True)),
                name="signoff_on_behalf_only_for_determination",
            ),
            models.CheckConstraint(
                condition=~Q(action="dispute") | ~Q(comment=""),
                name="signoff_dispute_has_comment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement} · {self.party.organization} · {self.get_action_display()}"


class DisputeComment(AppendOnlyModel):
    """A message in a statement's dispute thread, optionally about one line."""

    statement = models.ForeignKey(
        Statement, verbose_name=_("统计表"), on_delete=models.PROTECT, related_name="comments"
    )
    line = models.ForeignKey(
        StatementLine,
        verbose_name=_("明细"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="comments",
    )
    signoff = models.ForeignKey(
        StatementSignoff,
        verbose_name=_("所属异议"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="comments",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("作者"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("内容"))
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("争议留言")
        verbose_name_plural = _("争议留言")
        ordering = ["statement", "at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="dispute_comment_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.author}: {self.text[:40]}"


class EscalationDecision(models.TextChoices):
    UPHOLD_VENDOR = "uphold_vendor", _("维持乙方统计结果")
    UPHOLD_DISPUTE = "uphold_dispute", _("支持异议，乙方重新出具")


class DisputeEscalation(models.Model):
    """A dispute open longer than the contract's ``dispute_escalation_working_days``, handed
    to the auditor (包头 §7.1.1: 3 working days)."""

    statement = models.ForeignKey(
        Statement, verbose_name=_("统计表"), on_delete=models.PROTECT, related_name="escalations"
    )
    dispute = models.OneToOneField(
        StatementSignoff,
        verbose_name=_("异议"),
        on_delete=models.PROTECT,
        related_name="escalation",
    )
    disputing_party = models.ForeignKey(
        "govcloud.ContractParty",
        verbose_name=_("提出异议的当事方"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("争议开始时间"))
    escalated_at = models.DateTimeField(_("提交审计时间"))
    decision = models.CharField(
        _("审计结论"), max_length=20, choices=EscalationDecision.choices, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审计人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("结论时间"), null=True, blank=True)
    comment = models.TextField(_("审计意见"), blank=True)

    class Meta:
        verbose_name = _("争议审计")
        verbose_name_plural = _("争议审计")
        ordering = ["-escalated_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(decision="") & Q(decided_at__isnull=True))
                | (~Q(decision="") & Q(decided_at__isnull=False)),
                name="escalation_decision_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement} · {self.get_decision_display() or _('待审计')}"


class DepartmentBill(AppendOnlyModel):
    """A department's share of a signed statement (the bill e-mailed to it).

    ``subtotal`` is the sum of its lines; ``total`` its share of the discounted statement total
    and ``vat`` of the VAT, both allocated by largest remainder so that the bills of a
    statement add up to its total and VAT to the fen (``billing.allocation``).
    """

    statement = models.ForeignKey(
        Statement,
        verbose_name=_("统计表"),
        on_delete=models.PROTECT,
        related_name="department_bills",
    )
    department = models.ForeignKey(
        "govcloud.Organization",
        verbose_name=_("使用单位"),
        on_delete=models.PROTECT,
        related_name="bills",
    )
    department_name = models.CharField(_("使用单位名称"), max_length=200)
    subtotal = models.DecimalField(_("小计（元）"), max_digits=14, decimal_places=2)
    total = models.DecimalField(_("应付金额（元）"), max_digits=14, decimal_places=2)
    vat = models.DecimalField(_("其中增值税（元）"), max_digits=14, decimal_places=2)
    lines_count = models.PositiveIntegerField(_("明细条数"))
    created_at = models.DateTimeField(_("生成时间"))

    class Meta:
        verbose_name = _("使用单位账单")
        verbose_name_plural = _("使用单位账单")
        ordering = ["statement", "department_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "department"], name="department_bill_once_per_statement"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement} · {self.department_name} · {self.total}"


# =============================================================================== settlement


class DeductionSource(models.TextChoices):
    MANUAL = "manual", _("人工录入")
    SLA = "sla", _("服务水平考核")


class DeductionStatus(models.TextChoices):
    """包头 §7.1.2 "甲方需在10个工作日内出具书面通知书，乙方签字确认后生效": a deduction on a
    contract with ``deduction_needs_vendor_ack`` is *pending* until the vendor acknowledges the
    notice; an objection sends it back to the bureau, which withdraws or re-issues it. Without
    the term a deduction is effective on entry."""

    PENDING = "pending", _("待乙方确认")
    EFFECTIVE = "effective", _("已生效")
    OBJECTED = "objected", _("乙方有异议")
    WITHDRAWN = "withdrawn", _("已撤回")


class Deduction(models.Model):
    """An amount deducted from a settlement period's fees (包头 §7.1.2 服务要求考核扣款)."""

    TRANSITIONS: dict[str, set[str]] = {
        DeductionStatus.PENDING: {DeductionStatus.EFFECTIVE, DeductionStatus.OBJECTED},
        DeductionStatus.OBJECTED: {DeductionStatus.WITHDRAWN},
        DeductionStatus.EFFECTIVE: set(),
        DeductionStatus.WITHDRAWN: set(),
    }

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="deductions"
    )
    period_label = models.CharField(
        _("结算期"), max_length=30, help_text=_("结算期标识，如 2025-06-20/2025-12-19。")
    )
    amount = models.DecimalField(_("扣款金额（元）"), max_digits=14, decimal_places=2)
    reason = models.TextField(_("扣款原因"))
    source = models.CharField(
        _("来源"), max_length=10, choices=DeductionSource.choices, default=DeductionSource.MANUAL
    )
    sla_ref = models.CharField(_("考核依据"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("录入时间"))
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=DeductionStatus.choices,
        default=DeductionStatus.EFFECTIVE,
    )
    event_on = models.DateField(_("扣款事由发生日"), null=True, blank=True)
    notice_due = models.DateField(
        _("书面通知期限"), null=True, blank=True, help_text=_("事由发生日后的第N个工作日。")
    )
    notice_due_provisional = models.BooleanField(_("期限为临时计算"), default=False)
    notice_late = models.BooleanField(_("通知逾期出具"), default=False)
    effective_at = models.DateTimeField(_("生效时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("乙方确认人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    objection = models.TextField(_("乙方异议"), blank=True)
    objected_at = models.DateTimeField(_("异议时间"), null=True, blank=True)
    objected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("异议人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdraw_reason = models.TextField(_("撤回说明"), blank=True)
    reissue_of = models.OneToOneField(
        "self",
        verbose_name=_("重新出具自"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reissued_as",
    )

    class Meta:
        verbose_name = _("考核扣款")
        verbose_name_plural = _("考核扣款")
        ordering = ["contract", "period_label", "created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="deduction_amount_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="deduction_has_reason"),
            models.CheckConstraint(
                condition=~Q(status="objected") | ~Q(objection=""),
                name="deduction_objection_has_reason",
            ),
            # A scorecard's money is written once per event (``sla_ref``): the database, not
            # only an ``exists()`` check, refuses a second deduction for the same reference.
            models.UniqueConstraint(
                fields=["contract", "sla_ref"],
                condition=~Q(sla_ref=""),
                name="deduction_sla_ref_once",
                violation_error_message=_("该考核依据已生成扣款，不能重复扣款。"),
            ),
        ]
        indexes = [models.Index(fields=["contract", "period_label"])]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.period_label} −{self.amount}"

    @property
    def notice_number(self) -> str:
        return f"KK-{self.contract.code}-{self.pk:05d}"


class Payment(models.Model):
    """Money the bureau paid the vendor, against a contracted installment and/or a settlement
    period (or neither: then it only counts contract-wide)."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="payments"
    )
    installment = models.ForeignKey(
        "govcloud.Installment",
        verbose_name=_("付款期次"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    period_label = models.CharField(_("结算期"), max_length=30, blank=True)
    amount = models.DecimalField(_("付款金额（元）"), max_digits=14, decimal_places=2)
    paid_on = models.DateField(_("付款日期"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("登记时间"))

    class Meta:
        verbose_name = _("付款记录")
        verbose_name_plural = _("付款记录")
        ordering = ["contract", "paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.paid_on} {self.amount}"


class InvoiceStatus(models.TextChoices):
    REGISTERED = "registered", _("待甲方确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("已退回")


class Invoice(models.Model):
    """A VAT invoice the vendor issued for a payment node (a settlement period and/or an
    installment), confirmed by the bureau (包头 §7.2.1, 焦作 §三.3)."""

    TRANSITIONS: dict[str, set[str]] = {
        InvoiceStatus.REGISTERED: {InvoiceStatus.CONFIRMED, InvoiceStatus.REJECTED},
        InvoiceStatus.CONFIRMED: set(),
        InvoiceStatus.REJECTED: set(),
    }

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="invoices"
    )
    number = models.CharField(_("发票号码"), max_length=40)
    issued_on = models.DateField(_("开票日期"))
    amount = models.DecimalField(_("价税合计（元）"), max_digits=14, decimal_places=2)
    tax_amount = models.DecimalField(_("税额（元）"), max_digits=14, decimal_places=2)
    vat_rate = models.DecimalField(_("税率"), max_digits=5, decimal_places=4)
    installment = models.ForeignKey(
        "govcloud.Installment",
        verbose_name=_("付款期次"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    period_label = models.CharField(_("结算期"), max_length=30, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.REGISTERED
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    registered_at = models.DateTimeField(_("登记时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    reject_reason = models.TextField(_("退回原因"), blank=True)

    class Meta:
        verbose_name = _("发票")
        verbose_name_plural = _("发票")
        ordering = ["contract", "issued_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(
                condition=Q(tax_amount__gte=0) & Q(tax_amount__lt=models.F("amount")),
                name="invoice_tax_below_amount",
            ),
            models.CheckConstraint(
                condition=Q(installment__isnull=False) | ~Q(period_label=""),
                name="invoice_has_node",
            ),
            models.UniqueConstraint(
                fields=["contract", "number"],
                condition=~Q(status="rejected"),
                name="invoice_number_unique_per_contract",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.number} {self.amount}"


class FundsArrival(models.Model):
    """The day the fiscal funds for a payment node arrived (焦作 §三.2 "收到财政拨款后20个工作日内
    支付"): it starts the contract's payment clock for that node."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="funds_arrivals"
    )
    period_label = models.CharField(_("结算期"), max_length=30, blank=True)
    installment = models.ForeignKey(
        "govcloud.Installment",
        verbose_name=_("付款期次"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="funds_arrivals",
    )
    arrived_on = models.DateField(_("财政拨款到账日"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("登记时间"))

    class Meta:
        verbose_name = _("财政拨款到账")
        verbose_name_plural = _("财政拨款到账")
        ordering = ["contract", "arrived_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "period_label"],
                condition=Q(installment__isnull=True),
                name="one_funds_arrival_per_period",
            ),
            models.UniqueConstraint(
                fields=["contract", "installment", "period_label"],
                condition=Q(installment__isnull=False),
                name="one_funds_arrival_per_installment",
            ),
            models.CheckConstraint(
                condition=Q(installment__isnull=False) | ~Q(period_label=""),
                name="funds_arrival_has_node",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.period_label} {self.arrived_on}"


class DocumentKind(models.TextChoices):
    STATEMENT = "statement", _("月度服务资源统计表")
    DEPARTMENT_BILL = "department_bill", _("使用单位账单")
    SETTLEMENT = "settlement", _("结算汇总")


def document_path(instance: StatementDocument, filename: str) -> str:
    s = instance.statement
    return f"statements/{s.contract_id}/{s.year}-{s.month:02d}/v{s.version}/{filename}"


class StatementDocument(models.Model):
    """The rendered (and, for statements, signed) PDF of a statement version.

    Kept apart from ``Statement`` so that the statement's own row stays immutable once
    signed while the PDF gains one signature revision per party.
    """

    statement = models.ForeignKey(
        Statement, verbose_name=_("统计表"), on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=DocumentKind.choices)
    department = models.ForeignKey(
        "govcloud.Organization",
        verbose_name=_("使用单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    file = models.FileField(_("PDF 文件"), upload_to=document_path, max_length=300)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    signatures = models.PositiveSmallIntegerField(_("已签名数"), default=0)
    signed_fields = models.JSONField(_("已签名字段"), default=list, blank=True)
    rendered_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("报表文件")
        verbose_name_plural = _("报表文件")
        ordering = ["statement", "kind", "department"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "kind"],
                condition=Q(department__isnull=True),
                name="one_document_per_statement_kind",
            ),
            models.UniqueConstraint(
                fields=["statement", "kind", "department"],
                condition=Q(department__isnull=False),
                name="one_bill_document_per_department",
            ),
            models.CheckConstraint(
                condition=Q(kind="department_bill", department__isnull=False)
                | (~Q(kind="department_bill") & Q(department__isnull=True)),
                name="document_department_only_for_bills",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement} · {self.get_kind_display()}"


# ====================================================================== inventory corrections


class InventoryCorrectionStatus(models.TextChoices):
    PROPOSED = "proposed", _("待会签")
    OBJECTED = "objected", _("有异议")
    APPLIED = "applied", _("已确认，清单已更正")
    WITHDRAWN = "withdrawn", _("已撤回")


class InventoryCorrection(models.Model):
    """A correction of one resource's inventory record (资源清单更正): its times (上线、计费开始、
    下线) and/or one configuration row of its history (生效时间、目录项、数量), with the reason and
    the evidence, confirmed jointly by the parties the terms name (``JointSubject.
    INVENTORY_CORRECTION``; where the terms are silent, the statement's sign-off parties).

    ``old_values`` is the record as it stood when proposed, ``new_values`` only what changes —
    both ``{"resource": {...}, "change": {...}}`` with times as ISO strings and catalog items by
    id. Nothing in the inventory moves before every party confirmed; then the correction is
    applied at once (``billing.services.corrections``) and the statements of ``months`` get a
    new version that cites it (``Statement.inventory_corrections``).
    """

    TRANSITIONS: dict[str, set[str]] = {
        InventoryCorrectionStatus.PROPOSED: {
            InventoryCorrectionStatus.APPLIED,
            InventoryCorrectionStatus.OBJECTED,
            InventoryCorrectionStatus.WITHDRAWN,
        },
        InventoryCorrectionStatus.OBJECTED: {InventoryCorrectionStatus.WITHDRAWN},
        InventoryCorrectionStatus.APPLIED: set(),
        InventoryCorrectionStatus.WITHDRAWN: set(),
    }

    contract = models.ForeignKey(
        Contract,
        verbose_name=_("合同"),
        on_delete=models.PROTECT,
        related_name="inventory_corrections",
    )
    resource = models.ForeignKey(
        Resource, verbose_name=_("云资源"), on_delete=models.PROTECT, related_name="corrections"
    )
    change = models.ForeignKey(
        ResourceChange,
        verbose_name=_("更正的配置记录"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        help_text=_("更正的那条配置与数量记录；补录的记录在更正生效后指向新记录。"),
    )
    adds_change = models.BooleanField(
        _("补录配置变更"), default=False, help_text=_("补录一条漏记的配置或数量变更。")
    )
    old_values = models.JSONField(_("更正前"), default=dict)
    new_values = models.JSONField(_("更正为"), default=dict)
    reason = models.TextField(_("更正原因"))
    months = models.JSONField(
        _("影响的月份"), default=list, blank=True, help_text=_("计费因此改变的月份（YYYY-MM）。")
    )
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=InventoryCorrectionStatus.choices,
        default=InventoryCorrectionStatus.PROPOSED,
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提出人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposer_role = models.CharField(_("提出方"), max_length=20)
    proposed_at = models.DateTimeField(_("提出时间"))
    objected_at = models.DateTimeField(_("异议时间"), null=True, blank=True)
    objection = models.TextField(_("异议理由"), blank=True)
    applied_at = models.DateTimeField(_("生效时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdraw_reason = models.TextField(_("撤回说明"), blank=True)

    class Meta:
        verbose_name = _("资源清单更正")
        verbose_name_plural = _("资源清单更正")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="inventory_correction_has_reason",
                violation_error_message=_("请填写更正原因。"),
            ),
            models.CheckConstraint(
                condition=Q(status="applied", applied_at__isnull=False)
                | (~Q(status="applied") & Q(applied_at__isnull=True)),
                name="inventory_correction_applied_at_iff_applied",
            ),
            models.CheckConstraint(
                condition=~Q(status="objected") | ~Q(objection=""),
                name="inventory_correction_objection_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["contract", "status"])]

    def __str__(self) -> str:
        return f"{self.number} · #{self.resource_id}"

    def get_absolute_url(self) -> str:
        return reverse("inventory_correction_detail", args=[self.pk])

    @property
    def number(self) -> str:
        return f"GZ-{self.contract.code}-{self.pk:05d}"


def correction_evidence_path(instance: InventoryCorrectionEvidence, filename: str) -> str:
    correction = instance.correction
    return f"corrections/{correction.contract_id}/{correction.pk}/{filename}"


class InventoryCorrectionEvidence(models.Model):
    """A file that shows the correct record (platform logs, the delivery ticket, a screenshot):
    包头 7.1.1 "若因系统故障导致工单时间记录异常，则以双方认可的日志数据为准"."""

    correction = models.ForeignKey(
        InventoryCorrection,
        verbose_name=_("资源清单更正"),
        on_delete=models.CASCADE,
        related_name="evidence",
    )
    file = models.FileField(_("文件"), upload_to=correction_evidence_path, max_length=300)
    name = models.CharField(_("文件名"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("更正证明材料")
        verbose_name_plural = _("更正证明材料")
        ordering = ["correction", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name
