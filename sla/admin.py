"""Admin of the ``sla`` app.

* The SLA records, utilization and scorecards: read-only lists for the bureau's staff, limited
  to their contracts (every change goes through the portal and the services). The per-contract
  right-sizing bounds (``RightsizingPolicy``) are contract data kept by the system administrator.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from govcloud.admin_mixins import BUREAU_STAFF, SYSTEM, ReadOnlyMixin, ScopedAdmin
from govcloud.audit_labels import register_action_labels
from sla.models import (
    Deliverable,
    DeliverableSubmission,
    EmergencyPeriod,
    ExitRecord,
    ExitWitness,
    ImprovementNotice,
    MaintenanceNoticeShortfall,
    Outage,
    OutageSignoff,
    Penalty,
    RightsizingAdvice,
    RightsizingPolicy,
    RightsizingReport,
    SatisfactionSurvey,
    Scorecard,
    SecurityIncident,
    SecurityMechanismItem,
    StaffAccessEntry,
    TrainingPlan,
    TrainingSession,
    UtilizationSample,
)
from sla.models.scorecard import ScorecardRectification, ScorecardRound

# ================================================================ SLA records (read-only)
#
# The bureau browses and filters the SLA records here; every change goes through the portal
# (the services check roles, transitions and clocks). Rows are limited to the user's contracts.


class ScopedReadOnlyAdmin(ReadOnlyMixin, ScopedAdmin):
    view_roles = BUREAU_STAFF
    scope_contract = "contract"


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


class OutageSignoffInline(ReadOnlyInline):
    model = OutageSignoff
    fields = ["stage", "party_role", "user", "at", "vendor_caused", "comment"]


@admin.register(Outage)
class OutageAdmin(ScopedReadOnlyAdmin):
    list_display = [
        "pk",
        "title",
        "contract",
        "service_year",
        "started_at",
        "ended_at",
        "planned",
        "status",
        "vendor_caused",
        "backup_restore_failed",
    ]
    list_filter = ["contract", "service_year", "status", "planned", "vendor_caused"]
    search_fields = ["title", "cause"]
    date_hierarchy = "started_at"
    list_select_related = ["contract"]
    inlines = [OutageSignoffInline]


@admin.register(SecurityIncident)
class SecurityIncidentAdmin(ScopedReadOnlyAdmin):
    list_display = ["pk", "title", "contract", "level", "occurred_at", "status", "fully_reported"]
    list_filter = ["contract", "service_year", "level", "status", "fully_reported"]
    search_fields = ["title", "description"]
    list_select_related = ["contract"]


@admin.register(SecurityMechanismItem)
class SecurityMechanismItemAdmin(ScopedReadOnlyAdmin):
    list_display = ["contract", "service_year", "item", "status", "submitted_at", "reviewed_at"]
    list_filter = ["contract", "service_year", "item", "status"]
    list_select_related = ["contract"]


@admin.register(TrainingPlan)
class TrainingPlanAdmin(ScopedReadOnlyAdmin):
    list_display = ["contract", "service_year", "status", "submitted_at", "reviewed_at"]
    list_filter = ["contract", "service_year", "status"]
    list_select_related = ["contract"]


@admin.register(TrainingSession)
class TrainingSessionAdmin(ScopedReadOnlyAdmin):
    list_display = ["held_on", "topic", "contract", "attendees", "status"]
    list_filter = ["contract", "service_year", "status"]
    list_select_related = ["contract"]


class SubmissionInline(ReadOnlyInline):
    model = DeliverableSubmission
    fields = ["number", "submitted_at", "submitted_by", "decision", "reason", "reviewed_at"]


@admin.register(Deliverable)
class DeliverableAdmin(ScopedReadOnlyAdmin):
    list_display = ["title", "contract", "kind", "due_date", "first_submitted_at", "status"]
    list_filter = ["contract", "service_year", "kind", "status", "due_provisional"]
    search_fields = ["title"]
    list_select_related = ["contract"]
    inlines = [SubmissionInline]


@admin.register(SatisfactionSurvey)
class SatisfactionSurveyAdmin(ScopedReadOnlyAdmin):
    list_display = ["title", "contract", "service_year", "status", "closes_on", "eligible_count"]
    list_filter = ["contract", "status"]
    list_select_related = ["contract"]


@admin.register(ImprovementNotice)
class ImprovementNoticeAdmin(ScopedReadOnlyAdmin):
    list_display = ["pk", "title", "contract", "issuer_role", "issued_at", "due_at", "status"]
    list_filter = ["contract", "service_year", "issuer_role", "status", "due_provisional"]
    search_fields = ["title", "description"]
    list_select_related = ["contract"]


@admin.register(Penalty)
class PenaltyAdmin(ScopedReadOnlyAdmin):
    list_display = ["pk", "occurred_on", "contract", "amount", "points", "area", "status"]
    list_filter = ["contract", "service_year", "status", "area"]
    search_fields = ["reason", "clause"]
    list_select_related = ["contract"]


@admin.register(MaintenanceNoticeShortfall)
class MaintenanceNoticeShortfallAdmin(ScopedReadOnlyAdmin):
    list_display = [
        "started_at",
        "contract",
        "required_hours",
        "hours_given",
        "status",
        "noted_at",
    ]
    list_filter = ["contract", "status"]
    list_select_related = ["contract"]


@admin.register(EmergencyPeriod)
class EmergencyPeriodAdmin(ScopedReadOnlyAdmin):
    list_display = ["start_date", "end_date", "contract", "reason", "created_by"]
    list_filter = ["contract"]
    list_select_related = ["contract", "created_by"]


@admin.register(RightsizingPolicy)
class RightsizingPolicyAdmin(ScopedAdmin):
    """Contract data (per-unit bounds of the advice): the system administrator keeps it."""

    manage_roles = SYSTEM
    view_roles = BUREAU_STAFF
    scope_contract = "contract"
    list_display = ["contract", "min_vcpus", "max_vcpus", "min_memory_gb", "max_memory_gb"]
    list_select_related = ["contract"]


class AdviceInline(ReadOnlyInline):
    model = RightsizingAdvice
    fields = [
        "resource",
        "department",
        "system",
        "current_item",
        "current_quantity",
        "action",
        "advised_item",
        "advised_quantity",
        "status",
    ]


@admin.register(RightsizingReport)
class RightsizingReportAdmin(ScopedReadOnlyAdmin):
    list_display = [
        "contract",
        "month",
        "status",
        "due_date",
        "submitted_at",
        "avg_cpu_pct",
        "avg_mem_pct",
        "marked_wrong",
    ]
    list_filter = ["contract", "service_year", "status", "marked_wrong"]
    list_select_related = ["contract"]
    exclude = ["pdf"]
    inlines = [AdviceInline]


@admin.register(UtilizationSample)
class UtilizationSampleAdmin(ScopedReadOnlyAdmin):
    scope_contract = "resource__contract"
    list_display = ["resource", "day", "cpu_pct", "mem_pct", "disk_pct", "disk_used_gb"]
    list_filter = ["resource__contract"]
    date_hierarchy = "day"
    list_select_related = ["resource__catalog_item"]
    raw_id_fields = ["resource"]


class _CardInline(ReadOnlyInline):
    """Shown only inside a card's page, which ``ScorecardAdmin`` already gates by role and
    scopes to the user's contracts: the card's own rows are visible to whoever sees the card."""

    def has_view_permission(self, request, obj=None) -> bool:
        return obj is None or isinstance(obj, Scorecard)


class ScorecardRoundInline(_CardInline):
    """Every frozen round (1 = finalisation, then one per re-score after a rectification)."""

    model = ScorecardRound
    fields = [
        "number",
        "finalised_at",
        "finalised_by",
        "rectification",
        "penalty_decision",
        "penalty_amount",
        "penalty_reason",
        "penalty_deduction",
    ]
    ordering = ["number"]


class ScorecardRectificationInline(_CardInline):
    model = ScorecardRectification
    fields = [
        "round_number",
        "status",
        "requirements",
        "opened_at",
        "report",
        "reported_at",
        "confirmed_at",
        "last_comment",
    ]
    ordering = ["round_number"]


@admin.register(Scorecard)
class ScorecardAdmin(ScopedReadOnlyAdmin):
    list_display = ["contract", "service_year", "status", "finalised_at", "finalised_by"]
    list_filter = ["contract", "status"]
    list_select_related = ["contract", "finalised_by"]
    exclude = ["pdf"]
    inlines = [ScorecardRoundInline, ScorecardRectificationInline]


# ================================================================ the exit (read-only)


class ExitWitnessInline(ReadOnlyInline):
    model = ExitWitness
    fields = ["party", "name"]


@admin.register(ExitRecord)
class ExitRecordAdmin(ScopedReadOnlyAdmin):
    list_display = [
        "pk",
        "contract",
        "system",
        "kind",
        "method",
        "performed_on",
        "status",
        "round",
        "signed_at",
        "confirmed_at",
    ]
    list_filter = ["contract", "kind", "status", "method"]
    search_fields = ["system__name", "scope_note", "authorisation_ref"]
    list_select_related = ["contract", "system"]
    exclude = ["certificate"]
    inlines = [ExitWitnessInline]


@admin.register(StaffAccessEntry)
class StaffAccessEntryAdmin(ScopedReadOnlyAdmin):
    list_display = [
        "person_name",
        "employer",
        "contract",
        "duty",
        "access_from",
        "access_to",
        "undertaking_signed_on",
    ]
    list_filter = ["contract", "duty"]
    search_fields = ["person_name", "employer"]
    list_select_related = ["contract"]
    exclude = ["undertaking_file"]


# ------------------------------------------------------------------------------ audit labels

register_action_labels(
    {
        "outage.report": _("报告故障"),
        "outage.update": _("更新故障记录"),
        "outage.confirm": _("确认故障"),
        "outage.approve_maintenance": _("批准计划维护"),
        "maintenance_notice.update": _("更新维护通知"),
        "maintenance_notice.note": _("维护通知备注"),
        "maintenance_notice.short": _("维护通知提前量不足"),
        "maintenance_notice.cleared": _("维护通知不足已消除"),
        "incident.report": _("报告安全事件"),
        "incident.assess": _("认定安全事件等级"),
        "security_item.submit": _("提交安全机制材料"),
        "security_item.review": _("审核安全机制材料"),
        "security_item.waive": _("免除安全机制项"),
        "training_plan.submit": _("提交培训计划"),
        "training_plan.review": _("审核培训计划"),
        "training_session.record": _("登记培训"),
        "training_session.review": _("审核培训记录"),
        "deliverable.create": _("新建交付物"),
        "deliverable.submit": _("提交交付物"),
        "deliverable.accept": _("接收交付物"),
        "deliverable.reject": _("退回交付物"),
        "deliverable.statement_recorded": _("统计表按期提交记入交付物"),
        "deliverable.statement_resubmitted": _("统计表重新提交记入交付物"),
        "deliverable.statement_found_wrong": _("统计表被认定有误记入交付物"),
        "survey.open": _("发起满意度调查"),
        "survey.respond": _("填写满意度调查"),
        "survey.close": _("结束满意度调查"),
        "notice.issue": _("发出整改通知"),
        "notice.fix": _("报告整改完成"),
        "notice.confirm": _("确认整改完成"),
        "notice.reopen": _("整改未通过，重新整改"),
        "penalty.record": _("登记违约金"),
        "penalty.acknowledge": _("乙方确认违约金"),
        "penalty.withdraw": _("撤回违约金"),
        "emergency_period.create": _("登记应急保障期"),
        "rightsizing.compute": _("计算资源优化建议"),
        "rightsizing.submit": _("提交资源优化报告"),
        "rightsizing.accept": _("接受资源优化建议"),
        "rightsizing.decline": _("不接受资源优化建议"),
        "rightsizing.mark_wrong": _("资源优化建议有误"),
        "rightsizing.digest": _("发送资源优化建议汇总"),
        "utilization.push": _("推送资源利用率数据"),
        "scorecard.finalise": _("服务考核定稿"),
        "scorecard.rescore": _("服务考核复评"),
        "scorecard.penalty_claim": _("主张考核扣款"),
        "scorecard.penalty_waive": _("免除考核扣款"),
        "scorecard.rectification_open": _("要求考核整改"),
        "scorecard.rectification_report": _("报告考核整改"),
        "scorecard.rectification_confirm": _("确认考核整改"),
        "scorecard.rectification_return": _("退回考核整改"),
        "exit_record.create": _("新建退出记录"),
        "exit_record.update": _("更新退出记录"),
        "exit_record.confirm": _("确认退出记录"),
        "exit_record.object": _("对退出记录提出异议"),
        "exit_record.sign": _("退出记录电子签名"),
        "exit_record.signing_key_refused": _("签名密钥口令错误（退出记录）"),
        "staff_access.create": _("登记驻场人员"),
        "staff_access.update": _("更新驻场人员"),
        "staff_access.end": _("驻场人员撤场"),
        "staff_access.register_submit": _("提交驻场人员登记表"),
    }
)
