"""Admin permissions by role (三员分立) and an audit row for every admin edit."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from govcloud.audit import audit_log, model_snapshot
from govcloud.models import OrganizationKind, Role


def bureau_role(request: HttpRequest) -> str | None:
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return "superuser"
    if user.organization_id and user.organization.kind == OrganizationKind.BUREAU:
        return user.role
    return None


class RoleAdmin(admin.ModelAdmin):
    """Who may view and who may manage a model, by bureau role; the platform superuser may all.

    ``manage_roles`` add, change and delete; ``view_roles`` only read.
    """

    manage_roles: frozenset[str] = frozenset()
    view_roles: frozenset[str] = frozenset()
    audit_action_prefix: str = ""

    def _role_in(self, request: HttpRequest, roles: frozenset[str]) -> bool:
        role = bureau_role(request)
        return role == "superuser" or role in roles

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.view_roles | self.manage_roles)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._role_in(request, self.view_roles | self.manage_roles)

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return self._role_in(request, self.manage_roles)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._role_in(request, self.manage_roles)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._role_in(request, self.manage_roles)

    def _action(self, verb: str) -> str:
        prefix = self.audit_action_prefix or self.model._meta.model_name
        return f"{prefix}.admin_{verb}"

    def save_model(self, request, obj, form, change):
        before = None
        if change and obj.pk:
            previous = type(obj).objects.filter(pk=obj.pk).first()
            before = model_snapshot(previous) if previous else None
        super().save_model(request, obj, form, change)
        audit_log(
            actor=request.user,
            action=self._action("change" if change else "create"),
            obj=obj,
            before=before,
            after=model_snapshot(obj),
        )

    def delete_model(self, request, obj):
        before = model_snapshot(obj)
        audit_log(actor=request.user, action=self._action("delete"), obj=obj, before=before)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


SYSTEM = frozenset({Role.SYSTEM_ADMIN})
SECURITY = frozenset({Role.SECURITY_ADMIN})
AUDIT = frozenset({Role.AUDIT_ADMIN})
BUREAU_STAFF = frozenset({Role.STAFF})
