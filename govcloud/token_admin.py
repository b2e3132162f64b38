"""API tokens in the admin: listed, issued and revoked by the account's own organisation admin.

Nothing here writes directly: issuing and revoking go through ``govcloud.api_tokens``, which
check who administers whom and audit. The secret is shown once, on the page that issued it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from govcloud.api_tokens import api_token_create, api_token_revoke, may_administer_tokens_of
from govcloud.exceptions import ApplicationError
from govcloud.models import (
    API_TOKEN_DEFAULT_DAYS,
    ApiToken,
    TokenScope,
    User,
)
from govcloud.selectors import users_administered_by


def administered_users(actor: Any) -> QuerySet[User]:
    """The users whose tokens ``actor`` administers (the users it administers, itself aside)."""
    if not getattr(actor, "is_active", False):
        return User.objects.none()
    return users_administered_by(actor).exclude(pk=actor.pk)


def _may_use(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated) and administered_users(user).exists()


class IssueTokenForm(forms.Form):
    user = forms.ModelChoiceField(label=_("服务账号"), queryset=User.objects.none())
    name = forms.CharField(label=_("名称"), max_length=80)
    scope = forms.ChoiceField(label=_("权限范围"), choices=TokenScope.choices)
    days = forms.IntegerField(
        label=_("有效期（天）"), min_value=1, max_value=366, initial=API_TOKEN_DEFAULT_DAYS
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = administered_users(actor).filter(is_service_account=True, is_active=True)
        self.fields["user"].queryset = users.order_by("username")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "user",
        "scope",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["scope"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user", "created_by"]
    actions = ["revoke_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        return super().get_queryset(request).filter(user__in=administered_users(request.user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_use(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may_use(request) and (
            obj is None or may_administer_tokens_of(request.user, obj.user)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _may_use(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list:
        return [
            path(
                "issue/",
                self.admin_site.admin_view(self.issue_view),
                name="govcloud_apitoken_issue",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None):
        return redirect("admin:govcloud_apitoken_issue")

    def issue_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = IssueTokenForm(request.POST or None, actor=request.user)
        secret = ""
        if request.method == "POST" and form.is_valid():
            try:
                issued = api_token_create(
                    actor=request.user,
                    user=form.cleaned_data["user"],
                    name=form.cleaned_data["name"],
                    scope=form.cleaned_data["scope"],
                    days=form.cleaned_data["days"],
                )
            except ApplicationError as exc:
                field = exc.extra.get("field")
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                secret = issued.secret
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("签发 API 令牌"),
            "form": form,
            "secret": secret,
            "changelist": reverse("admin:govcloud_apitoken_changelist"),
        }
        return render(request, "admin/govcloud/apitoken/issue.html", context)

    @admin.action(description=_("吊销所选令牌"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            try:
                api_token_revoke(actor=request.user, token=token)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
            revoked += 1
        self.message_user(request, _("已吊销 %(n)s 个令牌。") % {"n": revoked}, messages.SUCCESS)
