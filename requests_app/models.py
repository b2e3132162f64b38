"""Resource request tickets (开通 / 变更 / 释放), their reviews, extensions and deliveries."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import CatalogItem, Resource, ResourceChange
from govcloud.models import BusinessSystem, Contract, Organization
from requests_app.clocks import has_clock


class RequestKind(models.TextChoices):
    NEW = "new", _("开通")
    CHANGE = "change", _("变更")
    RELEASE = "release", _("释放")


class RequestStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    IN_REVIEW = "in_review", _("审核中")
    APPROVED = "approved", _("已批准待交付")
    DELIVERED = "delivered", _("已交付")
    RETURNED = "returned", _("已退回修改")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已撤销")


S = RequestStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.IN_REVIEW, S.APPROVED, S.RETURNED, S.REJECTED, S.CANCELLED}),
    S.IN_REVIEW: frozenset({S.IN_REVIEW, S.APPROVED, S.RETURNED, S.REJECTED, S.CANCELLED}),
    S.RETURNED: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}
OPEN_REVIEW_STATES = frozenset({S.SUBMITTED, S.IN_REVIEW})
EDITABLE_STATES = frozenset({S.DRAFT, S.RETURNED})


def overdue_q(now: datetime) -> Q:
    """Overdue: approved and still open at or after its deadline, or delivered late.

    The one rule behind ``ResourceRequestQuerySet.overdue`` and ``ResourceRequest.is_overdue``
    (a late delivery stays overdue even when exempted: the exemption only spares the points).
    Only contracts that set a delivery clock have overdue tickets: under one that says only
    及时 (JZ-2026 四.5) nothing is ever overdue, whatever a ticket approved before the term was
    recorded may still carry.
    """
    return Q(contract__delivery_working_days__isnull=False) & (
        Q(status=RequestStatus.APPROVED, due_at__lte=now)
        | (~Q(status=RequestStatus.APPROVED) & Q(breached=True))
    )


def unexempted_breach_q() -> Q:
    """Delivered late and not ruled the vendor's fault: what awaits the judge's ruling.

    Like ``overdue_q``, never a ticket of a contract without a delivery clock.
    """
    return Q(contract__delivery_working_days__isnull=False, breached=True, exempted=False)


class DeliveryClaimStatus(models.TextChoices):
    """The vendor's claim of a delivery time earlier than the tolerance allows."""

    NONE = "", _("无（按登记时刻或容差内时间）")
    PENDING = "pending", _("待审核方确认")
    CONFIRMED = "confirmed", _("已确认")
    OBJECTED = "objected", _("有异议（以登记时刻为准）")


class ReceiptStatus(models.TextChoices):
    """The requesting department's receipt of a delivered ticket (签收)."""

    NONE = "", _("不适用")
    PENDING = "pending", _("待签收")
    RECEIVED = "received", _("已签收")
    PROBLEM = "problem", _("有问题")


class ReceiptProblem(models.TextChoices):
    NOT_RECEIVED = "not_received", _("未收到资源")
    NOT_AS_REQUESTED = "not_as_requested", _("与申请不符")


#: Receipt transitions: a problem can still be received once resolved; receipt is final.
RECEIPT_TRANSITIONS: dict[str, frozenset[str]] = {
    ReceiptStatus.NONE: frozenset(),
    ReceiptStatus.PENDING: frozenset({ReceiptStatus.RECEIVED, ReceiptStatus.PROBLEM}),
    ReceiptStatus.PROBLEM: frozenset({ReceiptStatus.RECEIVED, ReceiptStatus.PROBLEM}),
    ReceiptStatus.RECEIVED: frozenset(),
}


class ResourceRequestQuerySet(models.QuerySet):
    def overdue(self, now: datetime | None = None) -> ResourceRequestQuerySet:
        return self.filter(overdue_q(now or timezone.now()))

    def not_overdue(self, now: datetime | None = None) -> ResourceRequestQuerySet:
        return self.exclude(overdue_q(now or timezone.now()))


class ResourceRequest(models.Model):
    """A department's ticket; once approved, the vendor delivers (against a deadline where the
    contract sets a delivery clock)."""

    number = models.CharField(_("工单号"), max_length=40, unique=True)
    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="requests"
    )
    department = models.ForeignKey(
        Organization, verbose_name=_("使用单位"), on_delete=models.PROTECT, related_name="requests"
    )
    system = models.ForeignKey(
        BusinessSystem,
        verbose_name=_("业务系统"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    kind = models.CharField(_("类型"), max_length=10, choices=RequestKind.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.DRAFT
    )
    reason = models.TextField(_("申请理由"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    review_step = models.PositiveSmallIntegerField(
        _("当前审核步骤"), default=0, help_text=_("审核链中下一个审核方的序号（从 0 开始）。")
    )
    last_comment = models.TextField(_("最近审核意见"), blank=True)
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True, db_index=True)
    due_at = models.DateTimeField(_("交付截止"), null=True, blank=True, db_index=True)
    due_provisional = models.BooleanField(
        _("截止时间为暂定"),
        default=False,
        help_text=_("所需年度的法定节假日尚未载入，暂按仅周末休息计算。"),
    )
    extended = models.BooleanField(_("已批准延期"), default=False)
    reminder_sent_for = models.DateTimeField(_("已提醒的截止时间"), null=True, blank=True)
    breach_notified_at = models.DateTimeField(_("超时通知时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("交付时间"), null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("交付人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    breached = models.BooleanField(_("超时交付"), default=False)
    exempted = models.BooleanField(_("非乙方原因（免于扣分）"), default=False)
    exemption_reason = models.TextField(_("免责理由"), blank=True)
    exempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("认定人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    # Delivery-time integrity (issue 12 item 5). ``delivered_at`` is the delivery time every
    # rule reads (breach, elapsed days, the inventory); it is the recorded moment until a claim
    # of an earlier time is jointly confirmed, then the claimed time.
    delivery_recorded_at = models.DateTimeField(
        _("交付登记时刻"),
        null=True,
        blank=True,
        help_text=_("乙方在平台上登记交付的时刻。"),
    )
    delivery_claimed_at = models.DateTimeField(
        _("申报的交付时间"),
        null=True,
        blank=True,
        help_text=_("早于登记时刻减容差的交付时间：须附理由与证明，经审核方会签确认后生效。"),
    )
    delivery_claim_reason = models.TextField(_("补录理由"), blank=True)
    delivery_claim_status = models.CharField(
        _("交付时间申报状态"),
        max_length=10,
        choices=DeliveryClaimStatus.choices,
        default=DeliveryClaimStatus.NONE,
        blank=True,
    )
    delivery_claim_decided_at = models.DateTimeField(_("申报确认/异议时间"), null=True, blank=True)
    receipt_status = models.CharField(
        _("签收状态"),
        max_length=10,
        choices=ReceiptStatus.choices,
        default=ReceiptStatus.NONE,
        blank=True,
    )
    receipt_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签收/反馈人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    receipt_at = models.DateTimeField(_("签收/反馈时间"), null=True, blank=True)
    receipt_problem = models.CharField(
        _("问题类型"), max_length=20, choices=ReceiptProblem.choices, blank=True
    )
    receipt_note = models.TextField(_("签收说明 / 问题描述"), blank=True)

    objects = ResourceRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("资源申请工单")
        verbose_name_plural = _("资源申请工单")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["approved", "delivered"])
                | Q(approved_at__isnull=True, due_at__isnull=True),
                name="request_clock_only_after_approval",
            ),
            models.CheckConstraint(
                condition=Q(status="delivered", delivered_at__isnull=False)
                | (~Q(status="delivered") & Q(delivered_at__isnull=True)),
                name="request_delivered_has_time",
            ),
            models.CheckConstraint(
                condition=Q(exempted=False) | Q(breached=True),
                name="request_exemption_only_for_breach",
            ),
            models.CheckConstraint(
                condition=Q(delivery_claim_status="")
                | Q(delivery_claimed_at__isnull=False, delivery_recorded_at__isnull=False),
                name="request_delivery_claim_has_times",
            ),
            models.CheckConstraint(
                condition=Q(receipt_status__in=["", "pending"])
                | Q(receipt_by__isnull=False, receipt_at__isnull=False),
                name="request_receipt_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(receipt_status="problem") | ~Q(receipt_problem=""),
                name="request_receipt_problem_has_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["contract", "status", "due_at"]),
            models.Index(fields=["department", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()} · {self.system}"

    @property
    def is_open_for_delivery(self) -> bool:
        return self.status == RequestStatus.APPROVED

    @property
    def has_delivery_clock(self) -> bool:
        """Whether the ticket's contract sets a delivery period (else: 及时, no deadline)."""
        return has_clock(self.contract)

    @property
    def delivery_claim_pending(self) -> bool:
        return self.delivery_claim_status == DeliveryClaimStatus.PENDING

    @property
    def awaiting_receipt(self) -> bool:
        return self.receipt_status in (ReceiptStatus.PENDING, ReceiptStatus.PROBLEM)

    def is_overdue(self, now: datetime | None = None) -> bool:
        """The rule of ``overdue_q`` for one ticket in memory."""
        now = now or timezone.now()
        if not self.has_delivery_clock:
            return False
        if self.status == RequestStatus.APPROVED:
            return self.due_at is not None and self.due_at <= now
        return self.breached


class RequestLine(models.Model):
    """One item of a ticket: a catalog item to open, or an existing resource to change/release."""

    request = models.ForeignKey(
        ResourceRequest, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="lines"
    )
    catalog_item = models.ForeignKey(
        CatalogItem, verbose_name=_("目录项"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(
        _("数量"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("开通：数量；变更：变更后的数量；释放：留空。"),
    )
    resource = models.ForeignKey(
        Resource,
        verbose_name=_("现有资源"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="request_lines",
    )
    previous_item = models.ForeignKey(
        CatalogItem,
        verbose_name=_("变更前目录项"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    previous_quantity = models.PositiveIntegerField(_("变更前数量"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    delivered_resource = models.ForeignKey(
        Resource,
        verbose_name=_("交付的资源"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    vendor_ref = models.CharField(_("乙方资源标识"), max_length=200, blank=True)
    # The configuration this line's delivery wrote into the resource's history (none for a
    # release). The link points from the ticket down to billing, never the other way.
    resource_change = models.OneToOneField(
        ResourceChange,
        verbose_name=_("资源变更记录"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="request_line",
    )

    class Meta:
        verbose_name = _("工单明细")
        verbose_name_plural = _("工单明细")
        ordering = ["request", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gt=0),
                name="request_line_quantity_positive",
            ),
        ]

    def __str__(self) -> str:
        qty = f" × {self.quantity}" if self.quantity else ""
        return f"{self.catalog_item.code}{qty}"


def attachment_path(instance: RequestAttachment, filename: str) -> str:
    return f"requests/{instance.request_id}/{filename}"


class AttachmentPurpose(models.TextChoices):
    REQUEST = "request", _("申请材料")
    DELIVERY_EVIDENCE = "delivery_evidence", _("交付时间证明")


class RequestAttachment(models.Model):
    request = models.ForeignKey(
        ResourceRequest,
        verbose_name=_("工单"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("文件"), upload_to=attachment_path)
    name = models.CharField(_("文件名"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    purpose = models.CharField(
        _("用途"),
        max_length=20,
        choices=AttachmentPurpose.choices,
        default=AttachmentPurpose.REQUEST,
    )

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.name


class ReviewDecision(models.TextChoices):
    APPROVED = "approved", _("同意")
    RETURNED = "returned", _("退回修改")
    REJECTED = "rejected", _("驳回")


class Review(models.Model):
    request = models.ForeignKey(
        ResourceRequest, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="reviews"
    )
    step = models.PositiveSmallIntegerField(_("审核步骤"))
    party_role = models.CharField(_("审核方"), max_length=20)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision = models.CharField(_("结论"), max_length=10, choices=ReviewDecision.choices)
    comment = models.TextField(_("意见"), blank=True)
    decided_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("审核记录")
        verbose_name_plural = _("审核记录")
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.request.number} {self.get_decision_display()}"


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待甲方审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")


class ExtensionRequest(models.Model):
    """The vendor's written request, before the deadline, for the contract's extended delivery
    period (BT-2025: 5 working days instead of 2); only under contracts that allow one."""

    request = models.ForeignKey(
        ResourceRequest, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="extensions"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    reason = models.TextField(_("延期理由"))
    expected_completion = models.DateTimeField(_("预计完成时间"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_comment = models.TextField(_("审批意见"), blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status="pending"),
                name="one_pending_extension_per_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request.number} 延期 {self.get_status_display()}"
