"""The admin site's one gate: who may use a page (role, 三员分立) and what it may touch (scope).

``ScopedAdmin`` is the base of every admin class of every app. A subclass declares

* which roles view and which manage the model (``view_roles``, ``manage_roles``; the platform
  superuser may everything), and
* how the model reaches what owns it — exactly one of ``scope_organization`` (a lookup to an
  ``Organization``), ``scope_contract`` (to a ``Contract``), ``scope_username`` (a field holding a
  username: sign-in records) or ``scope_platform = True`` (shared by every bureau: the official
  calendar). A Django system check refuses an admin that declares none.

The mixin then limits, through ``govcloud.selectors.admin_scope_q``:

* the changelist and every object page (an object outside the scope answers 404);
* every foreign-key choice of its forms, autocompletes included (``scoped_choices``, by default
  the scope of the target model's own admin) — a forged POST naming a foreign object fails
  validation ("选择一个有效的选项") and writes an ``admin.forbidden_attempt`` audit row;
* every save (the saved object must still be inside the scope, or nothing is saved) and delete.

Inlines use ``ScopedInline`` for the same choice limits. Every admin edit is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest

from govcloud.audit import audit_log, model_snapshot
from govcloud.models import OrganizationKind, Role
from govcloud.selectors import admin_scope_q

FORBIDDEN_ACTION = "admin.forbidden_attempt"


def admin_role(request: HttpRequest) -> str | None:
    """The role the user works in on the admin site, or None: "superuser", a bureau role
    (staff and the three administrators), a party's user administrator, the platform operator.
    """
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return "superuser"
    if user.organization_id is None:
        return None
    if user.organization.kind == OrganizationKind.BUREAU:
        return user.role
    if user.is_user_admin:
        return Role.USER_ADMIN
    if user.is_platform_operator:
        return Role.PLATFORM_OPERATOR
    return None


#: Kept for the callers of the first version (bureau roles are a subset of ``admin_role``).
bureau_role = admin_role


def audit_forbidden(request: HttpRequest, *, model: type[Model], **detail: Any) -> None:
    """One ``admin.forbidden_attempt`` row: who tried what on which model, from where."""
    audit_log(
        actor=request.user,
        action=FORBIDDEN_ACTION,
        after={
            "model": model._meta.label_lower,
            "path": request.path,
            "method": request.method,
            **{k: str(v) for k, v in detail.items()},
        },
    )


class OutOfScope(Http404):
    """An existing object outside the admin's scope was asked for: it answers 404, audited."""

    def __init__(self, detail: dict[str, Any]) -> None:
        super().__init__("对象不存在或无权访问。")
        self.detail = detail


class ScopeViolation(PermissionDenied):
    """A save would have put an object outside the admin's scope: nothing is saved (403)."""

    def __init__(self, detail: dict[str, Any]) -> None:
        super().__init__("不能保存到本单位管理范围之外。")
        self.detail = detail


class _RefusalMixin:
    """A form field that reports a refused (out-of-scope or forged) choice to the audit trail.

    ``refused`` is a plain function (not a bound method), so that the deep copy Django makes of
    the field for each form shares it instead of copying the request.
    """

    refused: Callable[[object], None] | None = None

    def _report(self, exc: ValidationError, value: object) -> None:
        if exc.code == "invalid_choice" and self.refused is not None and value not in (None, ""):
            self.refused(value)


class ScopedModelChoiceField(_RefusalMixin, forms.ModelChoiceField):
    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as exc:
            self._report(exc, value)
            raise


class ScopedModelMultipleChoiceField(_RefusalMixin, forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        try:
            return super()._check_values(value)
        except ValidationError as exc:
            self._report(exc, value)
            raise


class ScopedTypedChoiceField(_RefusalMixin, forms.TypedChoiceField):
    def validate(self, value):
        try:
            super().validate(value)
        except ValidationError as exc:
            self._report(exc, value)
            raise


def refusal_reporter(request: HttpRequest, model: type[Model], field: str) -> Callable:
    def report(value: object) -> None:
        audit_forbidden(request, model=model, field=field, value=value)

    return report


def _target_scope(site: admin.AdminSite, request: HttpRequest, model: type[Model]):
    """The queryset a foreign key to ``model`` may choose from: the scope of its admin."""
    target_admin = site._registry.get(model)
    if isinstance(target_admin, ScopedAdmin):
        return target_admin.scoped_queryset(request)
    if request.user.is_superuser:
        return None
    return model._default_manager.none()  # an unregistered target: nothing, unless superuser


class _ScopedChoices:
    """Foreign-key and many-to-many choices limited to the scope (admins and inlines)."""

    def scoped_choices(self, request: HttpRequest, db_field) -> QuerySet | None:
        """What ``db_field`` may choose from; None = no limit. Override per field."""
        return _target_scope(self.admin_site, request, db_field.remote_field.model)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = self.scoped_choices(request, db_field)
            if queryset is not None:
                kwargs["queryset"] = queryset
        kwargs.setdefault("form_class", ScopedModelChoiceField)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if isinstance(field, _RefusalMixin):
            field.refused = refusal_reporter(request, self.model, db_field.name)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = self.scoped_choices(request, db_field)
            if queryset is not None:
                kwargs["queryset"] = queryset
        kwargs.setdefault("form_class", ScopedModelMultipleChoiceField)
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if isinstance(field, _RefusalMixin):
            field.refused = refusal_reporter(request, self.model, db_field.name)
        return field


class RoleAdmin(admin.ModelAdmin):
    """Who may view and who may manage a model, by admin role; the platform superuser may all.

    ``manage_roles`` add, change and delete; ``view_roles`` only read.
    """

    manage_roles: frozenset[str] = frozenset()
    view_roles: frozenset[str] = frozenset()
    audit_action_prefix: str = ""

    def _role_in(self, request: HttpRequest, roles: frozenset[str]) -> bool:
        role = admin_role(request)
        return role == "superuser" or (role is not None and role in roles)

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

    # --- objects outside the scope: 404, audited when they exist ------------------------------

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            return obj
        field = self.model._meta.get_field(from_field) if from_field else self.model._meta.pk
        try:
            exists = self.model._default_manager.filter(
                **{field.attname: field.to_python(object_id)}
            ).exists()
        except (ValidationError, ValueError, TypeError):
            exists = False
        if exists:
            raise OutOfScope({"object_id": object_id})
        raise Http404("对象不存在或无权访问。")

    def _guarded(self, request: HttpRequest, view: Callable[[], Any]):
        # The admin's views run in a transaction that a refusal rolls back; the audit row of
        # the attempt is written after it, so that it stays.
        try:
            return view()
        except OutOfScope as exc:
            if request.method == "POST":
                audit_forbidden(request, model=self.model, **exc.detail)
            raise
        except ScopeViolation as exc:
            audit_forbidden(request, model=self.model, **exc.detail)
            raise

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        parent = super().changeform_view
        return self._guarded(request, lambda: parent(request, object_id, form_url, extra_context))

    def delete_view(self, request, object_id, extra_context=None):
        parent = super().delete_view
        return self._guarded(request, lambda: parent(request, object_id, extra_context))

    def history_view(self, request, object_id, extra_context=None):
        parent = super().history_view
        return self._guarded(request, lambda: parent(request, object_id, extra_context))

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


class ScopedAdmin(_ScopedChoices, RoleAdmin):
    """A role-gated admin limited to the user's administrative scope (see the module doc)."""

    scope_organization: str | None = None
    scope_contract: str | None = None
    scope_username: str | None = None
    scope_platform: bool = False

    # --- the scope ----------------------------------------------------------------------------

    def scope_q(self, request: HttpRequest) -> Q:
        if self.scope_platform:
            return Q()
        return admin_scope_q(
            request.user,
            organization=self.scope_organization,
            contract=self.scope_contract,
            username=self.scope_username,
        )

    def scoped_queryset(self, request: HttpRequest) -> QuerySet:
        """The model's rows inside the scope (what FKs to this model may choose from)."""
        return self.model._default_manager.filter(self.scope_q(request))

    def get_queryset(self, request):
        return super().get_queryset(request).filter(self.scope_q(request))

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        declared = [
            self.scope_organization,
            self.scope_contract,
            self.scope_username,
            self.scope_platform or None,
        ]
        if sum(d is not None for d in declared) != 1:
            errors.append(
                checks.Error(
                    f"{type(self).__qualname__} must declare exactly one scope "
                    "(scope_organization, scope_contract, scope_username or scope_platform).",
                    obj=type(self),
                    id="govcloud.E100",
                )
            )
        return errors

    # --- saves stay inside the scope ----------------------------------------------------------

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if obj.pk is not None and not self.scoped_queryset(request).filter(pk=obj.pk).exists():
            raise ScopeViolation({"object": obj, "change": change})

    # --- autocompletes answer only what the asking field may choose ---------------------------

    def _autocomplete_source(self, request: HttpRequest):
        """(admin or inline of the source model, source field) of an autocomplete request."""
        match = getattr(request, "resolver_match", None)
        if match is None or match.url_name != "autocomplete":
            return None
        from django.apps import apps

        try:
            model = apps.get_model(request.GET["app_label"], request.GET["model_name"])
            field = model._meta.get_field(request.GET["field_name"])
        except (KeyError, LookupError, FieldDoesNotExist):
            return False
        source = self.admin_site._registry.get(model)
        if source is not None:
            return source, field
        for model_admin in self.admin_site._registry.values():
            for inline_class in getattr(model_admin, "inlines", ()):
                if inline_class.model is model:
                    return inline_class(model_admin.model, self.admin_site), field
        return False

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        source = self._autocomplete_source(request)
        if source is None:
            return queryset, may_have_duplicates
        if source is False or not hasattr(source[0], "scoped_choices"):
            if not request.user.is_superuser:
                queryset = queryset.none()
            return queryset, may_have_duplicates
        source_admin, field = source
        allowed = source_admin.scoped_choices(request, field)
        if allowed is not None:
            queryset = queryset.filter(pk__in=allowed.values("pk"))
        return queryset, may_have_duplicates


class ScopedInline(_ScopedChoices):
    """Mixin for inlines: foreign-key choices limited like the admin's own (put it first)."""


class ReadOnlyMixin:
    """No add, change or delete, whoever asks (records that change only through services)."""

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


SYSTEM = frozenset({Role.SYSTEM_ADMIN})
SECURITY = frozenset({Role.SECURITY_ADMIN})
AUDIT = frozenset({Role.AUDIT_ADMIN})
BUREAU_STAFF = frozenset({Role.STAFF})
USER_ADMIN = frozenset({Role.USER_ADMIN})
PLATFORM_OPERATOR = frozenset({Role.PLATFORM_OPERATOR})
#: Those who administer users: the bureau's security admin and a party's user admin.
USER_ADMINISTRATORS = SECURITY | USER_ADMIN
