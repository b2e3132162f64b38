"""Portal pages of the core app: sign-in with two factors, home, contracts and catalogs."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from govcloud import invitations, lifecycle, terms, two_factor
from govcloud.attempts import ProofLocked
from govcloud.audit import audit_log
from govcloud.dates import business_today
from govcloud.exceptions import ApplicationError
from govcloud.forms import InvitationPasswordForm, LoginForm, TokenForm
from govcloud.health import health_problems
from govcloud.home import cards_for, intro_for
from govcloud.models import ContractStatus
from govcloud.selectors import (
    contract_get_for_user,
    contract_list_for_user,
    require_business_reader,
)
from govcloud.web import page_of, run_service

PAGE_SIZE = 50


def healthz(request: HttpRequest) -> HttpResponse:
    """Load balancer probe: 200 "ok" when the database and the broker answer, else 503 naming
    what is down (no session, nothing rendered)."""
    problems = health_problems()
    if problems:
        return HttpResponse("; ".join(problems), content_type="text/plain", status=503)
    return HttpResponse("ok", content_type="text/plain")


def _safe_next(request: HttpRequest, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_log(actor=self.request.user, action="auth.password_changed", obj=self.request.user)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.requires_two_factor or user.is_verified():
        return redirect(_safe_next(request))
    if not two_factor.confirmed_devices(user):
        return redirect(f"{reverse('two_factor_setup')}?next={_safe_next(request)}")
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            if two_factor.verify(request, form.cleaned_data["token"]):
                return redirect(_safe_next(request))
            form.add_error("token", _("验证码不正确或已过期；多次错误后需稍候再试。"))
        except ProofLocked as exc:
            form.add_error("token", exc.message)
            status = 429
    return render(
        request,
        "govcloud/two_factor_verify.html",
        {"form": form, "next": _safe_next(request)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if two_factor.confirmed_devices(user):
        return redirect(f"{reverse('two_factor_verify')}?next={_safe_next(request)}")
    device = two_factor.pending_device(user)
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            if two_factor.confirm_enrolment(request, form.cleaned_data["token"]):
                messages.success(request, _("身份验证器已绑定，今后登录需输入动态验证码。"))
                return redirect(_safe_next(request))
            form.add_error("token", _("验证码不正确，请确认手机时间准确后重试。"))
        except ProofLocked as exc:
            form.add_error("token", exc.message)
            status = 429
    return render(
        request,
        "govcloud/two_factor_setup.html",
        {
            "form": form,
            "qr": two_factor.qr_data_uri(device),
            "secret": two_factor.secret_base32(device),
            "next": _safe_next(request),
        },
        status=status,
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "govcloud/home.html",
        {"intro": intro_for(user), "cards": cards_for(user)},
    )


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    """The user's contracts with their life-cycle state today; ``?state=`` filters by it."""
    require_business_reader(request.user)
    today = business_today()
    contracts = list(contract_list_for_user(user=request.user).select_related("successor"))
    for contract in contracts:
        facts = lifecycle.facts_of(contract)
        contract.state = lifecycle.state_on(facts, today)
        contract.effective_end = lifecycle.last_service_day(facts, today)
    state = request.GET.get("state", "")
    if state in ContractStatus.values:
        contracts = [c for c in contracts if c.state == state]
    return render(
        request,
        "govcloud/contract_list.html",
        {
            "contracts": contracts,
            "page": page_of(request, contracts),
            "states": ContractStatus.choices,
            "state": state,
        },
    )


@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_business_reader(request.user, hide=True)
    contract = contract_get_for_user(user=request.user, pk=pk)
    prefetch_related_objects([contract], "clauses")  # the terms it cites (term_cite)
    items = contract.catalog_items.all().order_by("sort_order", "code")
    sections = list(
        contract.catalog_items.order_by("section").values_list("section", flat=True).distinct()
    )
    section = request.GET.get("section", "")
    query = request.GET.get("q", "").strip()
    if section:
        items = items.filter(section=section)
    if query:
        items = items.filter(
            Q(code__icontains=query) | Q(name__icontains=query) | Q(spec__icontains=query)
        )
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "govcloud/contract_detail.html",
        {
            "contract": contract,
            "page": page,
            "sections": sections,
            "section": section,
            "q": query,
            "installments": contract.installments.all(),
            "lifecycle": lifecycle.lifecycle_of(contract),
            "lifecycle_actions": lifecycle.contract_available_actions(
                user=request.user, obj=contract
            ),
        },
    )


@login_required
@require_POST
def contract_activate(request: HttpRequest, pk: int) -> HttpResponse:
    """The bureau puts an onboarded (draft) contract in force."""
    require_business_reader(request.user)  # an action: administrators are refused (403)
    contract = contract_get_for_user(user=request.user, pk=pk)
    target = reverse("contract_detail", args=[contract.pk])
    _ok, response = run_service(
        request,
        lambda: lifecycle.contract_activate(actor=request.user, contract=contract),
        _("合同 %(c)s 已生效。") % {"c": contract.code},
        to=target,
    )
    return response or redirect(target)


@login_required
def contract_terms(request: HttpRequest, pk: int) -> HttpResponse:
    """Every term of the contract, its value and the clause it comes from (DESIGN §4a).

    Whoever may open the contract may read its terms (its parties' staff, the bureau's
    departments); anyone else gets 404, like the contract itself.
    """
    require_business_reader(request.user, hide=True)
    contract = contract_get_for_user(user=request.user, pk=pk)
    prefetch_related_objects([contract], "clauses", "installments")
    return render(
        request,
        "govcloud/contract_terms.html",
        {
            "contract": contract,
            "groups": terms.contract_term_groups(contract),
            "installments": contract.installments.all(),
        },
    )


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invited user administrator's one-time link: set a password, then enrol TOTP.

    No sign-in: the link is the credential until the authenticator is confirmed, which
    activates the user and signs them in.
    """
    invitation = invitations.invitation_for_token(token)
    if invitation is None:
        return render(request, "govcloud/invitation_invalid.html", status=404)
    user = invitation.user
    if invitation.password_set_at is None:
        form = InvitationPasswordForm(user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            invitations.invitation_set_password(
                invitation=invitation, password=form.cleaned_data["new_password1"]
            )
            return redirect(request.path)
        return render(
            request,
            "govcloud/invitation_accept.html",
            {"invitation": invitation, "form": form, "step": "password"},
        )
    device = two_factor.pending_device(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            try:
                user = invitations.invitation_complete(invitation=invitation)
            except ApplicationError as exc:
                messages.error(request, exc.message)
                return redirect("login")
            backend = next(b for b in settings.AUTHENTICATION_BACKENDS if not b.startswith("axes"))
            auth_login(request, user, backend=backend)
            otp_login(request, device)
            audit_log(actor=user, action="auth.2fa_enrolled", obj=user)
            messages.success(request, _("账号已启用。今后登录需输入密码和动态验证码。"))
            return redirect("home")
        audit_log(actor=user, action="auth.2fa_failed", obj=user)
        form.add_error("token", _("验证码不正确，请确认手机时间准确后重试。"))
    return render(
        request,
        "govcloud/invitation_accept.html",
        {
            "invitation": invitation,
            "form": form,
            "step": "totp",
            "qr": two_factor.qr_data_uri(device),
            "secret": two_factor.secret_base32(device),
        },
    )
