"""The annual SLA scorecard of a contract's service year: live until the bureau finalises it."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govcloud.models import Contract


class ScorecardStatus(models.TextChoices):
    LIVE = "live", _("实时（未定稿）")
    FINALISED = "finalised", _("已定稿")


SCORECARD_TRANSITIONS: dict[str, frozenset[str]] = {
    ScorecardStatus.LIVE: frozenset({ScorecardStatus.FINALISED}),
    ScorecardStatus.FINALISED: frozenset(),
}


class Scorecard(models.Model):
    """One row per contract and service year.

    While ``live`` the page recomputes the scorecard from the records on every view and
    ``snapshot`` holds nothing binding. Finalising stores the computed scorecard as JSON in
    ``snapshot`` (money as strings) and never changes it again; later records do not move it.
    """

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="+"
    )
    service_year = models.PositiveSmallIntegerField(_("服务年度"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ScorecardStatus.choices, default=ScorecardStatus.LIVE
    )
    snapshot = models.JSONField(_("定稿快照"), null=True, blank=True, encoder=DjangoJSONEncoder)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("定稿人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    finalised_at = models.DateTimeField(_("定稿时间"), null=True, blank=True)
    # Finalised before every month of the service year had a signed statement: the bureau's
    # reason, who and when, and the months then unsigned (shown on the card and its PDF).
    override_reason = models.TextField(_("强制定稿原因"), blank=True)
    override_months = models.JSONField(_("定稿时未签认的月份"), default=list, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("强制定稿人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    override_at = models.DateTimeField(_("强制定稿时间"), null=True, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="sla/scorecards/%Y/", blank=True)
    pdf_rendered_at = models.DateTimeField(_("PDF 生成时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("服务水平考核表")
        verbose_name_plural = _("服务水平考核表")
        ordering = ["contract", "-service_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "service_year"], name="scorecard_once_per_year"
            ),
            models.CheckConstraint(
                condition=Q(status="live")
                | (Q(snapshot__isnull=False) & Q(finalised_at__isnull=False)),
                name="scorecard_finalised_has_snapshot",
            ),
            models.CheckConstraint(
                condition=Q(override_reason="") | Q(override_at__isnull=False),
                name="scorecard_override_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.service_year} 服务水平考核"

    @property
    def is_final(self) -> bool:
        return self.status == ScorecardStatus.FINALISED

    @property
    def override_months_text(self) -> str:
        return "、".join(f"{k[:4]}年{int(k[5:])}月" for k in self.override_months)
