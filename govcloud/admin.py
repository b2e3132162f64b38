"""The bureau's admin site (Chinese): organisations, users, contracts, catalogs, audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from govcloud import (  # noqa: F401  (register the official calendar and API tokens)
    calendar_admin,
    token_admin,
)
from govcloud.admin_mixins import (
    AUDIT,
    BUREAU_STAFF,
    PLATFORM_OPERATOR,
    SECURITY,
    SYSTEM,
    USER_ADMINISTRATORS,
    RoleAdmin,
    ScopedAdmin,
    ScopedInline,
    ScopedTypedChoiceField,
    ScopeViolation,
    admin_role,
    audit_forbidden,
    refusal_reporter,
)
from govcloud.audit import FINDING_LABELS, audit_log, audit_verify
from govcloud.exceptions import ApplicationError
from govcloud.invitations import (
    invitation_create,
    invitation_problems,
    invitation_resend,
    invitation_revoke,
)
from govcloud.models import (
    USER_ADMIN_KINDS,
    AuditEvent,
    BusinessSystem,
    Contract,
    ContractParty,
    Installment,
    Invitation,
    Organization,
    OrganizationKind,
    OutboxEmail,
    OutboxStatus,
    PartyRole,
    Role,
    User,
)
from govcloud.outbox import outbox_retry, send_outbox_email
from govcloud.selectors import (
    audit_events_for_user,
    organizations_administered_by,
    organizations_invitable_by,
    roles_assignable_by,
)

admin.site.site_header = _("政务云服务管理平台 · 管理后台")
admin.site.site_title = _("政务云管理后台")
admin.site.index_title = _("甲方管理")
admin.site.unregister(Group)
admin.site.unregister(AccessAttempt)


def _rescope(model, **attrs) -> None:
    """Put a third-party app's admin (registered before ours) behind the same scope and roles."""
    if not admin.site.is_registered(model):
        return
    base = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    admin.site.register(model, type(f"Scoped{base.__name__}", (ScopedAdmin, base), attrs))


# Sign-in records of the users one administers (read-only); devices and DRF tokens: superuser.
_rescope(AccessLog, scope_username="username", view_roles=USER_ADMINISTRATORS)
_rescope(AccessFailureLog, scope_username="username", view_roles=USER_ADMINISTRATORS)
_rescope(TOTPDevice, scope_organization="user__organization")
if apps.is_installed("rest_framework.authtoken"):
    from rest_framework.authtoken.models import TokenProxy

    _rescope(TokenProxy, scope_organization="user__organization")


@admin.register(AccessAttempt)
class LockoutAdmin(ScopedAdmin, AccessAttemptAdmin):
    """Locked-out sign-ins of the users one administers: reviewed and cleared (unlocked) by the
    bureau's security admin or the party's user admin. Each unlock is audited."""

    view_roles = USER_ADMINISTRATORS
    scope_username = "username"

    def has_delete_permission(self, request, obj=None):
        return self._role_in(request, self.view_roles)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Clearing expired attempts platform-wide is the platform's housekeeping, not a bureau's.
        if not request.user.is_superuser:
            actions.pop("cleanup_expired_attempts", None)
        return actions

    def delete_model(self, request, obj):
        audit_log(
            actor=request.user,
            action="auth.unlock",
            obj=obj,
            before={
                "username": obj.username,
                "ip_address": obj.ip_address,
                "failures": obj.failures_since_start,
            },
        )
        obj.delete()


@admin.register(Organization)
class OrganizationAdmin(ScopedAdmin):
    """A bureau's system admin keeps its departments (and its own record); the platform operator
    keeps the parties' organisations. Nobody edits another bureau or its departments."""

    manage_roles = SYSTEM | PLATFORM_OPERATOR
    view_roles = BUREAU_STAFF
    scope_organization = "pk"
    list_display = ["name", "short_name", "kind", "parent", "email", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name"]
    autocomplete_fields = ["parent"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent")

    def kinds_managed(self, request) -> frozenset[str]:
        if request.user.is_superuser:
            return frozenset(OrganizationKind.values)
        role = admin_role(request)
        if role == Role.SYSTEM_ADMIN:
            return frozenset({OrganizationKind.DEPARTMENT})
        if role == Role.PLATFORM_OPERATOR:
            return USER_ADMIN_KINDS
        return frozenset()

    def scoped_choices(self, request, db_field):
        choices = super().scoped_choices(request, db_field)
        if db_field.name == "parent" and choices is not None:
            return choices.filter(kind=OrganizationKind.BUREAU)
        return choices

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name != "kind":
            return super().formfield_for_choice_field(db_field, request, **kwargs)
        kinds = self.kinds_managed(request)
        kwargs["choices"] = [c for c in OrganizationKind.choices if c[0] in kinds]
        kwargs.setdefault("choices_form_class", ScopedTypedChoiceField)
        field = super().formfield_for_choice_field(db_field, request, **kwargs)
        field.refused = refusal_reporter(request, Organization, "kind")
        return field

    def _manages(self, request, obj) -> bool:
        return (
            obj is None
            or request.user.is_superuser
            or obj.kind in self.kinds_managed(request)
            or obj.pk == request.user.organization_id
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.kind not in self.kinds_managed(request):
            readonly += ["kind", "parent"]  # its own record: the name and e-mail only
        return readonly

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._manages(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None
            or request.user.is_superuser
            or (obj.kind in self.kinds_managed(request) and obj.pk != request.user.organization_id)
        )


class UserScopeFormMixin:
    """The role must be one the acting administrator may give in the chosen organisation."""

    _scope_request = None  # set on the form class built for each request (UserAdmin.get_form)

    def clean(self):
        cleaned = super().clean()
        request = self._scope_request
        if request is None:
            return cleaned
        org = (
            cleaned.get("organization")
            if "organization" in self.fields
            else self.instance.organization
        )
        role = cleaned.get("role") if "role" in self.fields else self.instance.role
        if org is not None and role and role not in roles_assignable_by(request.user, org.kind):
            self.add_error("role", _("您不能在该单位授予此角色。"))
            audit_forbidden(request, model=User, field="role", value=role, organization=org.pk)
        return cleaned


class SecurityUserCreationForm(UserScopeFormMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "organization", "role", "email")


class ScopedUserChangeForm(UserScopeFormMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


#: Fields nobody changes on their own account.
SELF_PROTECTED = ("organization", "role", "is_active", "is_superuser")


@admin.register(User)
class UserAdmin(ScopedAdmin, DjangoUserAdmin):
    """Accounts: the bureau's security admin for its bureau and departments, a party's user
    admin for its own organisation. Nobody changes their own role, organisation or status."""

    manage_roles = USER_ADMINISTRATORS
    scope_organization = "organization"
    add_form = SecurityUserCreationForm
    form = ScopedUserChangeForm
    list_display = ["username", "full_name", "organization", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "organization__kind"]
    search_fields = ["username", "full_name", "email", "organization__name"]
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

    def scope_q(self, request):
        # Users are administered more narrowly than organisations are seen.
        if request.user.is_superuser:
            return Q()
        return Q(organization__in=organizations_administered_by(request.user).values("pk"))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization")

    def scoped_choices(self, request, db_field):
        if db_field.name == "organization":
            return organizations_administered_by(request.user)
        return super().scoped_choices(request, db_field)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name != "role":
            return super().formfield_for_choice_field(db_field, request, **kwargs)
        kinds = set(organizations_administered_by(request.user).values_list("kind", flat=True))
        offered = set().union(*(roles_assignable_by(request.user, k) for k in kinds))
        kwargs["choices"] = [c for c in Role.choices if c[0] in offered]
        kwargs.setdefault("choices_form_class", ScopedTypedChoiceField)
        field = super().formfield_for_choice_field(db_field, request, **kwargs)
        field.refused = refusal_reporter(request, User, "role")
        return field

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form._scope_request = request
        return form

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            readonly += [f for f in SELF_PROTECTED if f not in readonly]
        return readonly

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and object_id is not None and str(request.user.pk) == object_id:
            current = {
                "organization": str(request.user.organization_id or ""),
                "role": request.user.role,
            }
            for name in SELF_PROTECTED:
                if name in request.POST and request.POST[name] != current.get(name):
                    audit_forbidden(request, model=User, field=name, value=request.POST[name])
        return super().changeform_view(request, object_id, form_url, extra_context)

    def user_change_password(self, request, id, form_url=""):
        parent = super().user_change_password
        response = self._guarded(request, lambda: parent(request, id, form_url))
        if (
            request.method == "POST"
            and response.status_code == 302
            and response.url != request.get_full_path()
        ):
            target = User.objects.get(pk=id)
            audit_log(actor=request.user, action="user.admin_password_reset", obj=target)
        return response

    def has_delete_permission(self, request, obj=None):
        # Accounts are deactivated, never deleted: the audit trail refers to them.
        return False


class InvitationForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["organization", "username", "full_name", "email"]

    def clean(self):
        cleaned = super().clean()
        organization, username = cleaned.get("organization"), cleaned.get("username")
        if organization is not None and username:
            for problem in invitation_problems(organization=organization, username=username):
                self.add_error(None, problem)
        return cleaned


@admin.register(Invitation)
class InvitationAdmin(ScopedAdmin):
    """Inviting a party's user administrator (once): the platform operator, or a bureau's
    security admin for a party on one of the bureau's contracts. Pending invitations can be
    sent again or revoked; nothing else — the accepted user is the party's own."""

    manage_roles = SECURITY | PLATFORM_OPERATOR
    scope_organization = "invited_by_organization"
    form = InvitationForm
    list_display = [
        "organization",
        "username",
        "email",
        "status",
        "expires_at",
        "sent_count",
        "invited_by",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["username", "email", "organization__name"]
    list_select_related = ["organization", "invited_by"]
    actions = ["resend", "revoke"]

    def scoped_choices(self, request, db_field):
        if db_field.name == "organization":
            return organizations_invitable_by(request.user)
        return super().scoped_choices(request, db_field)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*self.form._meta.fields, "status", "expires_at", "sent_count", "accepted_at"]

    def has_change_permission(self, request, obj=None):
        return False  # re-send and revoke are actions; an invitation is never edited

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._role_in(request, self.manage_roles):
            return {}
        return actions

    def save_model(self, request, obj, form, change):
        try:
            created, _token = invitation_create(
                actor=request.user,
                organization=obj.organization,
                username=obj.username,
                email=obj.email,
                full_name=obj.full_name,
            )
        except ApplicationError as exc:
            detail = {"organization": obj.organization_id, "refused": exc.message}
            raise ScopeViolation(detail) from exc
        # The admin logs and redirects with this instance: make it the saved one.
        obj.pk, obj.user_id, obj.token_hash = created.pk, created.user_id, created.token_hash
        obj.expires_at, obj.status = created.expires_at, created.status
        obj._state.adding = False
        messages.success(request, _("邀请已发送至 %(email)s。") % {"email": obj.email})

    @admin.action(description=_("重新发送所选的待接受邀请"))
    def resend(self, request, queryset):
        for invitation in queryset:
            try:
                invitation_resend(actor=request.user, invitation=invitation)
            except ApplicationError as exc:
                messages.error(request, f"{invitation}: {exc.message}")
            else:
                messages.success(request, _("已重新发送：%(i)s") % {"i": invitation})

    @admin.action(description=_("撤销所选的待接受邀请"))
    def revoke(self, request, queryset):
        for invitation in queryset:
            try:
                invitation_revoke(actor=request.user, invitation=invitation)
            except ApplicationError as exc:
                messages.error(request, f"{invitation}: {exc.message}")
            else:
                messages.success(request, _("已撤销：%(i)s") % {"i": invitation})


class PartyInline(ScopedInline, admin.TabularInline):
    model = ContractParty
    extra = 0
    autocomplete_fields = ["organization"]

    def scoped_choices(self, request, db_field):
        if db_field.name == "organization" and not request.user.is_superuser:
            # The bureau itself, and the parties (shared firms), never another bureau.
            return Organization.objects.filter(
                Q(pk=request.user.organization_id, kind=OrganizationKind.BUREAU)
                | Q(kind__in=USER_ADMIN_KINDS)
            )
        return super().scoped_choices(request, db_field)


class InstallmentInline(ScopedInline, admin.TabularInline):
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
class ContractAdmin(ScopedAdmin):
    manage_roles = SYSTEM
    view_roles = BUREAU_STAFF
    scope_contract = "pk"
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
        return super().get_queryset(request).prefetch_related("parties__organization")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        org = request.user.organization
        if not change and org is not None and org.kind == OrganizationKind.BUREAU:
            # A bureau's system admin adds contracts of its own bureau.
            ContractParty.objects.create(
                contract=obj,
                organization=org,
                role=PartyRole.BUREAU,
                review_order=1,
                signoff_order=1,
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "contract_tools": contract_tools(object_id)}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(AuditEvent)
class AuditEventAdmin(RoleAdmin):
    """Read-only for the audit admin; nobody can add, change or delete events. The audit admin
    can also verify the hash chain ("审计日志校验", a button on the list)."""

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
        "seq",
        "prev_hash",
        "row_hash",
    ]
    exclude = ["actor"]

    def get_queryset(self, request):
        return audit_events_for_user(user=request.user).select_related("organization", "contract")

    def get_urls(self):
        verify = path(
            "verify/",
            self.admin_site.admin_view(self.verify_view),
            name="govcloud_auditevent_verify",
        )
        return [verify, *super().get_urls()]

    def verify_view(self, request):
        """Walk the whole chain (it is global) and show what was found, by seq and id only."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        result = audit_verify()
        audit_log(
            actor=request.user,
            action="audit.verify",
            after={
                "intact": result.intact,
                "checked": result.checked,
                "head_seq": result.head_seq,
                "counts": result.counts,
            },
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("审计日志校验"),
            "result": result,
            "findings": [(FINDING_LABELS[f.kind], f) for f in result.findings],
        }
        return TemplateResponse(request, "admin/govcloud/auditevent/verify.html", context)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BusinessSystem)
class BusinessSystemAdmin(ScopedAdmin):
    manage_roles = SYSTEM
    view_roles = BUREAU_STAFF
    scope_organization = "department"
    list_display = ["name", "department", "is_emergency_or_security", "created_at"]
    list_filter = ["is_emergency_or_security"]
    search_fields = ["name", "department__name"]
    autocomplete_fields = ["department"]


@admin.register(OutboxEmail)
class OutboxEmailAdmin(ScopedAdmin):
    """Every e-mail of the bureau's contracts the platform sent or failed to send (statements
    and bills among them: business staff only); failed ones can be queued again."""

    view_roles = BUREAU_STAFF
    scope_contract = "contract"
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
