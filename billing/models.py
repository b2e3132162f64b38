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
