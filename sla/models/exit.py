"""The end of a contract's service (退出): who had access to the bureau's data, and what became
of the data of each business system.

* ``StaffAccessEntry`` — one line of the 《接触甲方信息人员名单》 (BT-2025 附件5 2(6)): a person
  of the vendor (or of its supply chain) with access to the bureau's data or operations, the
  scope of that access, from when to when, and the 《人员信息保密协议》 they signed. An entry ends
  when the access is revoked (附件4 (4) "及时取消原云服务商对资源的电子访问权限"). The vendor
  submits the register as a deliverable (kind ``staff_register``); ``register`` is the
  deliverable the entry was last submitted in, so the bureau's acceptance files (备案) it.
* ``ExitRecord`` — a data return (返还) or deletion (删除) record of one business system, with
  its method, date, scope (data, backups, media), witnesses, and the vendor's certificate as a
  PDF signed with the vendor's key; confirmed by the parties the contract's terms name for
  ``data_deletion`` (BT-2025 附件4 3(4): 管理方、监理方), or by the bureau alone (JZ-2026 五.11
  "将删除情况书面(加盖公章)报至甲方").

Only ``sla.services.exit`` writes these tables.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govcloud.models import BusinessSystem, Contract
from sla.models.records import _user_fk

# ---------------------------------------------------------------- 接触甲方信息人员名单


class StaffDuty(models.TextChoices):
    OPERATIONS = "operations", _("技术运维")
    SUPPLY_CHAIN = "supply_chain", _("供应链")
    DEVELOPMENT = "development", _("开发实施")
    SECURITY = "security", _("安全服务")
    MANAGEMENT = "management", _("项目管理")
    OTHER = "other", _("其他")


class StaffAccessEntry(models.Model):
    """One person with access to the bureau's data or operations (附件5 2(6)).

    Active while ``access_to`` is empty or today; an entry is ended (``access_to`` set,
    ``ended_at``) when the access is revoked, never deleted: the register keeps who had access
    when, for the five years the confidentiality lasts (附件5 3(1)).
    """

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="+"
    )
    person_name = models.CharField(_("姓名"), max_length=60)
    employer = models.CharField(
        _("所属单位"), max_length=200, help_text=_("乙方或其供应链单位的名称。")
    )
    duty = models.CharField(_("岗位类别"), max_length=20, choices=StaffDuty.choices)
    position = models.CharField(_("岗位/职责"), max_length=120, blank=True)
    access_scope = models.TextField(
        _("接触范围"), help_text=_("可接触的数据、系统或业务运行信息，及访问方式。")
    )
    access_from = models.DateField(_("接触起始日"))
    access_to = models.DateField(
        _("接触终止日"), null=True, blank=True, help_text=_("访问权限取消之日；空表示仍在接触。")
    )
    end_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    ended_at = models.DateTimeField(_("取消登记时间"), null=True, blank=True)
    ended_by = _user_fk(_("取消登记人"), null=True)
    undertaking_signed_on = models.DateField(_("保密协议签订日"))
    undertaking_file = models.FileField(
        _("《人员信息保密协议》"), upload_to="sla/exit/undertakings/%Y/%m/"
    )
    register = models.ForeignKey(
        "sla.Deliverable",
        verbose_name=_("所在名单（交付物）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("最近一次随名单提交的交付物；此后修改过则为空（待重新提交备案）。"),
    )
    created_by = _user_fk(_("登记人"))
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("接触甲方信息人员")
        verbose_name_plural = _("接触甲方信息人员名单")
        ordering = ["contract", "person_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(access_to__isnull=True) | Q(access_to__gte=models.F("access_from")),
                name="staff_access_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(undertaking_signed_on__lte=models.F("access_from")),
                name="staff_undertaking_before_access",
            ),
        ]
        indexes = [models.Index(fields=["contract", "access_to"])]

    def __str__(self) -> str:
        return f"{self.person_name}（{self.employer}）"

    def is_active(self, today) -> bool:
        return self.access_to is None or self.access_to >= today


# ---------------------------------------------------------------- 数据返还与删除记录


class ExitKind(models.TextChoices):
    RETURN = "return", _("数据返还")
    DELETION = "deletion", _("数据删除")


class ExitMethod(models.TextChoices):
    # returning the data (附件4 2: 根据移交数据清单完整返还数据)
    TRANSFER = "transfer", _("在线迁移/传输")
    MEDIA_HANDOVER = "media_handover", _("存储介质移交")
    # deleting it (JZ 五.11: 彻底删除…并进行覆盖写; BT 附件4 3(3))
    OVERWRITE = "overwrite", _("删除并覆盖写")
    CRYPTO_ERASE = "crypto_erase", _("销毁加密密钥（密码擦除）")
    OTHER = "other", _("其他（见说明）")


RETURN_METHODS = frozenset({ExitMethod.TRANSFER, ExitMethod.MEDIA_HANDOVER, ExitMethod.OTHER})
DELETION_METHODS = frozenset({ExitMethod.OVERWRITE, ExitMethod.CRYPTO_ERASE, ExitMethod.OTHER})


class MediaMethod(models.TextChoices):
    """BT 附件4 3(4): 重用前应进行介质清理…不可清理的介质应物理销毁."""

    NONE = "", _("不涉及存储介质")
    SANITIZE = "sanitize", _("介质清理")
    DESTROY = "destroy", _("物理销毁")


class ExitStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    OBJECTED = "objected", _("有异议")


EXIT_TRANSITIONS: dict[str, frozenset[str]] = {
    ExitStatus.DRAFT: frozenset({ExitStatus.SUBMITTED}),
    ExitStatus.SUBMITTED: frozenset({ExitStatus.CONFIRMED, ExitStatus.OBJECTED}),
    # After an objection the vendor corrects the record (back to draft) or signs it again.
    ExitStatus.OBJECTED: frozenset({ExitStatus.DRAFT, ExitStatus.SUBMITTED}),
    ExitStatus.CONFIRMED: frozenset(),
}


class ExitRecord(models.Model):
    """The return or the deletion of one business system's data at the end of the service.

    The vendor records it (draft), signs its certificate (the PDF rendered from the record and
    signed with the vendor's key: submitted), and the parties confirm it.
    """

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="+"
    )
    system = models.ForeignKey(
        BusinessSystem, verbose_name=_("业务系统"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=ExitKind.choices)
    method = models.CharField(_("方式"), max_length=20, choices=ExitMethod.choices)
    method_detail = models.TextField(_("方式说明"), blank=True)
    media_method = models.CharField(
        _("存储介质处置"), max_length=10, choices=MediaMethod.choices, blank=True
    )
    performed_on = models.DateField(_("实施日期"))
    scope_data = models.BooleanField(_("业务数据"), default=False)
    scope_backups = models.BooleanField(_("备份数据"), default=False)
    scope_media = models.BooleanField(_("存储介质"), default=False)
    scope_note = models.TextField(
        _("范围说明"),
        help_text=_("返还：移交数据清单（含历史、归档数据及文档资料）；删除：删除的数据及备份。"),
    )
    authorisation_ref = models.CharField(
        _("甲方书面授权"),
        max_length=200,
        blank=True,
        help_text=_("删除所依据的甲方书面授权或要求（文号、日期）。"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ExitStatus.choices, default=ExitStatus.DRAFT
    )
    round = models.PositiveSmallIntegerField(
        _("签署次数"), default=0, help_text=_("乙方签署证明的次数（异议后重新签署加一）。")
    )
    certificate = models.FileField(
        _("乙方证明（已签名 PDF）"), upload_to="sla/exit/certificates/%Y/%m/", blank=True
    )
    certificate_sha256 = models.CharField(_("证明 SHA-256"), max_length=64, blank=True)
    signed_at = models.DateTimeField(_("乙方签署时间"), null=True, blank=True)
    signed_by = _user_fk(_("乙方签署人"), null=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    confirmed_by = _user_fk(_("确认人"), null=True)
    objection = models.TextField(_("异议"), blank=True)
    objected_at = models.DateTimeField(_("异议时间"), null=True, blank=True)
    objected_by = _user_fk(_("异议人"), null=True)
    created_by = _user_fk(_("登记人"))
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("数据返还与删除记录")
        verbose_name_plural = _("数据返还与删除记录")
        ordering = ["-performed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope_data=True) | Q(scope_backups=True) | Q(scope_media=True),
                name="exit_record_has_scope",
            ),
            # Both texts: a deletion covers the backups too (BT 附件4 3(3) "删除数据及所有
            # 备份"; JZ 五.11 "彻底删除(包括相关备份文件)").
            models.CheckConstraint(
                condition=~Q(kind="deletion") | Q(scope_data=True, scope_backups=True),
                name="exit_deletion_includes_backups",
            ),
            models.CheckConstraint(
                condition=Q(scope_media=False, media_method="")
                | (Q(scope_media=True) & ~Q(media_method="")),
                name="exit_media_method_iff_media",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["submitted", "confirmed"]) | ~Q(certificate=""),
                name="exit_signed_has_certificate",
            ),
        ]
        indexes = [models.Index(fields=["contract", "system", "kind"])]

    def __str__(self) -> str:
        return f"{self.system} {self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("sla_exit_record_detail", args=[self.pk])

    def scope_labels(self) -> list[str]:
        labels = []
        for field in ("scope_data", "scope_backups", "scope_media"):
            if getattr(self, field):
                labels.append(str(self._meta.get_field(field).verbose_name))
        return labels


class WitnessParty(models.TextChoices):
    BUREAU = "bureau", _("甲方（管理方）")
    VENDOR = "vendor", _("乙方")
    SUPERVISOR = "supervisor", _("监理方")
    AUDITOR = "auditor", _("审计方")
    DEPARTMENT = "department", _("使用单位")


class ExitWitness(models.Model):
    """Who witnessed (supervised) the return or deletion: a party and a person."""

    record = models.ForeignKey(
        ExitRecord, verbose_name=_("记录"), on_delete=models.CASCADE, related_name="witnesses"
    )
    party = models.CharField(_("见证方"), max_length=20, choices=WitnessParty.choices)
    name = models.CharField(_("见证人"), max_length=60)

    class Meta:
        verbose_name = _("见证人")
        verbose_name_plural = _("见证人")
        ordering = ["record", "id"]

    def __str__(self) -> str:
        return f"{self.get_party_display()} {self.name}"
