"""Priced catalogs of each contract; inventory and statements build on them."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govcloud.models import Contract, PricePeriod


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
        ]

    def __str__(self) -> str:
        return (
            f"{self.code} {self.name}（{self.spec}）" if self.spec else f"{self.code} {self.name}"
        )

    @property
    def price_label(self) -> str:
        per = "年" if self.period == PricePeriod.YEAR else "月"
        return f"{self.unit_price} 元/{self.unit}/{per}"


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
    request = models.ForeignKey(
        "requests_app.ResourceRequest",
        verbose_name=_("来源工单"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resource_changes",
    )
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
