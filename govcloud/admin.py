"""The bureau's admin site (Chinese): organisations, users, contracts, catalogs, audit trail."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import Group
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from billing.models import CatalogItem
from billing.services import catalog_import
from govcloud.admin_mixins import AUDIT, BUREAU_STAFF, SECURITY, SYSTEM, RoleAdmin, bureau_role
from govcloud.exceptions import ApplicationError
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
from govcloud.selectors import organizations_for_user

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


class CatalogImportForm(forms.Form):
    file = forms.FileField(
        label=_("目录 CSV 文件"),
        help_text=_("列：code,section,name,spec,unit,unit_price,period（UTF-8）"),
    )


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
        from govcloud.selectors import contract_list_for_user

        return contract_list_for_user(user=request.user)

    def get_urls(self):
        urls = super().get_urls()
        return [
            path(
                "<int:pk>/import-catalog/",
                self.admin_site.admin_view(self.import_catalog_view),
                name="govcloud_contract_import_catalog",
            ),
            *urls,
        ]

    def import_catalog_view(self, request, pk: int):
        contract = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, contract):
            messages.error(request, _("只有系统管理员可以导入服务目录。"))
            return redirect(reverse("admin:govcloud_contract_change", args=[pk]))
        form = CatalogImportForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["file"].read()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                errors = [str(_("文件不是 UTF-8 编码的 CSV。"))]
            else:
                try:
                    result = catalog_import(actor=request.user, contract=contract, csv_text=text)
                except ApplicationError as exc:
                    errors = [exc.message, *exc.extra.get("errors", [])]
                else:
                    messages.success(
                        request,
                        _("导入完成：新增 %(c)s 项，更新 %(u)s 项，未变 %(n)s 项。")
                        % {"c": result.created, "u": result.updated, "n": result.unchanged},
                    )
                    return redirect(reverse("admin:govcloud_contract_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "contract": contract,
            "form": form,
            "errors": errors,
            "title": _("导入服务目录"),
        }
        return render(request, "admin/govcloud/contract/import_catalog.html", context)


@admin.register(CatalogItem)
class CatalogItemAdmin(RoleAdmin):
    manage_roles = SYSTEM
    view_roles = BUREAU_STAFF
    list_display = [
        "code",
        "contract",
        "section",
        "name",
        "spec",
        "unit",
        "unit_price",
        "period",
        "is_active",
    ]
    list_filter = ["contract", "section", "period", "is_active"]
    search_fields = ["code", "name", "spec"]
    list_select_related = ["contract"]

    def get_queryset(self, request):
        from govcloud.selectors import contract_ids_for_user

        return (
            super()
            .get_queryset(request)
            .filter(contract_id__in=contract_ids_for_user(request.user))
        )


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
        from govcloud.selectors import audit_events_for_user

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
        from govcloud.selectors import contract_ids_for_user

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
        from govcloud.outbox import outbox_retry
        from govcloud.tasks import send_outbox_email

        count = 0
        for row in queryset.filter(status=OutboxStatus.FAILED):
            outbox_retry(pk=row.pk)
            send_outbox_email.delay(row.pk)
            count += 1
        messages.info(request, _("已重新排队 %(n)s 封邮件。") % {"n": count})
