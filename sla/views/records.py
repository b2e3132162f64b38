"""Portal pages of the SLA records: outages, incidents, the security checklist, training,
deliverables, satisfaction surveys, improvement notices, penalties and emergency periods.

Reads go through ``sla.selectors`` (404 for foreign objects), writes through ``sla.services``.
Each detail page answers GET with the record and the actions the user's role may take now,
and POST (``action=…``) by calling the service; a refusal keeps the page with the reason.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from govcloud.models import PartyRole
from sla import selectors
from sla.forms import (
    AssessIncidentForm,
    CommentForm,
    ConfirmOutageForm,
    DecisionForm,
    DeliverableForm,
    EmergencyForm,
    FixForm,
    IncidentForm,
    NoticeForm,
    OutageForm,
    PenaltyForm,
    ReasonForm,
    SecurityReviewForm,
    SecuritySubmitForm,
    SecurityWaiveForm,
    SurveyForm,
    SurveyResponseForm,
    TrainingPlanForm,
    TrainingSessionForm,
    UploadForm,
)
from sla.models import (
    ChecklistStatus,
    Deliverable,
    DeliverableKind,
    DeliverableStatus,
    DeliverableSubmission,
    ImprovementNotice,
    IncidentStatus,
    NoticeStatus,
    Outage,
    OutageSignoff,
    OutageStatus,
    Penalty,
    PenaltyStatus,
    PlanStatus,
    SecurityItem,
    SessionStatus,
    SignoffStage,
    SurveyStatus,
)
from sla.services import (
    deliverables,
    incidents,
    notices,
    outages,
    penalties,
    rightsizing,
    security,
    surveys,
    training,
)
from sla.services.common import confirming_roles, has_supervisor
from sla.views.common import page_of, role_of, run, serve, year_of_request, years_context

PARTIES = (PartyRole.BUREAU, PartyRole.VENDOR, PartyRole.SUPERVISOR, PartyRole.AUDITOR)


def _require_role(role: str | None, *allowed: str) -> None:
    if role not in allowed:
        raise PermissionDenied(_("您的单位在本合同中不能办理此事项。"))


def _status_filter(request: HttpRequest, queryset, choices) -> tuple[Any, str]:
    status = request.GET.get("status", "")
    if status in dict(choices):
        return queryset.filter(status=status), status
    return queryset, ""


# ================================================================ outages


@login_required
def outage_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    qs = selectors.outage_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    qs, status = _status_filter(request, qs, OutageStatus.choices)
    kind = request.GET.get("kind", "")
    if kind == "planned":
        qs = qs.filter(planned=True)
    elif kind == "unplanned":
        qs = qs.filter(planned=False)
    page = page_of(request, qs.order_by("-started_at", "-pk"))
    return render(
        request,
        "sla/outage_list.html",
        {
            **years_context(contract, year),
            "page": page,
            "status": status,
            "kind": kind,
            "statuses": OutageStatus.choices,
            "role": role_of(request.user, contract),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def outage_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    _require_role(role_of(request.user, contract), PartyRole.VENDOR)
    form = OutageForm(request.POST or None, contract=contract)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created: list[Outage] = []
        ok, response = run(
            request,
            lambda: created.append(
                outages.outage_report(
                    actor=request.user,
                    contract=contract,
                    title=data["title"],
                    started_at=data["started_at"],
                    ended_at=data["ended_at"],
                    cause=data["cause"],
                    scope=data["scope"],
                    system_ids=[s.pk for s in data["systems"]],
                    planned=data["planned"],
                    backup_restore_failed=data["backup_restore_failed"],
                )
            ),
            _("已报告，已通知甲方和监理确认。"),
            to=reverse("sla_outage_list", args=[contract.pk]),
            form=form,
        )
        if ok:
            response["Location"] = reverse("sla_outage_detail", args=[created[0].pk])
            return response
    return render(
        request,
        "sla/record_form.html",
        {
            "contract": contract,
            "form": form,
            "title": _("报告服务中断 / 计划内停机"),
            "back": reverse("sla_outage_list", args=[contract.pk]),
            "multipart": False,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def outage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    outage = selectors.get_for_user(selectors.outage_list_for_user(user=request.user), pk)
    contract = outage.contract
    _require_role(role_of(request.user, contract), PartyRole.VENDOR)
    initial = {
        "title": outage.title,
        "started_at": timezone.localtime(outage.started_at),
        "ended_at": timezone.localtime(outage.ended_at),
        "scope": outage.scope,
        "cause": outage.cause,
        "backup_restore_failed": outage.backup_restore_failed,
        "systems": list(outage.systems.all()),
    }
    form = OutageForm(request.POST or None, contract=contract, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, response = run(
            request,
            lambda: outages.outage_update(
                actor=request.user,
                outage=outage,
                title=data["title"],
                started_at=data["started_at"],
                ended_at=data["ended_at"],
                cause=data["cause"],
                scope=data["scope"],
                system_ids=[s.pk for s in data["systems"]],
                backup_restore_failed=data["backup_restore_failed"],
            ),
            _("已修改。"),
            to=reverse("sla_outage_detail", args=[outage.pk]),
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
            "title": _("修改中断记录 #%(id)s") % {"id": outage.pk},
            "back": reverse("sla_outage_detail", args=[outage.pk]),
            "multipart": False,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def outage_detail(request: HttpRequest, pk: int) -> HttpResponse:
    outage = selectors.get_for_user(
        selectors.outage_list_for_user(user=request.user).prefetch_related(
            "systems__department",
            Prefetch("signoffs", queryset=OutageSignoff.objects.select_related("user")),
            "contract__parties__organization",
        ),
        pk,
    )
    contract = outage.contract
    role = role_of(request.user, contract)
    confirm_form = ConfirmOutageForm(
        request.POST if request.POST.get("action") == "confirm" else None
    )
    comment_form = CommentForm(request.POST if request.POST.get("action") == "approve" else None)
    here = reverse("sla_outage_detail", args=[outage.pk])
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "confirm" and confirm_form.is_valid():
            data = confirm_form.cleaned_data
            ok, response = run(
                request,
                lambda: outages.outage_confirm(
                    actor=request.user,
                    outage=outage,
                    vendor_caused=data["attribution"] == "vendor",
                    comment=data["comment"],
                ),
                _("已确认。"),
                to=here,
                form=confirm_form,
            )
            if ok:
                return response
        elif action == "approve" and comment_form.is_valid():
            ok, response = run(
                request,
                lambda: outages.outage_approve_maintenance(
                    actor=request.user, outage=outage, comment=comment_form.cleaned_data["comment"]
                ),
                _("已同意该维护计划。"),
                to=here,
                form=comment_form,
            )
            if ok:
                return response
    signoffs = list(outage.signoffs.all())
    now = timezone.now()
    signed = {(s.stage, s.party_role) for s in signoffs}
    reported = outage.status == OutageStatus.REPORTED
    can = {
        "edit": role == PartyRole.VENDOR
        and reported
        and not any(s.stage == SignoffStage.CONFIRM for s in signoffs),
        "approve": role in confirming_roles(contract)
        and reported
        and outage.planned
        and now < outage.started_at
        and (SignoffStage.APPROVE_MAINTENANCE, role) not in signed,
        "confirm": role in confirming_roles(contract)
        and reported
        and now >= outage.ended_at
        and (SignoffStage.CONFIRM, role) not in signed,
    }
    return render(
        request,
        "sla/outage_detail.html",
        {
            "contract": contract,
            "outage": outage,
            "signoffs": signoffs,
            "can": can,
            "confirm_form": confirm_form,
            "comment_form": comment_form,
            "confirmers": [PartyRole(r).label for r in confirming_roles(contract)],
        },
    )


# ================================================================ incidents


@login_required
def incident_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    qs = selectors.incident_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    qs, status = _status_filter(request, qs, IncidentStatus.choices)
    level = request.GET.get("level", "")
    if level.isdigit():
        qs = qs.filter(level=int(level))
    return render(
        request,
        "sla/incident_list.html",
        {
            **years_context(contract, year),
            "page": page_of(request, qs.order_by("-occurred_at", "-pk")),
            "status": status,
            "level": level,
            "statuses": IncidentStatus.choices,
            "role": role_of(request.user, contract),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def incident_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    _require_role(
        role_of(request.user, contract), PartyRole.VENDOR, PartyRole.BUREAU, PartyRole.SUPERVISOR
    )
    form = IncidentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created: list[Any] = []
        ok, response = run(
            request,
            lambda: created.append(
                incidents.incident_report(
                    actor=request.user,
                    contract=contract,
                    level=data["level"],
                    title=data["title"],
                    description=data["description"],
                    occurred_at=data["occurred_at"],
                    reported_at=data["reported_at"],
                    resolved_at=data["resolved_at"],
                    affected_systems=data["affected_systems"],
                    evidence=data["evidence"],
                )
            ),
            _("安全事件已报告。"),
            to=reverse("sla_incident_list", args=[contract.pk]),
            form=form,
        )
        if ok:
            response["Location"] = reverse("sla_incident_detail", args=[created[0].pk])
            return response
    return render(
        request,
        "sla/record_form.html",
        {
            "contract": contract,
            "form": form,
            "title": _("报告安全事件"),
            "back": reverse("sla_incident_list", args=[contract.pk]),
            "multipart": True,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = selectors.get_for_user(
        selectors.incident_list_for_user(user=request.user).select_related("assessed_by"), pk
    )
    contract = incident.contract
    role = role_of(request.user, contract)
    form = AssessIncidentForm(request.POST or None)
    here = reverse("sla_incident_detail", args=[incident.pk])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, response = run(
            request,
            lambda: incidents.incident_assess(
                actor=request.user,
                incident=incident,
                fully_reported=data["fully_reported"],
                vendor_caused=data["vendor_caused"],
                comment=data["comment"],
            ),
            _("已认定。"),
            to=here,
            form=form,
        )
        if ok:
            return response
    return render(
        request,
        "sla/incident_detail.html",
        {
            "contract": contract,
            "incident": incident,
            "form": form,
            "can_assess": role in (PartyRole.BUREAU, PartyRole.SUPERVISOR)
            and incident.status == IncidentStatus.REPORTED,
        },
    )


@login_required
def incident_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    incident = selectors.get_for_user(selectors.incident_list_for_user(user=request.user), pk)
    return serve(incident.evidence)


# ================================================================ security checklist


@login_required
@require_http_methods(["GET", "POST"])
def security_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    role = role_of(request.user, contract)
    action = request.POST.get("action", "")
    submit_form = SecuritySubmitForm(
        request.POST if action == "submit" else None, request.FILES if action == "submit" else None
    )
    review_form = SecurityReviewForm(request.POST if action == "review" else None)
    waive_form = SecurityWaiveForm(request.POST if action == "waive" else None)
    here = reverse("sla_security_list", args=[contract.pk]) + f"?year={year.label}"
    rows = selectors.security_item_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    if request.method == "POST":
        response = None
        if action == "submit" and submit_form.is_valid():
            data = submit_form.cleaned_data
            _ok, response = run(
                request,
                lambda: security.security_item_submit(
                    actor=request.user,
                    contract=contract,
                    year=year.label,
                    item=data["item"],
                    evidence=data["evidence"],
                    note=data["note"],
                ),
                _("材料已提交，待甲方审核。"),
                to=here,
                form=submit_form,
            )
        elif action == "review" and review_form.is_valid():
            data = review_form.cleaned_data
            row = selectors.get_for_user(rows, data["item_id"])
            if data["decision"] == "waive":
                call = lambda: security.security_item_waive(  # noqa: E731
                    actor=request.user,
                    contract=contract,
                    year=year.label,
                    item=row.item,
                    reason=data["comment"],
                )
            else:
                call = lambda: security.security_item_review(  # noqa: E731
                    actor=request.user,
                    item=row,
                    accept=data["decision"] == "accept",
                    comment=data["comment"],
                )
            _ok, response = run(request, call, _("已处理。"), to=here)
        elif action == "waive" and waive_form.is_valid():
            data = waive_form.cleaned_data
            _ok, response = run(
                request,
                lambda: security.security_item_waive(
                    actor=request.user,
                    contract=contract,
                    year=year.label,
                    item=data["item"],
                    reason=data["reason"],
                ),
                _("已认定为非乙方责任。"),
                to=here,
                form=waive_form,
            )
        if response is not None:
            return response
    by_item = {row.item: row for row in rows.select_related("submitted_by", "reviewed_by")}
    items = [
        {"code": code, "label": label, "row": by_item.get(code)}
        for code, label in SecurityItem.choices
    ]
    missing = sum(1 for i in items if not (i["row"] and i["row"].fulfilled))
    return render(
        request,
        "sla/security_list.html",
        {
            **years_context(contract, year),
            "items": items,
            "missing": missing,
            "role": role,
            "submit_form": submit_form,
            "waive_form": waive_form,
            "submitted": ChecklistStatus.SUBMITTED,
        },
    )


@login_required
def security_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.get_for_user(selectors.security_item_list_for_user(user=request.user), pk)
    return serve(row.evidence)


# ================================================================ training


@login_required
@require_http_methods(["GET", "POST"])
def training_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    role = role_of(request.user, contract)
    action = request.POST.get("action", "")
    posted = request.method == "POST"
    plan_form = TrainingPlanForm(
        request.POST if action == "plan" else None, request.FILES if action == "plan" else None
    )
    session_form = TrainingSessionForm(
        request.POST if action == "session" else None,
        request.FILES if action == "session" else None,
    )
    decision_form = DecisionForm(
        request.POST if action in ("plan_review", "session_review") else None
    )
    here = reverse("sla_training_list", args=[contract.pk]) + f"?year={year.label}"
    plan = (
        selectors.training_plan_list_for_user(user=request.user)
        .filter(contract=contract, service_year=year.label)
        .select_related("reviewed_by")
        .first()
    )
    sessions = selectors.training_session_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    if posted:
        response = None
        if action == "plan" and plan_form.is_valid():
            data = plan_form.cleaned_data
            _ok, response = run(
                request,
                lambda: training.training_plan_submit(
                    actor=request.user,
                    contract=contract,
                    year=year.label,
                    description=data["description"],
                    document=data["document"],
                ),
                _("培训计划已提交，待甲方评审。"),
                to=here,
                form=plan_form,
            )
        elif action == "session" and session_form.is_valid():
            data = session_form.cleaned_data
            _ok, response = run(
                request,
                lambda: training.training_session_record(
                    actor=request.user,
                    contract=contract,
                    held_on=data["held_on"],
                    topic=data["topic"],
                    attendees=data["attendees"],
                    materials=data["materials"],
                ),
                _("培训记录已登记，待甲方确认。"),
                to=here,
                form=session_form,
            )
        elif action == "plan_review" and decision_form.is_valid() and plan is not None:
            _ok, response = run(
                request,
                lambda: training.training_plan_review(
                    actor=request.user,
                    plan=plan,
                    approve=decision_form.accepted,
                    comment=decision_form.cleaned_data["comment"],
                ),
                _("已评审培训计划。"),
                to=here,
            )
        elif action == "session_review" and decision_form.is_valid():
            session = selectors.get_for_user(sessions, request.POST.get("session_id"))
            _ok, response = run(
                request,
                lambda: training.training_session_review(
                    actor=request.user,
                    session=session,
                    confirm=decision_form.accepted,
                    comment=decision_form.cleaned_data["comment"],
                ),
                _("已处理培训记录。"),
                to=here,
            )
        if response is not None:
            return response
    return render(
        request,
        "sla/training_list.html",
        {
            **years_context(contract, year),
            "plan": plan,
            "page": page_of(request, sessions.order_by("-held_on", "-pk")),
            "confirmed": sessions.filter(status=SessionStatus.CONFIRMED).count(),
            "role": role,
            "plan_form": plan_form,
            "session_form": session_form,
            "plan_statuses": PlanStatus,
            "recorded": SessionStatus.RECORDED,
        },
    )


@login_required
def training_plan_file(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.get_for_user(selectors.training_plan_list_for_user(user=request.user), pk)
    return serve(plan.document)


@login_required
def training_session_file(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.get_for_user(
        selectors.training_session_list_for_user(user=request.user), pk
    )
    return serve(session.materials)


# ================================================================ deliverables


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
    qs, status = _status_filter(request, qs, DeliverableStatus.choices)
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
            "role": role_of(request.user, contract),
            "now": timezone.now(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def deliverable_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    role = role_of(request.user, contract)
    _require_role(role, PartyRole.BUREAU, PartyRole.VENDOR)
    form = DeliverableForm(request.POST or None, request.FILES or None)
    if role != PartyRole.VENDOR:
        del form.fields["document"]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created: list[Deliverable] = []

        def create() -> None:
            from django.db import transaction

            with transaction.atomic():
                deliverable = deliverables.deliverable_create(
                    actor=request.user,
                    contract=contract,
                    kind=data["kind"],
                    title=data["title"],
                    period_month=data["period_month"],
                    due_date=data["due_date"],
                )
                if data.get("document"):
                    deliverables.deliverable_submit(
                        actor=request.user, deliverable=deliverable, document=data["document"]
                    )
            created.append(deliverable)

        ok, response = run(
            request,
            create,
            _("交付物已登记。"),
            to=reverse("sla_deliverable_list", args=[contract.pk]),
            form=form,
        )
        if ok:
            response["Location"] = reverse("sla_deliverable_detail", args=[created[0].pk])
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


@login_required
@require_http_methods(["GET", "POST"])
def deliverable_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = selectors.get_for_user(
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
    contract = deliverable.contract
    role = role_of(request.user, contract)
    action = request.POST.get("action", "")
    upload_form = UploadForm(
        request.POST if action == "submit" else None, request.FILES if action == "submit" else None
    )
    decision_form = DecisionForm(request.POST if action == "review" else None)
    here = reverse("sla_deliverable_detail", args=[deliverable.pk])
    if request.method == "POST":
        response = None
        if action == "submit" and upload_form.is_valid():
            data = upload_form.cleaned_data
            _ok, response = run(
                request,
                lambda: deliverables.deliverable_submit(
                    actor=request.user,
                    deliverable=deliverable,
                    document=data["document"],
                    note=data["note"],
                ),
                _("已提交，待甲方审核。"),
                to=here,
                form=upload_form,
            )
        elif action == "review" and decision_form.is_valid():
            _ok, response = run(
                request,
                lambda: deliverables.deliverable_review(
                    actor=request.user,
                    deliverable=deliverable,
                    accept=decision_form.accepted,
                    reason=decision_form.cleaned_data["comment"],
                ),
                _("已审核。"),
                to=here,
                form=decision_form,
            )
        if response is not None:
            return response
    return render(
        request,
        "sla/deliverable_detail.html",
        {
            "contract": contract,
            "deliverable": deliverable,
            "submissions": list(deliverable.submissions.all()),
            "late": deliverable.is_late(),
            "upload_form": upload_form,
            "decision_form": decision_form,
            "can_submit": role == PartyRole.VENDOR
            and deliverable.status in (DeliverableStatus.PENDING, DeliverableStatus.REJECTED),
            "can_review": role == PartyRole.BUREAU
            and deliverable.status == DeliverableStatus.SUBMITTED,
        },
    )


@login_required
def deliverable_file(request: HttpRequest, pk: int) -> HttpResponse:
    submission = selectors.get_for_user(
        DeliverableSubmission.objects.filter(
            deliverable__in=selectors.deliverable_list_for_user(user=request.user)
        ),
        pk,
    )
    return serve(submission.document)


# ================================================================ satisfaction surveys


@login_required
def survey_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.sla_contract_get(user=request.user, pk=contract_pk)
    role = role_of(request.user, contract)
    qs = selectors.survey_list_for_user(user=request.user).filter(contract=contract)
    answered = set()
    if role == "department":
        answered = set(qs.filter(responses__respondent=request.user).values_list("pk", flat=True))
    rows = []
    for survey in qs.annotate(answers=Count("responses")).order_by("-service_year"):
        rows.append({"survey": survey, "answered": survey.pk in answered})
    return render(
        request,
        "sla/survey_list.html",
        {
            "contract": contract,
            "rows": rows,
            "role": role,
            "can_open": role in (PartyRole.BUREAU, PartyRole.AUDITOR),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    _require_role(role_of(request.user, contract), PartyRole.BUREAU, PartyRole.AUDITOR)
    year = year_of_request(request, contract)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created: list[Any] = []
        ok, response = run(
            request,
            lambda: created.append(
                surveys.survey_open(
                    actor=request.user,
                    contract=contract,
                    year=year.label,
                    title=data["title"],
                    instructions=data["instructions"],
                    closes_on=data["closes_on"],
                )
            ),
            _("满意度调查已发起，已通知使用单位。"),
            to=reverse("sla_survey_list", args=[contract.pk]),
            form=form,
        )
        if ok:
            response["Location"] = reverse("sla_survey_detail", args=[created[0].pk])
            return response
    return render(
        request,
        "sla/record_form.html",
        {
            **years_context(contract, year),
            "form": form,
            "title": _("发起 %(y)s 服务年度用户满意度调查") % {"y": year.label},
            "back": reverse("sla_survey_list", args=[contract.pk]),
            "multipart": False,
            "year_choice": True,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    survey = selectors.get_for_user(selectors.survey_list_for_user(user=request.user), pk)
    contract = survey.contract
    role = role_of(request.user, contract)
    action = request.POST.get("action", "")
    form = SurveyResponseForm(request.POST if action == "respond" else None)
    here = reverse("sla_survey_detail", args=[survey.pk])
    if request.method == "POST":
        response = None
        if action == "respond" and form.is_valid():
            data = form.cleaned_data
            _ok, response = run(
                request,
                lambda: surveys.survey_respond(
                    actor=request.user, survey=survey, score=data["score"], comment=data["comment"]
                ),
                _("感谢您的反馈，答卷已提交。"),
                to=here,
                form=form,
            )
        elif action == "close":
            _ok, response = run(
                request,
                lambda: surveys.survey_close(actor=request.user, survey=survey),
                _("满意度调查已结束。"),
                to=here,
            )
        if response is not None:
            return response
    mine = (
        survey.responses.filter(respondent=request.user).first() if role == "department" else None
    )
    sees_answers = role in (PartyRole.BUREAU, PartyRole.AUDITOR, PartyRole.SUPERVISOR)
    responses = (
        page_of(
            request,
            survey.responses.select_related("respondent", "department").order_by("answered_at"),
        )
        if sees_answers
        else None
    )
    return render(
        request,
        "sla/survey_detail.html",
        {
            "contract": contract,
            "survey": survey,
            "stats": surveys.survey_stats(survey) if role != "department" else None,
            "form": form,
            "mine": mine,
            "page": responses,
            "role": role,
            "can_respond": role == "department" and survey.status == SurveyStatus.OPEN and not mine,
            "can_close": role in (PartyRole.BUREAU, PartyRole.AUDITOR)
            and survey.status == SurveyStatus.OPEN,
        },
    )


# ================================================================ improvement notices


@login_required
def notice_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    qs = selectors.notice_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    qs, status = _status_filter(request, qs, NoticeStatus.choices)
    role = role_of(request.user, contract)
    return render(
        request,
        "sla/notice_list.html",
        {
            **years_context(contract, year),
            "page": page_of(request, qs.order_by("-issued_at", "-pk")),
            "status": status,
            "statuses": NoticeStatus.choices,
            "role": role,
            "can_issue": role in (PartyRole.BUREAU, PartyRole.SUPERVISOR, PartyRole.AUDITOR),
            "now": timezone.now(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def notice_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    _require_role(
        role_of(request.user, contract), PartyRole.BUREAU, PartyRole.SUPERVISOR, PartyRole.AUDITOR
    )
    form = NoticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created: list[ImprovementNotice] = []
        ok, response = run(
            request,
            lambda: created.append(
                notices.notice_issue(
                    actor=request.user,
                    contract=contract,
                    title=data["title"],
                    description=data["description"],
                )
            ),
            _("整改通知已发出，已通知乙方。"),
            to=reverse("sla_notice_list", args=[contract.pk]),
            form=form,
        )
        if ok:
            response["Location"] = reverse("sla_notice_detail", args=[created[0].pk])
            return response
    return render(
        request,
        "sla/record_form.html",
        {
            "contract": contract,
            "form": form,
            "title": _("发出整改通知（10个工作日内整改）"),
            "back": reverse("sla_notice_list", args=[contract.pk]),
            "multipart": False,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = selectors.get_for_user(
        selectors.notice_list_for_user(user=request.user).select_related(
            "fixed_by", "confirmed_by"
        ),
        pk,
    )
    contract = notice.contract
    role = role_of(request.user, contract)
    action = request.POST.get("action", "")
    fix_form = FixForm(
        request.POST if action == "fix" else None, request.FILES if action == "fix" else None
    )
    decision_form = DecisionForm(request.POST if action == "confirm" else None)
    here = reverse("sla_notice_detail", args=[notice.pk])
    if request.method == "POST":
        response = None
        if action == "fix" and fix_form.is_valid():
            data = fix_form.cleaned_data
            _ok, response = run(
                request,
                lambda: notices.notice_fix(
                    actor=request.user,
                    notice=notice,
                    report=data["report"],
                    document=data["document"],
                ),
                _("整改报告已提交。"),
                to=here,
                form=fix_form,
            )
        elif action == "confirm" and decision_form.is_valid():
            _ok, response = run(
                request,
                lambda: notices.notice_confirm(
                    actor=request.user,
                    notice=notice,
                    accept=decision_form.accepted,
                    comment=decision_form.cleaned_data["comment"],
                ),
                _("已处理。"),
                to=here,
                form=decision_form,
            )
        if response is not None:
            return response
    return render(
        request,
        "sla/notice_detail.html",
        {
            "contract": contract,
            "notice": notice,
            "overdue": notice.is_unfixed_in_time(),
            "fix_form": fix_form,
            "decision_form": decision_form,
            "can_fix": role == PartyRole.VENDOR and notice.status == NoticeStatus.ISSUED,
            "can_confirm": role == notice.issuer_role and notice.status == NoticeStatus.FIXED,
        },
    )


@login_required
def notice_file(request: HttpRequest, pk: int) -> HttpResponse:
    notice = selectors.get_for_user(selectors.notice_list_for_user(user=request.user), pk)
    return serve(notice.fix_document)


# ================================================================ penalties


@login_required
def penalty_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    year = year_of_request(request, contract)
    qs = selectors.penalty_list_for_user(user=request.user).filter(
        contract=contract, service_year=year.label
    )
    qs, status = _status_filter(request, qs, PenaltyStatus.choices)
    role = role_of(request.user, contract)
    recorder = PartyRole.SUPERVISOR if has_supervisor(contract) else PartyRole.BUREAU
    return render(
        request,
        "sla/penalty_list.html",
        {
            **years_context(contract, year),
            "page": page_of(request, qs.order_by("-occurred_on", "-pk")),
            "status": status,
            "statuses": PenaltyStatus.choices,
            "role": role,
            "can_record": role == recorder,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def penalty_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    recorder = PartyRole.SUPERVISOR if has_supervisor(contract) else PartyRole.BUREAU
    _require_role(role_of(request.user, contract), recorder)
    form = PenaltyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created: list[Penalty] = []
        ok, response = run(
            request,
            lambda: created.append(
                penalties.penalty_record(
                    actor=request.user,
                    contract=contract,
                    occurred_on=data["occurred_on"],
                    reason=data["reason"],
                    clause=data["clause"],
                    amount=data["amount"],
                    points=data["points"],
                    area=data["area"],
                )
            ),
            _("罚则已记录，待乙方签认。"),
            to=reverse("sla_penalty_list", args=[contract.pk]),
            form=form,
        )
        if ok:
            response["Location"] = reverse("sla_penalty_detail", args=[created[0].pk])
            return response
    return render(
        request,
        "sla/record_form.html",
        {
            "contract": contract,
            "form": form,
            "title": _("记录罚则"),
            "back": reverse("sla_penalty_list", args=[contract.pk]),
            "multipart": False,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def penalty_detail(request: HttpRequest, pk: int) -> HttpResponse:
    penalty = selectors.get_for_user(
        selectors.penalty_list_for_user(user=request.user).select_related("acknowledged_by"), pk
    )
    contract = penalty.contract
    role = role_of(request.user, contract)
    action = request.POST.get("action", "")
    reason_form = ReasonForm(request.POST if action == "withdraw" else None)
    here = reverse("sla_penalty_detail", args=[penalty.pk])
    if request.method == "POST":
        response = None
        if action == "acknowledge":
            _ok, response = run(
                request,
                lambda: penalties.penalty_acknowledge(actor=request.user, penalty=penalty),
                _("已签认。"),
                to=here,
            )
        elif action == "withdraw" and reason_form.is_valid():
            _ok, response = run(
                request,
                lambda: penalties.penalty_withdraw(
                    actor=request.user, penalty=penalty, reason=reason_form.cleaned_data["reason"]
                ),
                _("已撤销。"),
                to=here,
                form=reason_form,
            )
        if response is not None:
            return response
    recorder = PartyRole.SUPERVISOR if has_supervisor(contract) else PartyRole.BUREAU
    recorded = penalty.status == PenaltyStatus.RECORDED
    return render(
        request,
        "sla/penalty_detail.html",
        {
            "contract": contract,
            "penalty": penalty,
            "reason_form": reason_form,
            "can_acknowledge": role == PartyRole.VENDOR and recorded,
            "can_withdraw": role == recorder and recorded,
        },
    )


# ================================================================ emergency periods


@login_required
@require_http_methods(["GET", "POST"])
def emergency_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    role = role_of(request.user, contract)
    form = EmergencyForm(request.POST or None, contract=contract)
    here = reverse("sla_emergency_list", args=[contract.pk])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ok, response = run(
            request,
            lambda: rightsizing.emergency_period_create(
                actor=request.user,
                contract=contract,
                start_date=data["start_date"],
                end_date=data["end_date"],
                reason=data["reason"],
                system_ids=[s.pk for s in data["systems"]],
            ),
            _("紧急保障期已登记：期内不适用资源调整规则。"),
            to=here,
            form=form,
        )
        if ok:
            return response
    periods = selectors.emergency_list_for_user(user=request.user).filter(contract=contract)
    return render(
        request,
        "sla/emergency_list.html",
        {
            "contract": contract,
            "page": page_of(
                request,
                periods.prefetch_related("systems").order_by("-start_date", "-pk"),
            ),
            "form": form,
            "can_create": role == PartyRole.BUREAU,
        },
    )
