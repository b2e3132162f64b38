"""Portal pages of joint confirmations (会签): the list of one's contracts', a detail page, and
the confirm / object form that the ``{% joint_panel %}`` of any page posts to."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from govcloud import joint
from govcloud.models import JointStatus, JointSubject
from govcloud.selectors import require_business_reader
from govcloud.web import page_of, run_service


@login_required
@require_GET
def joint_list(request: HttpRequest) -> HttpResponse:
    require_business_reader(request.user)
    qs = joint.joint_list_for_user(user=request.user)
    status = request.GET.get("status", "")
    subject = request.GET.get("subject", "")
    if status in JointStatus.values:
        qs = qs.filter(status=status)
    if subject in JointSubject.values:
        qs = qs.filter(subject=subject)
    return render(
        request,
        "govcloud/joint/list.html",
        {
            "page": page_of(request, qs),
            "status": status,
            "subject": subject,
            "statuses": JointStatus.choices,
            "subjects": JointSubject.choices,
        },
    )


@login_required
@require_GET
def joint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_business_reader(request.user, hide=True)
    confirmation = joint.joint_get_for_user(user=request.user, pk=pk)
    target = confirmation.content_type.get_object_for_this_type(pk=confirmation.object_id)
    target_url = getattr(target, "get_absolute_url", None)
    return render(
        request,
        "govcloud/joint/detail.html",
        {
            "confirmation": confirmation,
            "contract": confirmation.contract,
            "target_url": target_url() if callable(target_url) else "",
        },
    )


@login_required
@require_POST
def joint_decide(request: HttpRequest, pk: int) -> HttpResponse:
    require_business_reader(request.user)
    confirmation = joint.joint_get_for_user(user=request.user, pk=pk)
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("joint_detail", args=[confirmation.pk])
    if request.POST.get("decision") == "object":
        _ok, response = run_service(
            request,
            lambda: joint.joint_object(
                actor=request.user,
                confirmation=confirmation,
                reason=request.POST.get("reason", ""),
            ),
            _("已提出异议。"),
            to=target,
        )
    else:
        _ok, response = run_service(
            request,
            lambda: joint.joint_confirm(actor=request.user, confirmation=confirmation),
            _("已确认。"),
            to=target,
        )
    # A refusal was flashed: back to the page the panel is on, which shows it.
    return response or redirect(target)
