"""The annual SLA scorecard of a contract's service year: live until the bureau finalises it.

A finalised card that fails (不及格, 附件2 §11 "不及格需按要求进行整改，整改完成后再进行评分")
is rectified and scored again: each frozen scoring is a ``ScorecardRound`` (round 1 is the
finalisation), each rectification a ``ScorecardRectification`` of the round it answers. The
card's ``snapshot`` is the latest round's; every round's own snapshot stays as it was frozen.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from billing.models import Deduction
from govcloud.models import Contract
from sla.models.records import _user_fk


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
    ``snapshot`` (money as strings); later records do not move it. Only a re-score after a
    confirmed rectification replaces it, by the new round's snapshot; the earlier rounds keep
    theirs (``rounds``).
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

    @property
    def round_history(self) -> list[ScorecardRound]:
        """The frozen rounds, first to latest, with their rectifications (page and PDF)."""
        return list(
            self.rounds.select_related(
                "finalised_by", "penalty_by", "penalty_deduction", "rectification"
            ).order_by("number")
        )


# ---------------------------------------------------------------- rectification and rounds


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("待乙方整改")
    REPORTED = "reported", _("整改报告待确认")
    CONFIRMED = "confirmed", _("整改已确认")
    RESCORED = "rescored", _("已复评")


# REPORTED → REPORTED: the vendor sends a revised report after a joint objection.
# REPORTED → RESCORED: a jointly confirmed report (the joint confirmation is the confirmation).
RECTIFICATION_TRANSITIONS: dict[str, frozenset[str]] = {
    RectificationStatus.OPEN: frozenset({RectificationStatus.REPORTED}),
    RectificationStatus.REPORTED: frozenset(
        {
            RectificationStatus.REPORTED,
            RectificationStatus.CONFIRMED,
            RectificationStatus.OPEN,
            RectificationStatus.RESCORED,
        }
    ),
    RectificationStatus.CONFIRMED: frozenset({RectificationStatus.RESCORED}),
    RectificationStatus.RESCORED: frozenset(),
}


class ScorecardRectification(models.Model):
    """整改 of a failing round: the bureau's requirements, the vendor's report, its confirmation.

    The report is confirmed like an improvement report (附件2 §9.2 "整改报告需经甲方、监理方和
    审计方共同确认"): through the ``improvement_report`` joint confirmation where the terms name
    its parties, else by the bureau. Only then may the bureau score the year again.
    """

    card = models.ForeignKey(
        Scorecard, verbose_name=_("考核表"), on_delete=models.PROTECT, related_name="rectifications"
    )
    round_number = models.PositiveSmallIntegerField(_("整改针对的考核轮次"))
    requirements = models.TextField(_("整改要求"))
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=RectificationStatus.choices,
        default=RectificationStatus.OPEN,
    )
    opened_by = _user_fk(_("发出人"))
    opened_at = models.DateTimeField(_("发出时间"))
    report = models.TextField(_("整改报告"), blank=True)
    report_document = models.FileField(
        _("整改报告文件"), upload_to="sla/scorecard-rectifications/%Y/", blank=True
    )
    reported_by = _user_fk(_("报告人"), null=True)
    reported_at = models.DateTimeField(_("报告提交时间"), null=True, blank=True)
    confirmed_by = _user_fk(_("确认人"), null=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    last_comment = models.TextField(_("最近退回意见"), blank=True)

    class Meta:
        verbose_name = _("考核不及格整改")
        verbose_name_plural = _("考核不及格整改")
        ordering = ["card", "round_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["card", "round_number"], name="scorecard_rectification_once_per_round"
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(reported_at__isnull=False),
                name="scorecard_rectification_reported_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card} 第{self.round_number}轮整改"

    def get_absolute_url(self) -> str:
        return reverse("sla_scorecard", args=[self.card.contract_id, self.card.service_year])


class PenaltyDecision(models.TextChoices):
    CLAIMED = "claimed", _("已主张违约金")
    WAIVED = "waived", _("放弃主张")


class ScorecardRound(models.Model):
    """One frozen scoring of a card: round 1 at finalisation, then one per re-score.

    ``settlement`` records what the round did to the billing deductions (created, kept, or
    left above the new result, with the reason); the termination penalty of 附件2 §11 is
    decided per round (claimed at most once per card).
    """

    card = models.ForeignKey(
        Scorecard, verbose_name=_("考核表"), on_delete=models.PROTECT, related_name="rounds"
    )
    number = models.PositiveSmallIntegerField(_("轮次"))
    snapshot = models.JSONField(_("本轮快照"), encoder=DjangoJSONEncoder)
    finalised_by = _user_fk(_("定稿人"), null=True)
    finalised_at = models.DateTimeField(_("定稿时间"))
    rectification = models.OneToOneField(
        ScorecardRectification,
        verbose_name=_("依据的整改"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rescore",
    )
    settlement = models.JSONField(
        _("扣款处理"), default=list, blank=True, encoder=DjangoJSONEncoder
    )
    penalty_decision = models.CharField(
        _("违约金"), max_length=10, choices=PenaltyDecision.choices, blank=True
    )
    penalty_amount = models.DecimalField(
        _("违约金金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    penalty_reason = models.TextField(_("放弃原因"), blank=True)
    penalty_by = _user_fk(_("决定人"), null=True)
    penalty_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    penalty_deduction = models.OneToOneField(
        Deduction,
        verbose_name=_("违约金扣款"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("考核轮次")
        verbose_name_plural = _("考核轮次")
        ordering = ["card", "number"]
        constraints = [
            models.UniqueConstraint(fields=["card", "number"], name="scorecard_round_unique"),
            models.UniqueConstraint(
                fields=["card"],
                condition=Q(penalty_decision="claimed"),
                name="scorecard_penalty_claimed_once",
            ),
            models.CheckConstraint(
                condition=Q(penalty_decision="")
                | (Q(penalty_at__isnull=False) & Q(penalty_by__isnull=False)),
                name="scorecard_penalty_decision_has_author",
            ),
            models.CheckConstraint(
                condition=~Q(penalty_decision="claimed")
                | (Q(penalty_amount__gt=0) & Q(penalty_deduction__isnull=False)),
                name="scorecard_penalty_claim_has_deduction",
            ),
            models.CheckConstraint(
                condition=~Q(penalty_decision="waived") | ~Q(penalty_reason=""),
                name="scorecard_penalty_waiver_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card} 第{self.number}轮"

    @property
    def total_points(self) -> Decimal:
        return Decimal(self.snapshot["total_points"])
