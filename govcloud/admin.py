"""The bureau's admin site (Chinese): organisations, users, contracts, catalogs, audit trail."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from axes.admin import AccessAttemptAdmin, IsLockedOutFilter
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp import admin as otp_totp_admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from govcloud import (  # noqa: F401  (register the official calendar, API tokens and jobs)
    calendar_admin,
    jobs_admin,
    lifecycle,
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
from govcloud.audit import FINDING_LABELS, audit_log, audit_verify, model_snapshot
from govcloud.audit_labels import action_label, object_type_label
from govcloud.dates import business_today
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
    ContractClause,
    ContractParty,
    ContractStatus,
    Installment,
    Invitation,
    JointConfirmation,
    JointConfirmationEntry,
    JointSubject,
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
from govcloud.terms import TERM_GROUPS, display_value, group_label, term_def, term_defs

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


# django-axes and django-otp name their pages' sections, filters and columns in English; the
# models and fields themselves get their Chinese names in govcloud/apps.py.
_CLIENT = (_("客户端"), {"fields": ("user_agent", "ip_address", "http_accept")})

# Sign-in records of the users one administers (read-only); devices and DRF tokens: superuser.
_rescope(
    AccessLog,
    scope_username="username",
    view_roles=USER_ADMINISTRATORS,
    fieldsets=(
        (None, {"fields": ("username", "path_info", "attempt_time", "logout_time")}),
        _CLIENT,
    ),
)
_rescope(
    AccessFailureLog,
    scope_username="username",
    view_roles=USER_ADMINISTRATORS,
    fieldsets=(
        (None, {"fields": ("username", "path_info", "attempt_time", "locked_out")}),
        _CLIENT,
    ),
)
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)

_TOTP_SECTIONS = {
    "Identity": _("设备"),
    "Timestamps": _("时间"),
    "Configuration": _("参数"),
    "State": _("状态"),
    "Throttling": _("失败限制"),
}
_TOTP_HELP = {
    "user": _("该设备所属的用户。"),
    "name": _("便于识别的设备名称。"),
    "confirmed": _("用户已用该设备成功验证过一次，设备可用。"),
    "key": _("十六进制编码的密钥（至多 40 字节），保存后不再显示。"),
    "step": _("每个验证码的有效时长（秒）。"),
    "t0": _("开始计算时间步的 Unix 时间。"),
    "digits": _("验证码的位数。"),
    "tolerance": _("允许前后偏差的时间步数。"),
    "drift": _("该设备时钟与服务器相差的时间步数。"),
    "throttling_failure_timestamp": _("最近一次验证失败的时间；上次验证成功则为空。"),
    "throttling_failure_count": _("连续验证失败的次数。"),
    "created_at": _("设备创建的时间。"),
    "last_used_at": _("最近一次使用该设备的时间。"),
}


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(ScopedAdmin, otp_totp_admin.TOTPDeviceAdmin):
    """Users' authenticator devices (superuser): django-otp's admin, in Chinese."""

    scope_organization = "user__organization"
    search_help_text = _("按用户名或电子邮件搜索")

    def get_fieldsets(self, request, obj=None):
        return [
            (_TOTP_SECTIONS.get(title, title) if title else None, options)
            for title, options in super().get_fieldsets(request, obj)
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["help_texts"] = {**_TOTP_HELP, **kwargs.get("help_texts", {})}
        return super().get_form(request, obj, change, **kwargs)


class LockedOutFilter(IsLockedOutFilter):
    title = _("是否锁定")


if apps.is_installed("rest_framework.authtoken"):
    from rest_framework.authtoken.models import TokenProxy

    _rescope(TokenProxy, scope_organization="user__organization")


@admin.register(AccessAttempt)
class LockoutAdmin(ScopedAdmin, AccessAttemptAdmin):
    """Locked-out sign-ins of the users one administers: reviewed and cleared (unlocked) by the
    bureau's security admin or the party's user admin. Each unlock is audited."""

    view_roles = USER_ADMINISTRATORS
    scope_username = "username"
    list_filter = [
        LockedOutFilter if f is IsLockedOutFilter else f for f in AccessAttemptAdmin.list_filter
    ]
    fieldsets = (
        (None, {"fields": ("username", "failures_since_start", "expiration")}),
        (_("提交内容"), {"fields": ("path_info", "get_data", "post_data")}),
        _CLIENT,
    )
    actions = ["cleanup_expired_attempts"]

    @admin.display(description=_("状态"))
    def status(self, obj):
        remaining = settings.AXES_FAILURE_LIMIT - obj.failures_since_start
        if remaining > 0:
            return _("还可尝试 %(n)s 次") % {"n": remaining}
        return _("已锁定")

    @admin.display(description=_("到期时间"))
    def expiration(self, obj):
        """Axes counts failures from the last one for the cool-off time, then forgets them."""
        expiration = getattr(obj, "expiration", None)
        until = (
            expiration.expires_at if expiration else obj.attempt_time + settings.AXES_COOLOFF_TIME
        )
        return _("%(t)s（届时失败次数清零，锁定自动解除）") % {
            "t": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")
        }

    @admin.action(description=_("清理已过期的锁定记录"))
    def cleanup_expired_attempts(self, request, queryset):
        count = self.handler.clean_expired_user_attempts(request=request)
        self.message_user(request, _("已清理 %(n)s 条过期的锁定记录。") % {"n": count})

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


# ------------------------------------------------------------------------------ contracts
#
# The system admin keeps the contract and its terms (DESIGN §4a); bureau staff read them. The
# inlines (parties: review chain and sign-off order; installments; clause citations) follow the
# contract's roles, and every change of the contract or of an inline row is audited with its
# before and after.

#: Who edits a contract and who reads it (the inlines follow the same roles).
CONTRACT_MANAGERS = SYSTEM
CONTRACT_READERS = BUREAU_STAFF
NO_RULE = _("留空 = 合同未约定")


def _contract_role_in(request, roles: frozenset[str]) -> bool:
    role = admin_role(request)
    return role == "superuser" or (role is not None and role in roles)


class ContractInlineRoles:
    """An inline of the contract page: editable by the contract's managers, read by its readers
    (Django's own model permissions are not used on this site)."""

    def has_view_permission(self, request, obj=None):
        return _contract_role_in(request, CONTRACT_MANAGERS | CONTRACT_READERS)

    def has_add_permission(self, request, obj=None):
        return _contract_role_in(request, CONTRACT_MANAGERS)

    def has_change_permission(self, request, obj=None):
        return _contract_role_in(request, CONTRACT_MANAGERS)

    def has_delete_permission(self, request, obj=None):
        return _contract_role_in(request, CONTRACT_MANAGERS)


class PartyFormSet(BaseInlineFormSet):
    """The parties as the contract needs them: one bureau, who reviews and signs; the vendor
    signs; no two parties at the same place of the review chain or the sign-off order (the rows
    not on the page count too)."""

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        rows = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        shown = {form.instance.pk for form in self.forms if form.instance.pk is not None}
        if self.instance.pk is not None:
            rows += [
                {
                    "role": p.role,
                    "is_lead": p.is_lead,
                    "review_order": p.review_order,
                    "signoff_order": p.signoff_order,
                }
                for p in ContractParty.objects.filter(contract=self.instance).exclude(pk__in=shown)
            ]
        problems = []
        for name, label in (("review_order", _("审核顺序")), ("signoff_order", _("签认顺序"))):
            places = [row[name] for row in rows if row.get(name) is not None]
            twice = sorted({place for place in places if places.count(place) > 1})
            if twice:
                problems.append(
                    _("%(label)s %(places)s 重复：每个位置只能有一个当事方。")
                    % {"label": label, "places": "、".join(str(t) for t in twice)}
                )
        bureaus = [row for row in rows if row.get("role") == PartyRole.BUREAU]
        if len(bureaus) != 1:
            problems.append(_("合同须有且只有一个甲方。"))
        elif bureaus[0].get("review_order") is None or bureaus[0].get("signoff_order") is None:
            problems.append(_("甲方须在审核链和签认顺序中。"))
        if not any(
            row.get("role") == PartyRole.VENDOR and row.get("signoff_order") is not None
            for row in rows
        ):
            problems.append(_("乙方须在签认顺序中。"))
        if problems:
            raise ValidationError(problems)


class PartyInline(ContractInlineRoles, ScopedInline, admin.TabularInline):
    model = ContractParty
    formset = PartyFormSet
    extra = 0
    autocomplete_fields = ["organization"]
    verbose_name_plural = _("合同当事方（审核顺序 = 资源申请审核链；签认顺序 = 统计表签认顺序）")

    def scoped_choices(self, request, db_field):
        if db_field.name == "organization" and not request.user.is_superuser:
            # The bureau itself, and the parties (shared firms), never another bureau.
            return Organization.objects.filter(
                Q(pk=request.user.organization_id, kind=OrganizationKind.BUREAU)
                | Q(kind__in=USER_ADMIN_KINDS)
            )
        return super().scoped_choices(request, db_field)


class InstallmentInline(ContractInlineRoles, ScopedInline, admin.TabularInline):
    model = Installment
    extra = 0


def _clause_term_choices() -> list[tuple[str, str]]:
    return [("", "---------")] + [
        (t.key, f"{group_label(t.key)} · {t.label}（{t.key}）") for t in term_defs()
    ]


class ClauseForm(forms.ModelForm):
    term = forms.ChoiceField(label=_("条款项"), choices=_clause_term_choices)

    class Meta:
        model = ContractClause
        fields = ["term", "clause", "quote"]


class ClauseInline(ContractInlineRoles, ScopedInline, admin.TabularInline):
    """Where each term comes from: clause number and a short quote (the terms page shows it)."""

    model = ContractClause
    form = ClauseForm
    extra = 0
    fields = ["term", "clause", "quote"]


class PartyRolesField(forms.MultipleChoiceField):
    """A list of party roles (a JSON list on the contract) as checkboxes, in the roles' order."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(choices=PartyRole.choices, **kwargs)

    def clean(self, value):
        chosen = set(super().clean(value))
        return [role for role in PartyRole.values if role in chosen]

    def has_changed(self, initial, data):
        return set(initial or []) != set(data or [])


class RoleGridWidget(forms.Widget):
    """One row per subject, one checkbox per party role; the value is ``{subject: [roles]}``.

    Plain HTML (no script, no inline style): the admin runs under a strict CSP.
    """

    def __init__(self, rows, columns, attrs=None):
        super().__init__(attrs)
        self.rows = [(str(v), str(label)) for v, label in rows]
        self.columns = [(str(v), str(label)) for v, label in columns]

    def value_from_datadict(self, data, files, name):
        getlist = getattr(data, "getlist", None)
        value = {}
        for subject, _label in self.rows:
            key = f"{name}_{subject}"
            roles = getlist(key) if getlist else data.get(key) or []
            if isinstance(roles, str):
                roles = [roles]
            if roles:
                value[subject] = list(roles)
        return value

    def value_omitted_from_data(self, data, files, name):
        return False  # like checkboxes: nothing ticked is a value (no joint confirmation)

    def id_for_label(self, id_):
        return ""  # a grid of checkboxes, each with its own label: the field label points nowhere

    def render(self, name, value, attrs=None, renderer=None):
        value = _grid_value(value)
        header = format_html_join("", "<th scope='col'>{}</th>", ((c,) for _v, c in self.columns))
        rows = []
        for subject, subject_label in self.rows:
            cells = format_html_join(
                "",
                "<td><input type='checkbox' name='{}' value='{}' id='{}' aria-label='{}'{}></td>",
                (
                    (
                        f"{name}_{subject}",
                        role,
                        f"id_{name}_{subject}_{role}",
                        f"{subject_label} · {role_label}",
                        mark_safe(" checked") if role in value.get(subject, []) else "",
                    )
                    for role, role_label in self.columns
                ),
            )
            rows.append(format_html("<tr><th scope='row'>{}</th>{}</tr>", subject_label, cells))
        return format_html(
            "<table class='role-grid' id='{}'><thead><tr><th>{}</th>{}</tr></thead>"
            "<tbody>{}</tbody></table>",
            (attrs or {}).get("id", f"id_{name}"),
            _("事项 \\ 当事方"),
            header,
            mark_safe("".join(str(r) for r in rows)),  # noqa: S308 - each row is format_html
        )


def _grid_value(value) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value or "{}")
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


class RoleGridField(forms.Field):
    """``joint_confirmations``: which parties must jointly confirm what, as a checkbox grid."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", RoleGridWidget(JointSubject.choices, PartyRole.choices))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = _grid_value(value)
        unknown_subjects = [s for s in value if s not in JointSubject.values]
        if unknown_subjects:
            raise ValidationError(
                _("未知的共同确认事项：%(s)s。") % {"s": "、".join(unknown_subjects)}
            )
        result = {}
        for subject in JointSubject.values:
            roles = value.get(subject) or []
            unknown = [r for r in roles if r not in PartyRole.values]
            if unknown:
                raise ValidationError(_("未知的当事方角色：%(r)s。") % {"r": "、".join(unknown)})
            if roles:
                result[subject] = [r for r in PartyRole.values if r in roles]
        return result

    def has_changed(self, initial, data):
        try:
            return self.to_python(initial) != self.to_python(data)
        except ValidationError:
            return True


def _term_fields(*keys: str) -> tuple[str, ...]:
    return tuple(f for f in (term_def(k).field for k in keys) if f)


def _group_keys(first: str) -> tuple[str, ...]:
    """The keys of the group of ``TERM_GROUPS`` that begins with ``first``."""
    return next(keys for _label, keys in TERM_GROUPS if keys[0] == first)


#: The contract page: its terms in the groups of the terms page (``TERM_GROUPS``).
CONTRACT_FIELDSETS = (
    (None, {"fields": ("code", "name", "procurement_no", "status")}),
    (_("服务期"), {"fields": ("service_start", "service_end", "estimated_amount")}),
    (
        _("计费"),
        {
            "fields": (
                "billing_from",
                "price_period",
                "proration",
                *_term_fields(*_group_keys("billing_from")[2:]),
            )
        },
    ),
    (
        _("工单"),
        {
            "fields": _term_fields(*_group_keys("review_chain")),
            "description": _("资源申请审核链 = 下方“合同当事方”的审核顺序。"),
        },
    ),
    (
        _("统计表"),
        {
            "fields": _term_fields(*_group_keys("signoff_order")),
            "description": _("月度统计表签认顺序 = 下方“合同当事方”的签认顺序。"),
        },
    ),
    (_("服务水平"), {"fields": _term_fields(*_group_keys("scorecard"))}),
    (_("结算"), {"fields": _term_fields(*_group_keys("settlement_cadence"))}),
    (_("合同终止"), {"fields": _term_fields(*_group_keys("termination_notice_days"))}),
    (_("备注"), {"fields": ("notes",)}),
)


class ContractAdminForm(forms.ModelForm):
    """The contract with its terms; a term left empty is one the contract does not set."""

    maintenance_approvers = PartyRolesField(
        label=_("计划维护须同意的当事方"),
        help_text=_("勾选须批准计划维护的当事方；都不勾 = 合同未约定（只需通知，无须批准）。"),
    )
    joint_confirmations = RoleGridField(
        label=_("须共同确认的事项"),
        help_text=_("每个事项勾选须共同确认的当事方；整行不勾 = 合同未约定该事项须共同确认。"),
    )

    class Meta:
        model = Contract
        fields = [f for _name, opts in CONTRACT_FIELDSETS for f in opts["fields"]]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        by_field = {t.field: t for t in term_defs() if t.field}
        for name, field in self.fields.items():
            term = by_field.get(name)
            model_field = Contract._meta.get_field(name)
            if term is None or not model_field.null:
                continue
            # The model's own help, without its "留空…" sentence: the line below says it.
            own = str(model_field.help_text or "").split("留空")[0].rstrip("；;，,。 ")
            meaning = str(term.none_text)
            field.help_text = (
                (f"{own}。" if own else "")
                + f"{NO_RULE}"
                + (f"（{meaning}）" if meaning != "合同未约定" else "")
                + "。"
            )


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


@dataclass(frozen=True)
class ContractListTool:
    """A page of the contract admin offered by an app above the core, linked from the contract
    list (billing: onboarding a contract). ``view(model_admin, request)`` runs behind the admin
    site's login; it checks its own permission."""

    label: Any
    route: str  # under /admin/govcloud/contract/
    url_name: str  # reversed as "admin:<url_name>"
    view: Callable[..., Any]


_CONTRACT_LIST_TOOLS: list[ContractListTool] = []


def register_contract_list_tool(tool: ContractListTool) -> None:
    if all(t.url_name != tool.url_name for t in _CONTRACT_LIST_TOOLS):
        _CONTRACT_LIST_TOOLS.append(tool)


@admin.register(Contract)
class ContractAdmin(ScopedAdmin):
    manage_roles = CONTRACT_MANAGERS
    view_roles = CONTRACT_READERS
    scope_contract = "pk"
    form = ContractAdminForm
    list_display = [
        "code",
        "name",
        "service_start",
        "service_end",
        "price_period",
        "discount_factor",
        "status",
        "effective_end_display",
    ]
    list_filter = ["status", "price_period", "settlement_cadence"]
    search_fields = ["code", "name"]
    inlines = [PartyInline, InstallmentInline, ClauseInline]
    fieldsets = CONTRACT_FIELDSETS
    #: The life-cycle is shown, never edited here: its state follows the dates and terms, and
    #: activation, cutover and termination are the bureau's business actions in the portal
    #: (the administrators do no business, 三员分立), each audited by its service.
    LIFECYCLE_FIELDS = (
        "state_today",
        "status",
        "activated_at",
        "effective_end_display",
        "continuation_deadline_display",
        "predecessor",
        "cutover_on",
        "successor_display",
        "termination_notice_on",
        "terminates_on",
        "termination_reason",
    )
    #: Shown instead of the JSON terms to those who only read the contract.
    READ_ONLY_DISPLAY = {
        "maintenance_approvers": "maintenance_approvers_display",
        "joint_confirmations": "joint_confirmations_display",
    }

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("successor")
            .prefetch_related("parties__organization")
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.insert(
                1,
                (
                    _("合同生命周期"),
                    {
                        "fields": self.LIFECYCLE_FIELDS,
                        "description": _(
                            "状态按日期和条款推算（每日刷新并在每次生命周期操作时更新）；启用、"
                            "后续合同承接和提前终止由甲方在门户办理。"
                        ),
                    },
                ),
            )
        if self.has_change_permission(request, obj):
            return fieldsets
        return [
            (name, {**opts, "fields": [self.READ_ONLY_DISPLAY.get(f, f) for f in opts["fields"]]})
            for name, opts in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, *(f for f in self.LIFECYCLE_FIELDS if f not in readonly)]

    @admin.display(description=_("今日状态"))
    def state_today(self, obj):
        return ContractStatus(lifecycle.contract_state(obj)).label

    @admin.display(description=_("实际结束日"))
    def effective_end_display(self, obj):
        return lifecycle.last_service_day(lifecycle.facts_of(obj), business_today())

    @admin.display(description=_("期满继续服务截止日"))
    def continuation_deadline_display(self, obj):
        deadline = lifecycle.continuation_deadline(lifecycle.facts_of(obj))
        if deadline is None:
            return _("合同未约定")
        return f"{deadline.day:%Y-%m-%d}" + (_("（暂定）") if deadline.provisional else "")

    @admin.display(description=_("后续合同"))
    def successor_display(self, obj):
        successor = lifecycle.successor_of(obj)
        return successor.code if successor else "—"

    @admin.display(description=_("计划维护须同意的当事方"))
    def maintenance_approvers_display(self, obj):
        return display_value(term_def("maintenance_approvers"), obj.maintenance_approvers or None)

    @admin.display(description=_("须共同确认的事项"))
    def joint_confirmations_display(self, obj):
        return display_value(term_def("joint_confirmations"), obj.joint_confirmations or None)

    def get_inline_instances(self, request, obj=None):
        # A new contract is saved first (its bureau is the admin's own); parties, installments
        # and clauses are then edited on its page.
        if obj is None:
            return []
        return super().get_inline_instances(request, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Dates and terms may have changed: the stored state follows (audited when it moves).
        lifecycle.contract_refresh_state(contract=obj, actor=request.user)
        org = request.user.organization
        if not change and org is not None and org.kind == OrganizationKind.BUREAU:
            # A bureau's system admin adds contracts of its own bureau.
            party = ContractParty.objects.create(
                contract=obj,
                organization=org,
                role=PartyRole.BUREAU,
                review_order=1,
                signoff_order=1,
            )
            audit_log(
                actor=request.user,
                action="contractparty.admin_create",
                obj=party,
                after=model_snapshot(party),
            )

    def save_formset(self, request, form, formset, change):
        """Save an inline and audit each row it created, changed or deleted (before/after)."""
        prefix = formset.model._meta.model_name
        initial = [f.instance.pk for f in formset.initial_forms if f.instance.pk is not None]
        before = {
            obj.pk: model_snapshot(obj) for obj in formset.model.objects.filter(pk__in=initial)
        }
        for deleted in formset.deleted_forms:
            if deleted.instance.pk is not None:
                audit_log(
                    actor=request.user,
                    action=f"{prefix}.admin_delete",
                    obj=deleted.instance,
                    before=before.get(deleted.instance.pk),
                )
        kept = [f for f in formset.initial_forms if f not in formset.deleted_forms]
        if formset.model is ContractParty:
            # Places may be swapped in one save: free those of the rows on the page first, so
            # that no row is written while another still holds its new place.
            ContractParty.objects.filter(pk__in=[f.instance.pk for f in kept]).update(
                review_order=None, signoff_order=None
            )
        super().save_formset(request, form, formset, change)
        if formset.model is ContractParty:
            changed = {obj.pk for obj, _fields in formset.changed_objects}
            for unchanged in kept:
                if unchanged.instance.pk not in changed:
                    unchanged.instance.save(update_fields=["review_order", "signoff_order"])
        for obj in formset.new_objects:
            audit_log(
                actor=request.user,
                action=f"{prefix}.admin_create",
                obj=obj,
                after=model_snapshot(obj),
            )
        for obj, _fields in formset.changed_objects:
            audit_log(
                actor=request.user,
                action=f"{prefix}.admin_change",
                obj=obj,
                before=before.get(obj.pk),
                after=model_snapshot(obj),
            )

    def get_urls(self):
        tools = [
            path(t.route, self.admin_site.admin_view(partial(t.view, self)), name=t.url_name)
            for t in _CONTRACT_LIST_TOOLS
        ]
        return [*tools, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        tools = (
            [
                {"label": str(t.label), "url": reverse(f"admin:{t.url_name}")}
                for t in _CONTRACT_LIST_TOOLS
            ]
            if self.has_add_permission(request)
            else []
        )
        extra_context = {**(extra_context or {}), "contract_list_tools": tools}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "contract_tools": contract_tools(object_id)}
        return super().change_view(request, object_id, form_url, extra_context)


def _coded(label: str, code: str):
    """The Chinese label; the stored code (what searches match) stays in the markup."""
    if not code:
        return "—"
    return format_html('<span data-code="{}">{}</span>', code, label)


class _LabelledCodeFilter(admin.SimpleListFilter):
    """Filter on a code column, offering the codes present, by their Chinese labels."""

    field = ""

    def label_of(self, code: str) -> str:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        codes = (
            model_admin.get_queryset(request)
            .order_by()
            .values_list(self.field, flat=True)
            .distinct()
        )
        return sorted(((c, self.label_of(c)) for c in codes if c), key=lambda pair: pair[1])

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.field: self.value()})
        return queryset


class AuditActionFilter(_LabelledCodeFilter):
    title = _("操作")
    parameter_name = "action"
    field = "action"

    def label_of(self, code: str) -> str:
        return action_label(code)


class AuditObjectTypeFilter(_LabelledCodeFilter):
    title = _("对象类型")
    parameter_name = "object_type"
    field = "object_type"

    def label_of(self, code: str) -> str:
        return object_type_label(code)


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
        "action_display",
        "object_type_display",
        "object_repr",
        "ip_address",
    ]
    list_filter = [
        AuditActionFilter,
        AuditObjectTypeFilter,
        "organization",
        ("at", admin.DateFieldListFilter),
    ]
    search_fields = ["actor_repr", "action", "object_repr", "object_id", "ip_address"]
    search_help_text = _("按操作人、操作（中文或代码）、对象、IP 地址搜索")
    date_hierarchy = "at"
    list_select_related = ["organization"]
    readonly_fields = [
        "at",
        "actor_repr",
        "organization",
        "action_display",
        "object_type_display",
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

    @admin.display(description=_("操作"), ordering="action")
    def action_display(self, obj):
        return _coded(action_label(obj.action), obj.action)

    @admin.display(description=_("对象类型"), ordering="object_type")
    def object_type_display(self, obj):
        return _coded(object_type_label(obj.object_type), obj.object_type)

    def get_search_results(self, request, queryset, search_term):
        """A Chinese label finds the events of its codes (the codes are what is stored)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            codes = set(queryset.values_list("action", flat=True).distinct())
            matching = [code for code in codes if term in action_label(code)]
            if matching:
                results |= queryset.filter(action__in=matching)
        return results, may_have_duplicates

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
    list_display = [
        "created_at",
        "recipient",
        "subject",
        "status",
        "attachment_count",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["recipient", "subject", "key"]
    search_help_text = _("按收件人、主题或去重键搜索")
    list_select_related = ["contract"]
    fieldsets = (
        (None, {"fields": ("recipient", "subject", "body_display", "attachments_display")}),
        (
            _("发送"),
            {
                "fields": (
                    "status",
                    "created_at",
                    "sent_at",
                    "attempts",
                    "last_error_display",
                    "message_id_display",
                )
            },
        ),
        (_("来源"), {"fields": ("contract", "key")}),
    )
    readonly_fields = [
        "recipient",
        "subject",
        "body_display",
        "attachments_display",
        "status",
        "created_at",
        "sent_at",
        "attempts",
        "last_error_display",
        "message_id_display",
        "contract",
        "key",
    ]
    actions = ["retry_failed"]

    @admin.display(description=_("正文"))
    def body_display(self, obj):
        return format_html('<pre class="literal-block">{}</pre>', obj.body)

    @admin.display(description=_("附件"))
    def attachments_display(self, obj):
        if not obj.attachments:
            return _("无附件")
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}</li>", ((a.get("name", ""),) for a in obj.attachments)),
        )

    @admin.display(description=_("附件数"))
    def attachment_count(self, obj):
        return len(obj.attachments or [])

    @admin.display(description=_("最近错误"))
    def last_error_display(self, obj):
        return (
            format_html('<pre class="literal-block">{}</pre>', obj.last_error)
            if obj.last_error
            else "—"
        )

    @admin.display(description=_("邮件标识（Message-ID）"))
    def message_id_display(self, obj):
        return obj.message_id or "—"

    def has_add_permission(self, request):
        return False  # e-mails are written by the services that send them

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


# ------------------------------------------------------------------------------ joint confirmation


class JointConfirmationEntryInline(admin.TabularInline):
    model = JointConfirmationEntry
    extra = 0
    can_delete = False
    fields = ["round", "role", "organization", "user", "decision", "reason", "at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class JointConfirmationAdmin(ScopedAdmin):
    """Joint confirmations (会签) of the bureau's contracts: read-only — the parties confirm or
    object in the portal or the API, through the services."""

    view_roles = BUREAU_STAFF
    scope_contract = "contract"
    list_display = ["opened_at", "contract", "subject", "title", "status", "round", "confirmed_at"]
    list_filter = ["subject", "status"]
    search_fields = ["title"]
    readonly_fields = [
        "contract",
        "subject",
        "content_type",
        "object_id",
        "title",
        "required_roles",
        "status",
        "round",
        "opened_at",
        "confirmed_at",
    ]
    inlines = [JointConfirmationEntryInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register(JointConfirmation, JointConfirmationAdmin)
