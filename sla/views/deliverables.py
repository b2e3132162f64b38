"""Portal pages of deliverables: list, register, submit, review, download."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from govcloud.web import page_of, run_service, serve_file
from sla import selectors
from sla.forms import DecisionForm, DeliverableForm, UploadForm
from sla.models import Deliverable, DeliverableKind, DeliverableStatus, DeliverableSubmission
from sla.services import actions, deliverables
from sla.views.common import require_contract_action, status_filter, year_of_request, years_context


@login_required
def deliverable_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    qs = (
        selectors.deliverable_list_for_user(user=request.user)
        .filter(contract=contract, service_year=year.label)
        .annotate(
            submission_count=Count("submissions", distinct=True),
            rejection_count=Count(
                "submissions", filter=Q(submissions__decision="rejected"), distinct=True
            ),
        )
    )
    qs, status = status_filter(request, qs, DeliverableStatus.choices)
    kind = request.GET.get("kind", "")
    if kind in DeliverableKind.values:
        qs = qs.filter(kind=kind)
    return render(
        request,
        "sla/deliverable_list.html",
        {
            **years_context(contract, year),
            "page": page_of(request, qs.order_by("-due_date", "-pk")),
            "status": status,
            "kind": kind,
            "statuses": DeliverableStatus.choices,
            "kinds": DeliverableKind.choices,
            "actions": actions.contract_sla_actions(user=request.user, contract=contract),
            "now": timezone.now(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def deliverable_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    require_contract_action(request.user, contract, "deliverable_create")
    form = DeliverableForm(request.POST or None, request.FILES or None)
    # The document is the first submission: offered to whoever may submit a new deliverable.
    new = Deliverable(contract=contract)
    if "submit" not in actions.deliverable_available_actions(user=request.user, obj=new):
        del form.fields["document"]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: deliverables.deliverable_create(
                actor=request.user,
                contract=contract,
                kind=data["kind"],
                title=data["title"],
                period_month=data["period_month"],
                due_date=data["due_date"],
                document=data.get("document"),
            ),
            _("交付物已登记。"),
            to=lambda created: reverse("sla_deliverable_detail", args=[created.pk]),
            form=form,
        )
        if ok:
            return response
    return render(
        request,
        "sla/record_form.html",
        {
            "contract": contract,
            "form": form,
            "title": _("登记交付物"),
            "back": reverse("sla_deliverable_list", args=[contract.pk]),
            "multipart": True,
        },
    )


def _deliverable(request: HttpRequest, pk: int) -> Deliverable:
    return selectors.get_for_user(
        selectors.deliverable_list_for_user(user=request.user).prefetch_related(
            Prefetch(
                "submissions",
                queryset=DeliverableSubmission.objects.select_related(
                    "submitted_by", "reviewed_by"
                ).order_by("number"),
            )
        ),
        pk,
    )


def _detail_page(
    request: HttpRequest,
    deliverable: Deliverable,
    *,
    upload_form: UploadForm | None = None,
    decision_form: DecisionForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "sla/deliverable_detail.html",
        {
            "contract": deliverable.contract,
            "deliverable": deliverable,
            "submissions": list(deliverable.submissions.all()),
            "late": deliverable.is_late(),
            "upload_form": upload_form or UploadForm(),
            "decision_form": decision_form or DecisionForm(),
            "actions": actions.deliverable_available_actions(user=request.user, obj=deliverable),
        },
    )


@login_required
def deliverable_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _deliverable(request, pk))


@login_required
@require_POST
def deliverable_submit(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _deliverable(request, pk)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        ok, response = run_service(
            request,
            lambda: deliverables.deliverable_submit(
                actor=request.user,
                deliverable=deliverable,
                document=data["document"],
                note=data["note"],
            ),
            _("已提交，待甲方审核。"),
            to=reverse("sla_deliverable_detail", args=[deliverable.pk]),
            form=form,
        )
        if ok:
            return response
    return _detail_page(request, deliverable, upload_form=form)


@login_required
@require_POST
def deliverable_review(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = _deliverable(request, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        ok, response = run_service(
            request,
            lambda: deliverables.deliverable_review(
                actor=request.user,
                deliverable=deliverable,
                accept=form.accepted,
                reason=form.cleaned_data["comment"],
            ),
            _("已审核。"),
            to=reverse("sla_deliverable_detail", args=[deliverable.pk]),
            form=form,
        )
        if ok:
            return response
    return _detail_page(request, deliverable, decision_form=form)


@login_required
def deliverable_file(request: HttpRequest, pk: int) -> HttpResponse:
    submission = selectors.get_for_user(
        DeliverableSubmission.objects.filter(
            deliverable__in=selectors.deliverable_list_for_user(user=request.user)
        ),
        pk,
    )
    return serve_file(submission.document)
