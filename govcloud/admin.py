"""The bureau's admin site (Chinese): organisations, users, contracts, catalogs, audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from govcloud import calendar_admin  # noqa: F401  (registers the official calendar)
from govcloud.admin_mixins import AUDIT, BUREAU_STAFF, SECURITY, SYSTEM, RoleAdmin, bureau_role
from govcloud.models import (
    AuditEvent,
    BusinessSystem,
    Contract,
    ContractParty,
    Installment,
    Organization,
    OutboxEmail,
    OutboxStatus,
    User,
)
from govcloud.outbox import outbox_retry, send_outbox_email
from govcloud.selectors import (
    audit_events_for_user,
    contract_ids_for_user,
    contract_list_for_user,
    organizations_for_user,
)

admin.site.site_header = _("政务云服务管理平台 · 管理后台")
admin.site.site_title = _("政务云管理后台")
admin.site.index_title = _("甲方管理")
admin.site.unregister(Group)
admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LockoutAdmin(AccessAttemptAdmin):
    """Locked-out sign-ins: the security admin reviews and clears them."""

    def _allowed(self, request) -> bool:
        return bureau_role(request) in {"superuser", *SECURITY}

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Organization)
class OrganizationAdmin(RoleAdmin):
    manage_roles = SYSTEM
    view_roles = SECURITY | BUREAU_STAFF
    list_display = ["name", "short_name", "kind", "parent", "email", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name"]
    autocomplete_fields = ["parent"]

    def get_queryset(self, request):
        return organizations_for_user(user=request.user).select_related("parent")


class SecurityUserCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "organization", "role", "email")


@admin.register(User)
class UserAdmin(RoleAdmin, DjangoUserAdmin):
    """Accounts and roles: the security admin's work, and no one else's."""

    manage_roles = SECURITY
    add_form = SecurityUserCreationForm
    list_display = ["username", "full_name", "organization", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "organization__kind"]
    search_fields = ["username", "full_name", "email", "organization__name"]
    autocomplete_fields = ["organization"]
    ordering = ["username"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("身份"), {"fields": ("full_name", "email", "phone")}),
        (_("单位与角色"), {"fields": ("organization", "role", "is_active")}),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "full_name",
                    "email",
                    "organization",
                    "role",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    audit_action_prefix = "user"

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("organization")
        if request.user.is_superuser:
            return qs
        return qs.filter(organization__in=organizations_for_user(user=request.user))

    def has_delete_permission(self, request, obj=None):
        # Accounts are deactivated, never deleted: the audit trail refers to them.
        return False


class PartyInline(admin.TabularInline):
    model = ContractParty
    extra = 0
    autocomplete_fields = ["organization"]


class InstallmentInline(admin.TabularInline):
    model = Installment
    extra = 0


@dataclass(frozen=True)
class ContractTool:
    """A button on the contract's admin page, offered by an app above the core."""

    label: str
    url_name: str  # reversed with the contract's pk


_CONTRACT_TOOLS: list[ContractTool] = []


def register_contract_tool(tool: ContractTool) -> None:
    """Apps above the core add their contract-page buttons here (billing: catalog import)."""
    if tool not in _CONTRACT_TOOLS:
        _CONTRACT_TOOLS.append(tool)


def contract_tools(object_id: object) -> list[dict[str, str]]:
    return [
        {"label": str(t.label), "url": reverse(t.url_name, args=[object_id])}
        for t in _CONTRACT_TOOLS
    ]


@admin.register(Contract)
class ContractAdmin(RoleAdmin):
    manage_roles = SYSTEM
    view_roles = BUREAU_STAFF
    list_display = [
        "code",
        "name",
        "service_start",
        "service_end",
        "price_period",
        "discount_factor",
        "status",
    ]
    list_filter = ["status", "price_period", "settlement_cadence"]
    search_fields = ["code", "name"]
    inlines = [PartyInline, InstallmentInline]
    fieldsets = (
        (None, {"fields": ("code", "name", "procurement_no", "status")}),
        (
            _("服务期与计费"),
            {
                "fields": (
                    "service_start",
                    "service_end",
                    "billing_from",
                    "price_period",
                    "proration",
                    "partial_day_rule",
                    "discount_factor",
                    "test_period_months",
                    "vat_rate",
                )
            },
        ),
        (
            _("交付与结算"),
            {
                "fields": (
                    "delivery_working_days",
                    "extended_delivery_working_days",
                    "settlement_cadence",
                    "estimated_amount",
                    "notes",
                )
            },
        ),
    )

    def get_queryset(self, request):
        return contract_list_for_user(user=request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "contract_tools": contract_tools(object_id)}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(AuditEvent)
class AuditEventAdmin(RoleAdmin):
    """Read-only for the audit admin; nobody can add, change or delete events."""

    view_roles = AUDIT
    list_per_page = 50
    list_display = [
        "at",
        "actor_repr",
        "organization",
        "action",
        "object_type",
        "object_repr",
        "ip_address",
    ]
    list_filter = ["action", "object_type", "organization", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_repr", "action", "object_repr", "object_id", "ip_address"]
    date_hierarchy = "at"
    list_select_related = ["organization"]
    readonly_fields = [
        "at",
        "actor_repr",
        "organization",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before",
        "after",
        "ip_address",
        "contract",
    ]
    exclude = ["actor"]

    def get_queryset(self, request):
        return audit_events_for_user(user=request.user).select_related("organization", "contract")

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BusinessSystem)
class BusinessSystemAdmin(RoleAdmin):
    manage_roles = SYSTEM
    view_roles = BUREAU_STAFF
    list_display = ["name", "department", "is_emergency_or_security", "created_at"]
    list_filter = ["is_emergency_or_security"]
    search_fields = ["name", "department__name"]
    autocomplete_fields = ["department"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(department__in=organizations_for_user(user=request.user))
        )


@admin.register(OutboxEmail)
class OutboxEmailAdmin(RoleAdmin):
    """Every e-mail the platform sent or failed to send; failed ones can be queued again."""

    view_roles = BUREAU_STAFF | SYSTEM
    list_display = ["created_at", "recipient", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["recipient", "subject", "key"]
    readonly_fields = [
        "key",
        "recipient",
        "subject",
        "body",
        "attachments",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "contract",
    ]
    actions = ["retry_failed"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(contract_id__in=contract_ids_for_user(request.user))
        )

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("重新发送所选的失败邮件"))
    def retry_failed(self, request, queryset):
        count = 0
        for row in queryset.filter(status=OutboxStatus.FAILED):
            outbox_retry(pk=row.pk)
            send_outbox_email.delay(row.pk)
            count += 1
        messages.info(request, _("已重新排队 %(n)s 封邮件。") % {"n": count})
