"""Billing in the bureau's admin site: read-only views of statements, inventory, the test
periods of new systems and settlement.

The priced catalog (editable by the system admin) is in ``billing.catalog_admin``.

Nothing here writes. Statements change only through ``billing.services.statements`` (the
portal and the API) and are immutable once signed; the admin must never offer a way around
that, so every model below refuses add, change and delete — for the superuser too.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing import (  # noqa: F401  (register the catalog admin and the onboarding pages)
    catalog_admin,
    onboarding_admin,
)
from billing.models import (
    Deduction,
    DepartmentBill,
    DisputeComment,
    DisputeEscalation,
    FundsArrival,
    InventoryCorrection,
    InventoryCorrectionEvidence,
    Invoice,
    Payment,
    Resource,
    ResourceChange,
    Statement,
    StatementDocument,
    StatementLine,
    StatementSignoff,
    SystemTestPeriod,
    SystemTestPeriodChange,
)
from govcloud.admin_mixins import BUREAU_STAFF, ReadOnlyMixin, ScopedAdmin
from govcloud.audit_labels import register_action_labels


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class ScopedReadOnlyAdmin(ReadOnlyMixin, ScopedAdmin):
    """Bureau staff read what belongs to their bureau's contracts. Money is business: not the
    audit admin's (it reads the audit trail), nor the system admin's (三员分立)."""

    view_roles = BUREAU_STAFF
    scope_contract = "contract"


class SignoffInline(ReadOnlyInline):
    model = StatementSignoff
    fields = ["at", "party", "action", "on_behalf_of", "user", "reauth_method", "comment"]
    readonly_fields = fields
    ordering = ["at", "id"]


class EscalationInline(ReadOnlyInline):
    model = DisputeEscalation
    fields = [
        "disputing_party",
        "opened_at",
        "escalated_at",
        "decision",
        "decided_by",
        "decided_at",
        "comment",
    ]
    readonly_fields = fields
    fk_name = "statement"


class CommentInline(ReadOnlyInline):
    model = DisputeComment
    fields = ["at", "author", "line", "text"]
    readonly_fields = fields
    fk_name = "statement"


class DepartmentBillInline(ReadOnlyInline):
    model = DepartmentBill
    fields = ["department_name", "lines_count", "subtotal", "total", "vat"]
    readonly_fields = fields


@admin.register(Statement)
class StatementAdmin(ScopedReadOnlyAdmin):
    list_display = [
        "contract",
        "period_display",
        "version",
        "status",
        "total",
        "due_date",
        "is_late",
        "submitted_at",
        "signed_at",
    ]
    list_filter = ["status", "is_late", "contract", "year"]
    search_fields = ["contract__code"]
    list_select_related = ["contract"]
    ordering = ["contract", "-year", "-month", "-version"]
    readonly_fields = [
        "contract",
        "year",
        "month",
        "version",
        "status",
        "supersedes",
        "supersede_reason",
        "due_date",
        "due_provisional",
        "is_late",
        "discount",
        "discount_applies_to",
        "vat_rate",
        "subtotal",
        "total",
        "vat",
        "generated_at",
        "generated_by",
        "submitted_at",
        "submitted_by",
        "disputed_at",
        "dispute_opened_at",
        "signed_at",
        "superseded_at",
        "lines_link",
    ]
    inlines = [SignoffInline, EscalationInline, CommentInline, DepartmentBillInline]

    @admin.display(description=_("统计月份"), ordering="year")
    def period_display(self, obj: Statement) -> str:
        return obj.period

    @admin.display(description=_("明细"))
    def lines_link(self, obj: Statement) -> str:
        url = reverse("admin:billing_statementline_changelist") + f"?statement__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("查看明细（%s 条）") % obj.lines.count())


@admin.register(StatementLine)
class StatementLineAdmin(ScopedReadOnlyAdmin):
    scope_contract = "statement__contract"
    list_display = [
        "statement",
        "position",
        "department_name",
        "system_name",
        "item_code",
        "quantity",
        "unit_price",
        "service_days",
        "amount",
        "segment_start",
        "segment_end",
    ]
    list_filter = ["statement__contract", "statement__status"]
    search_fields = ["department_name", "system_name", "item_code"]
    list_select_related = ["statement__contract"]
    list_per_page = 200
    readonly_fields = [f.name for f in StatementLine._meta.fields]


class ResourceChangeInline(ReadOnlyInline):
    model = ResourceChange
    fields = ["delivered_at", "catalog_item", "quantity", "note"]
    readonly_fields = fields


@admin.register(Resource)
class ResourceAdmin(ScopedReadOnlyAdmin):
    list_display = [
        "id",
        "contract",
        "department",
        "system",
        "catalog_item",
        "quantity",
        "status",
        "online_at",
        "billing_starts_at",
        "offline_at",
        "imported",
    ]
    list_filter = ["contract", "status", "imported"]
    search_fields = ["vendor_ref", "department__name", "system__name", "catalog_item__code"]
    list_select_related = ["contract", "department", "system", "catalog_item"]
    readonly_fields = [f.name for f in Resource._meta.fields]
    inlines = [ResourceChangeInline]


class SystemTestPeriodChangeInline(ReadOnlyInline):
    model = SystemTestPeriodChange
    fields = ["at", "kind", "old_ends_at", "new_ends_at", "reason", "actor", "resources"]
    readonly_fields = fields
    ordering = ["at", "id"]


@admin.register(SystemTestPeriod)
class SystemTestPeriodAdmin(ScopedReadOnlyAdmin):
    """Test periods of new systems (包头 §5.1.2). The bureau changes them in the portal
    (``billing.services.system_test_periods``), never here."""

    list_display = [
        "contract",
        "system",
        "started_at",
        "contract_ends_at",
        "ends_at",
        "changed_at",
        "changed_by",
    ]
    list_filter = ["contract"]
    search_fields = ["system__name", "system__department__name"]
    list_select_related = ["contract", "system", "changed_by"]
    readonly_fields = [f.name for f in SystemTestPeriod._meta.fields]
    inlines = [SystemTestPeriodChangeInline]


@admin.register(Deduction)
class DeductionAdmin(ScopedReadOnlyAdmin):
    list_display = ["contract", "period_label", "amount", "source", "reason", "created_at"]
    list_filter = ["contract", "source"]
    readonly_fields = [f.name for f in Deduction._meta.fields]


@admin.register(Payment)
class PaymentAdmin(ScopedReadOnlyAdmin):
    list_display = ["contract", "installment", "amount", "paid_on", "note", "recorded_at"]
    list_filter = ["contract"]
    readonly_fields = [f.name for f in Payment._meta.fields]


@admin.register(Invoice)
class InvoiceAdmin(ScopedReadOnlyAdmin):
    list_display = ["number", "contract", "issued_on", "amount", "tax_amount", "status"]
    list_filter = ["contract", "status"]
    search_fields = ["number"]
    list_select_related = ["contract"]
    readonly_fields = [f.name for f in Invoice._meta.fields]


@admin.register(FundsArrival)
class FundsArrivalAdmin(ScopedReadOnlyAdmin):
    list_display = ["contract", "period_label", "installment", "arrived_on", "recorded_at"]
    list_filter = ["contract"]
    list_select_related = ["contract", "installment"]
    readonly_fields = [f.name for f in FundsArrival._meta.fields]


@admin.register(StatementDocument)
class StatementDocumentAdmin(ScopedReadOnlyAdmin):
    """Rendered and signed PDFs: how many signatures each carries, and its fingerprint."""

    scope_contract = "statement__contract"
    list_display = ["statement", "kind", "department", "signatures", "sha256", "updated_at"]
    list_filter = ["kind", "statement__contract"]
    search_fields = ["sha256"]
    list_select_related = ["statement__contract", "department"]
    readonly_fields = [f.name for f in StatementDocument._meta.fields]


class CorrectionEvidenceInline(ReadOnlyInline):
    model = InventoryCorrectionEvidence
    fields = ["name", "file", "uploaded_by", "uploaded_at"]
    readonly_fields = fields


@admin.register(InventoryCorrection)
class InventoryCorrectionAdmin(ScopedReadOnlyAdmin):
    """Read-only: a correction is proposed, confirmed (会签) and applied only through
    ``billing.services.corrections``."""

    list_display = ["__str__", "contract", "resource", "status", "proposed_at", "applied_at"]
    list_select_related = ["contract"]
    list_filter = ["status"]
    search_fields = ["reason"]
    readonly_fields = [
        "contract",
        "resource",
        "change",
        "adds_change",
        "old_values",
        "new_values",
        "reason",
        "months",
        "status",
        "proposed_by",
        "proposer_role",
        "proposed_at",
        "objected_at",
        "objection",
        "applied_at",
        "withdrawn_at",
        "withdraw_reason",
    ]
    fields = readonly_fields
    inlines = [CorrectionEvidenceInline]


# ------------------------------------------------------------------------------ audit labels

register_action_labels(
    {
        "organization.create": _("新建单位"),
        "business_system.create": _("新建业务系统"),
        "contract.onboard": _("导入合同"),
        "contract.terminate": _("登记合同终止"),
        "contract.cutover": _("资源切换至后续合同"),
        "contract.handed_over": _("资源已由后续合同承接"),
        "catalog_item.create": _("新增服务目录项"),
        "catalog_item.update": _("修改服务目录项"),
        "catalog_price.create": _("设定目录价格"),
        "catalog_price.change": _("调整目录价格"),
        "inventory.import": _("导入资源清单"),
        "inventory_correction.propose": _("提出资源清单更正"),
        "inventory_correction.object": _("对资源清单更正提出异议"),
        "inventory_correction.withdraw": _("撤回资源清单更正"),
        "inventory_correction.apply": _("执行资源清单更正"),
        "inventory_correction.applied": _("资源清单更正已生效"),
        "test_period.start": _("测试期开始"),
        "test_period.extend": _("延长测试期"),
        "test_period.end_early": _("提前结束测试期"),
        "statement.generate": _("生成月度统计表"),
        "statement.regenerate": _("重新生成月度统计表"),
        "statement.late": _("统计表逾期未提交"),
        "statement.submit": _("提交统计表"),
        "statement.confirm": _("签认统计表"),
        "statement.comment": _("统计表意见"),
        "statement.dispute": _("对统计表提出异议"),
        "statement.escalate": _("统计表争议提交审计裁定"),
        "statement.decide_escalation": _("审计裁定统计表争议"),
        "statement.sign": _("统计表电子签名完成"),
        "statement.supersede": _("以新版本取代已签统计表"),
        "statement.superseded": _("统计表被新版本取代"),
        "statement.reauth_verified": _("签认前身份复核通过"),
        "statement.reauth_failed": _("签认前身份复核失败"),
        "statement.signing_key_refused": _("签名密钥口令错误"),
        "deduction.create": _("出具扣款"),
        "deduction.acknowledge": _("乙方确认扣款"),
        "deduction.object": _("乙方对扣款提出异议"),
        "deduction.withdraw": _("撤回扣款"),
        "deduction.reissue": _("重新出具扣款"),
        "invoice.register": _("登记发票"),
        "invoice.confirm": _("确认发票"),
        "invoice.reject": _("退回发票"),
        "funds_arrival.record": _("登记资金到位"),
        "payment.record": _("登记付款"),
    }
)
