"""Demo data of the SLA on BT-2025's service year 2025-06-20 … 2026-06-19 (idempotent).

``seed_sla()`` records, through the services, events that exercise every area of the
scorecard, then moves their timestamps back into the service year (the services stamp "now";
the demo needs a year that has already happened — only this module does that):

* availability + disaster recovery: a 400-minute vendor-caused outage, confirmed by bureau and
  supervisor, in which backup/restore failed; and a planned maintenance notified 5 days ahead
  and approved, hence excluded;
* security responsibility: a level-Ⅲ incident found not fully reported;
* security mechanism: 3 of the 5 items accepted (crypto assessment and CAC review missing);
* training: an approved plan and one confirmed session (one short of two);
* deliverables: monthly reports on time except one late, and one rejected inspection report;
* satisfaction: 24 of 25 department users answered, mean 80 (96 % coverage);
* improvement: one notice fixed in time, one never fixed;
* penalties: one ¥10,000 penalty acknowledged by the vendor;
* utilization: daily samples for the year, CPU averaging below 30 % (the red warning), monthly
  advice submitted on time except one month, one advice accepted (→ draft change ticket) and
  one declined, 卫健委's advice of the first months declined in one bulk answer (the rest stays
  on its to-do list; each department heard of it in one digest e-mail); an emergency period.

JZ-2026 has no SLA annex, so the demo creates no scorecard data for it: only a planned
maintenance announced 40 hours ahead, which its 72-hour notice term (五.5) flags to the bureau
as a notice-duty record (no points).

Run after ``billing.demo.seed_parties`` (it calls it, which is idempotent).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from billing.demo import seed_parties
from billing.models import Resource, ResourceStatus
from billing.services.inventory import inventory_import
from govcloud.dates import months_between
from govcloud.exceptions import ApplicationError
from govcloud.joint import JOINT_ACTIONS, joint_confirm, joint_for
from govcloud.models import (
    BusinessSystem,
    Contract,
    JointSubject,
    Organization,
    OrganizationKind,
    Role,
    User,
)
from govcloud.workdays import BUSINESS_TZ
from sla.models import (
    Deliverable,
    DeliverableKind,
    DeliverableSubmission,
    EmergencyPeriod,
    ImprovementNotice,
    Outage,
    OutageSignoff,
    Penalty,
    RightsizingAdvice,
    RightsizingReport,
    SatisfactionSurvey,
    SecurityIncident,
    SecurityMechanismItem,
    SurveyResponse,
    TrainingPlan,
    TrainingSession,
    UtilizationSample,
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
    utilization_months,
)
from sla.services.clocks import end_of_day, working_deadline
from sla.services.rightsizing import classify

CONTRACT_CODE = "BT-2025"
SURVEY_USERS = 25  # eligible department users; 24 answer → 96 % coverage
LATE_ADVICE_MONTH = date(2025, 11, 1)
LATE_REPORT_MONTH = date(2025, 10, 1)

DEMO_INVENTORY = """department,system,item,quantity,online_at,offline_at,billing_starts_at
包头市教育局,教育云平台,ecs.general.vcpu,32,2025-06-20 09:00,,2025-06-20 09:00
包头市教育局,教育云平台,ecs.general.mem,64,2025-06-20 09:00,,2025-06-20 09:00
包头市教育局,教育云平台,ebs.ssd,2000,2025-06-20 09:00,,2025-06-20 09:00
包头市卫生健康委员会,全民健康信息平台,ecs.general.vcpu,48,2025-06-20 09:00,,2025-06-20 09:00
包头市卫生健康委员会,全民健康信息平台,ecs.general.mem,96,2025-06-20 09:00,,2025-06-20 09:00
包头市公安局,视频安防监控平台,ecs.general.vcpu,64,2025-06-20 09:00,,2025-06-20 09:00
包头市公安局,视频安防监控平台,ecs.general.mem,128,2025-06-20 09:00,,2025-06-20 09:00
包头市人力资源和社会保障局,社保经办系统,ecs.general.vcpu,16,2025-06-20 09:00,,2025-06-20 09:00
包头市人力资源和社会保障局,社保经办系统,ecs.general.mem,32,2025-06-20 09:00,,2025-06-20 09:00
包头市人力资源和社会保障局,社保经办系统,ebs.sas,1000,2025-06-20 09:00,,2025-06-20 09:00
"""

# (cpu %, mem %, disk %) per system: low CPU overall (the <30 % warning), one busy system.
PROFILES = {
    "教育云平台": (Decimal("12"), Decimal("35"), Decimal("40")),
    "全民健康信息平台": (Decimal("22"), Decimal("48"), Decimal("55")),
    "视频安防监控平台": (Decimal("65"), Decimal("72"), Decimal("80")),
    "社保经办系统": (Decimal("74"), Decimal("58"), Decimal("88")),
}


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BUSINESS_TZ)


def _users() -> dict[str, User]:
    names = ["bt_bureau", "bt_vendor", "bt_supervisor", "bt_auditor", "bt_edu", "bt_health"]
    return {u.username: u for u in User.objects.filter(username__in=names)}


def seed_sla() -> dict[str, Any]:
    """Create the demo SLA records of BT-2025 (running it again changes nothing)."""
    seed_parties()
    contract = Contract.objects.prefetch_related("parties__organization").get(code=CONTRACT_CODE)
    users = _users()
    with transaction.atomic():
        _outages(contract, users)
        _incident(contract, users)
        _security(contract, users)
        _training(contract, users)
        _deliverables(contract, users)
        _survey(contract, users)
        _notices(contract, users)
        _penalty(contract, users)
        resources = _resources(contract)
        _emergency(contract, users, resources)
        _samples(contract, users, resources)
        _confirm_months(contract, users)
        _advice(contract, users)
    _jz_short_notice(users)
    return {"contract": contract.code, "resources": len(resources)}


JZ_MAINTENANCE = "政务外网核心交换机割接（计划内维护）"


def _jz_short_notice(users: dict[str, User]) -> None:
    """A JZ-2026 maintenance announced 40 h before it starts: a notice-duty record (五.5)."""
    jz = Contract.objects.prefetch_related("parties__organization").filter(code="JZ-2026").first()
    vendor = User.objects.filter(username="jz_vendor").first()
    if jz is None or vendor is None:
        return
    if Outage.objects.filter(contract=jz, title=JZ_MAINTENANCE).exists():
        return
    start = (timezone.now() + timedelta(hours=40)).replace(minute=0, second=0, microsecond=0)
    try:
        outages.outage_report(
            actor=vendor,
            contract=jz,
            title=JZ_MAINTENANCE,
            started_at=start,
            ended_at=start + timedelta(hours=2),
            cause="核心交换机板卡更换及线路割接，期间政务外网访问中断约2小时。",
            scope="platform",
            planned=True,
        )
    except ApplicationError:  # outside JZ's service period: nothing to show
        return


# ---------------------------------------------------------------- events


def _backdate_signoffs(outage: Outage, moment: datetime) -> None:
    for index, signoff in enumerate(outage.signoffs.order_by("pk")):
        OutageSignoff.objects.filter(pk=signoff.pk).update(at=moment + timedelta(hours=index))


def _outages(contract: Contract, users: dict[str, User]) -> None:
    title = "核心交换机板卡故障导致全平台服务中断"
    if not Outage.objects.filter(contract=contract, title=title).exists():
        outage = outages.outage_report(
            actor=users["bt_vendor"],
            contract=contract,
            title=title,
            started_at=at(2025, 9, 10, 9, 0),
            ended_at=at(2025, 9, 10, 15, 40),  # 400 minutes
            cause="核心交换机主控板卡故障，热备切换失败；虚拟机镜像备份恢复未能生效，人工重建后恢复。",
            scope="platform",
            backup_restore_failed=True,
        )
        for name in ("bt_bureau", "bt_supervisor"):
            outages.outage_confirm(actor=users[name], outage=outage, vendor_caused=True)
        Outage.objects.filter(pk=outage.pk).update(
            created_at=at(2025, 9, 10, 17), confirmed_at=at(2025, 9, 12, 11)
        )
        _backdate_signoffs(outage, at(2025, 9, 11, 10))

    title = "云平台存储系统版本升级（计划内停机）"
    if not Outage.objects.filter(contract=contract, title=title).exists():
        # The approvals must precede the window, which lies in the past: the demo writes the
        # announcement and the two approvals as they happened, then confirms through the service.
        outage = Outage.objects.create(
            contract=contract,
            service_year=2025,
            title=title,
            started_at=at(2025, 11, 15, 1),
            ended_at=at(2025, 11, 15, 5),
            scope="platform",
            cause="存储系统固件升级，已提前5天书面通知。",
            planned=True,
            notified_at=at(2025, 11, 10, 10),
            maintenance_approved_at=at(2025, 11, 11, 16),
            reported_by=users["bt_vendor"],
            created_at=at(2025, 11, 10, 10),
        )
        for hour, (role, name) in enumerate(
            (("bureau", "bt_bureau"), ("supervisor", "bt_supervisor"))
        ):
            OutageSignoff.objects.create(
                outage=outage,
                stage="approve_maintenance",
                party_role=role,
                user=users[name],
                at=at(2025, 11, 11, 15 + hour),
                comment="同意。",
            )
        for name in ("bt_bureau", "bt_supervisor"):
            outages.outage_confirm(actor=users[name], outage=outage, vendor_caused=True)
        Outage.objects.filter(pk=outage.pk).update(confirmed_at=at(2025, 11, 17, 10))


def _incident(contract: Contract, users: dict[str, User]) -> None:
    title = "政务门户网站遭网页篡改"
    if SecurityIncident.objects.filter(contract=contract, title=title).exists():
        return
    incident = incidents.incident_report(
        actor=users["bt_vendor"],
        contract=contract,
        level=3,
        title=title,
        description="云WAF 规则未及时更新，攻击者利用已知漏洞篡改首页，2小时内恢复。",
        occurred_at=at(2025, 10, 8, 10, 20),
        reported_at=at(2025, 10, 9, 17),
        resolved_at=at(2025, 10, 8, 12, 30),
        affected_systems="包头市政务服务门户",
    )
    incidents.incident_assess(
        actor=users["bt_bureau"],
        incident=incident,
        fully_reported=False,
        vendor_caused=True,
        comment="事件响应报告未说明残留影响和受影响用户范围，未如实全面报告。",
    )
    SecurityIncident.objects.filter(pk=incident.pk).update(assessed_at=at(2025, 10, 15, 10))


def _security(contract: Contract, users: dict[str, User]) -> None:
    for code in ("emergency_plan", "drill", "mlps3"):
        if SecurityMechanismItem.objects.filter(
            contract=contract, service_year=2025, item=code
        ).exists():
            continue
        row = security.security_item_submit(
            actor=users["bt_vendor"],
            contract=contract,
            year=2025,
            item=code,
            evidence=_file(f"{code}.pdf"),
            note="见附件。",
        )
        security.security_item_review(actor=users["bt_bureau"], item=row, accept=True)


def _file(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 demo", content_type="application/pdf")


def _training(contract: Contract, users: dict[str, User]) -> None:
    if not TrainingPlan.objects.filter(contract=contract, service_year=2025).exists():
        plan = training.training_plan_submit(
            actor=users["bt_vendor"],
            contract=contract,
            year=2025,
            description=(
                "2025–2026 服务年度计划培训2次：云资源申请与使用（2025年12月）、"
                "云安全与数据保护（2026年4月）。"
            ),
        )
        training.training_plan_review(actor=users["bt_bureau"], plan=plan, approve=True)
    if not TrainingSession.objects.filter(contract=contract, service_year=2025).exists():
        session = training.training_session_record(
            actor=users["bt_vendor"],
            contract=contract,
            held_on=date(2025, 12, 5),
            topic="政务云资源申请、变更与释放流程",
            attendees=46,
        )
        training.training_session_review(actor=users["bt_bureau"], session=session, confirm=True)


def _submit_backdated(deliverable: Deliverable, users: dict[str, User], when: datetime) -> None:
    deliverables.deliverable_submit(
        actor=users["bt_vendor"], deliverable=deliverable, document=_file("report.pdf")
    )
    submission = deliverable.submissions.order_by("-number").first()
    DeliverableSubmission.objects.filter(pk=submission.pk).update(submitted_at=when)
    if deliverable.submissions.count() == 1:
        Deliverable.objects.filter(pk=deliverable.pk).update(first_submitted_at=when)


def _deliverables(contract: Contract, users: dict[str, User]) -> None:
    for month in months_between(date(2025, 7, 1), date(2026, 5, 1)):
        if Deliverable.objects.filter(
            contract=contract, kind=DeliverableKind.MONTHLY_REPORT, period_month=month
        ).exists():
            continue
        report = deliverables.deliverable_create(
            actor=users["bt_bureau"],
            contract=contract,
            kind=DeliverableKind.MONTHLY_REPORT,
            period_month=month,
        )
        offset = timedelta(days=3, hours=10) if month == LATE_REPORT_MONTH else timedelta(hours=-8)
        when = end_of_day(report.due_date) + offset
        _submit_backdated(report, users, when)
        deliverables.deliverable_review(actor=users["bt_bureau"], deliverable=report, accept=True)

    title = "2025年第三季度政务云巡检记录报告"
    if not Deliverable.objects.filter(contract=contract, title=title).exists():
        inspection = deliverables.deliverable_create(
            actor=users["bt_bureau"],
            contract=contract,
            kind=DeliverableKind.INSPECTION,
            title=title,
            due_date=date(2025, 10, 15),
        )
        _submit_backdated(inspection, users, at(2025, 10, 13, 15))
        deliverables.deliverable_review(
            actor=users["bt_bureau"],
            deliverable=inspection,
            accept=False,
            reason="缺少机房动力环境巡检记录，不符合甲方模板要求。",
        )
        _submit_backdated(inspection, users, at(2025, 10, 20, 11))
        deliverables.deliverable_review(
            actor=users["bt_bureau"], deliverable=inspection, accept=True
        )


def _survey(contract: Contract, users: dict[str, User]) -> None:
    if SatisfactionSurvey.objects.filter(contract=contract, service_year=2025).exists():
        return
    bureau = contract.bureau
    departments = list(
        Organization.objects.filter(kind=OrganizationKind.DEPARTMENT, parent=bureau).order_by("pk")
    )
    existing = User.objects.filter(
        organization__in=departments, is_active=True, role=Role.STAFF
    ).count()
    # The platform's other users: accounts that cannot sign in (unusable password).
    for index in range(max(0, SURVEY_USERS - existing)):
        department = departments[index % len(departments)]
        username = f"bt_user{index + 1:02d}"
        User.objects.get_or_create(
            username=username,
            defaults={
                "full_name": f"{department.display_name}用户{index + 1:02d}",
                "organization": department,
                "role": Role.STAFF,
                "password": make_password(None),
            },
        )
    survey = surveys.survey_open(
        actor=users["bt_bureau"],
        contract=contract,
        year=2025,
        title="2025–2026 服务年度包头市政务云用户满意度调查",
        instructions="请按《包头市政务云用户满意度调查表》评分，填写评分总分（0–100）。",
    )
    respondents = list(
        User.objects.filter(organization__in=departments, is_active=True, role=Role.STAFF).order_by(
            "username"
        )
    )
    scores = [70, 80, 90] * 8  # 24 answers, mean 80
    for user, score in zip(respondents[:24], scores, strict=False):
        surveys.survey_respond(actor=user, survey=survey, score=score, comment="")
    surveys.survey_close(actor=users["bt_bureau"], survey=survey)
    SatisfactionSurvey.objects.filter(pk=survey.pk).update(
        created_at=at(2026, 5, 18, 9), closed_at=at(2026, 6, 5, 18)
    )
    SurveyResponse.objects.filter(survey=survey).update(answered_at=at(2026, 5, 25, 10))


def _notices(contract: Contract, users: dict[str, User]) -> None:
    title = "机房巡检记录缺少空调与UPS运行参数"
    if not ImprovementNotice.objects.filter(contract=contract, title=title).exists():
        notice = notices.notice_issue(
            actor=users["bt_supervisor"],
            contract=contract,
            title=title,
            description="请补充2025年11月以来的机房空调、UPS 运行参数巡检记录。",
        )
        issued = at(2025, 12, 1, 10)
        due, provisional = working_deadline(issued, notices.fix_period(contract))
        ImprovementNotice.objects.filter(pk=notice.pk).update(
            issued_at=issued, due_at=due, due_provisional=provisional, service_year=2025
        )
        notice.refresh_from_db()
        notices.notice_fix(actor=users["bt_vendor"], notice=notice, report="已补齐并归档。")
        ImprovementNotice.objects.filter(pk=notice.pk).update(fixed_at=at(2025, 12, 8, 16))
        _confirm_jointly(
            joint_for(notice, JointSubject.IMPROVEMENT_REPORT),
            users,
            otherwise=lambda: notices.notice_confirm(
                actor=users["bt_supervisor"], notice=notice, accept=True
            ),
        )

    title = "资源调整建议未附上月调整工作总结"
    if not ImprovementNotice.objects.filter(contract=contract, title=title).exists():
        notice = notices.notice_issue(
            actor=users["bt_auditor"],
            contract=contract,
            title=title,
            description="按附件3，月度资源调整建议应包含调整方案、实施计划和上月资源调整工作总结。",
        )
        issued = at(2026, 3, 2, 10)
        due, provisional = working_deadline(issued, notices.fix_period(contract))
        ImprovementNotice.objects.filter(pk=notice.pk).update(
            issued_at=issued, due_at=due, due_provisional=provisional, service_year=2025
        )


def _penalty(contract: Contract, users: dict[str, User]) -> None:
    reason = "未经批准更换驻场运维负责人"
    if Penalty.objects.filter(contract=contract, reason=reason).exists():
        return
    penalty = penalties.penalty_record(
        actor=users["bt_supervisor"],
        contract=contract,
        occurred_on=date(2026, 1, 15),
        reason=reason,
        clause="附件3 五、违反处罚",
        amount=Decimal("10000.00"),
    )
    penalties.penalty_acknowledge(actor=users["bt_vendor"], penalty=penalty)


# ---------------------------------------------------------------- utilization


def _resources(contract: Contract) -> list[Resource]:
    """BT-2025's VM-type resources (a demo inventory is imported when there are none)."""

    def existing() -> list[Resource]:
        return [
            r
            for r in Resource.objects.filter(contract=contract, status=ResourceStatus.ACTIVE)
            .select_related("catalog_item", "system")
            .order_by("pk")
            if classify(r.catalog_item)
        ]

    found = existing()
    if not found:
        inventory_import(actor="seed_sla", contract=contract, csv_text=DEMO_INVENTORY)
        BusinessSystem.objects.filter(
            name="视频安防监控平台", department__parent=contract.bureau
        ).update(is_emergency_or_security=True)
        found = existing()
    return found[:24]


def _profile(resource: Resource, index: int) -> tuple[Decimal, Decimal, Decimal]:
    if resource.system.name in PROFILES:
        return PROFILES[resource.system.name]
    defaults = list(PROFILES.values())
    return defaults[index % 2]  # unknown systems: the two low-CPU profiles


def _samples(contract: Contract, users: dict[str, User], resources: list[Resource]) -> None:
    if UtilizationSample.objects.filter(resource__contract=contract).exists():
        return
    vendor = users["bt_vendor"]
    rows = []
    day = contract.service_start
    while day <= contract.service_end:
        wobble = Decimal((day.toordinal() % 7) - 3)  # a weekly rhythm, ±3 points
        for index, resource in enumerate(resources):
            cpu, mem, disk = _profile(resource, index)
            size = resource.quantity * (1024 if resource.catalog_item.unit.upper() == "TB" else 1)
            disk_pct = min(Decimal(100), max(Decimal(0), disk + wobble / 3))
            rows.append(
                UtilizationSample(
                    resource=resource,
                    day=day,
                    cpu_pct=min(Decimal(100), max(Decimal(0), cpu + wobble)),
                    mem_pct=min(Decimal(100), max(Decimal(0), mem + wobble / 2)),
                    disk_pct=disk_pct.quantize(Decimal("0.01")),
                    disk_used_gb=(disk_pct * size / 100).quantize(Decimal("0.01")),
                    pushed_by=vendor,
                )
            )
        day += timedelta(days=1)
    UtilizationSample.objects.bulk_create(rows, batch_size=2000)


def _emergency(contract: Contract, users: dict[str, User], resources: list[Resource]) -> None:
    reason = "2026年高考及录取期间教育系统资源保障"
    if EmergencyPeriod.objects.filter(contract=contract, reason=reason).exists():
        return
    systems = [r.system_id for r in resources if r.system.name == "教育云平台"]
    rightsizing.emergency_period_create(
        actor=users["bt_bureau"],
        contract=contract,
        start_date=date(2026, 6, 1),
        end_date=date(2026, 6, 19),
        reason=reason,
        system_ids=sorted(set(systems)),
    )


def _confirm_jointly(confirmation, users: dict[str, User], *, otherwise=None) -> None:
    """Every party the confirmation names confirms (``bt_<role>``); ``otherwise`` (the
    one-party step) where the terms ask no joint confirmation."""
    if confirmation is None:
        if otherwise is not None:
            otherwise()
        return
    for role in confirmation.required_roles:
        user = users[f"bt_{role}"]
        if JOINT_ACTIONS.allows("confirm", user, confirmation):
            joint_confirm(actor=user, confirmation=confirmation)


def _confirm_months(contract: Contract, users: dict[str, User]) -> None:
    """The parties confirmed each month's data (附件2 7.3) before the advice was written on it
    (the samples are bulk-loaded, so their months are opened here as a push would)."""
    months = list(months_between(contract.service_start, contract.service_end))
    utilization_months.utilization_months_touched(
        actor=users["bt_vendor"], months={(contract.pk, m) for m in months}
    )
    for month in months:
        _confirm_jointly(utilization_months.month_confirmation(contract, month), users)


def _advice(contract: Contract, users: dict[str, User]) -> None:
    months = list(months_between(contract.service_start, contract.service_end))
    confirmed = utilization_months.confirmed_months(contract)
    for month in months:
        report = rightsizing.rightsizing_compute(contract=contract, month=month)
        if report is None or report.status != "draft":
            continue
        if confirmed is not None and month not in confirmed:
            continue  # 附件2 7.3: advice only on jointly confirmed data
        rightsizing.rightsizing_submit(actor=users["bt_vendor"], report=report)
        offset = timedelta(days=4, hours=10) if month == LATE_ADVICE_MONTH else timedelta(hours=-7)
        submitted = end_of_day(report.due_date) + offset
        RightsizingReport.objects.filter(pk=report.pk).update(
            submitted_at=submitted, computed_at=submitted - timedelta(days=1)
        )
    last = (
        RightsizingReport.objects.filter(contract=contract)
        .exclude(status="draft")
        .order_by("-month")
        .first()
    )
    if last is None:
        return
    open_advice = RightsizingAdvice.objects.filter(
        report=last, status="submitted", department__users__username__in=["bt_edu", "bt_health"]
    ).select_related("department")
    decided: set[int] = set()
    for advice in open_advice:
        if advice.department_id in decided:
            continue
        member = User.objects.filter(
            organization_id=advice.department_id, username__in=["bt_edu", "bt_health"]
        ).first()
        if member is None:
            continue
        if member.username == "bt_edu":
            try:
                rightsizing.rightsizing_accept(actor=member, advice=advice)
            except ApplicationError:  # the resource is busy in another ticket: leave it open
                continue
        else:
            rightsizing.rightsizing_decline(
                actor=member, advice=advice, reason="年底业务高峰将至，暂不缩容，次季度再评估。"
            )
        decided.add(advice.department_id)
    _answer_old_months(contract, last.month)


def _answer_old_months(contract: Contract, last_month: date) -> None:
    """卫健委 answered the first half of the year's advice at once (the bulk answer), leaving
    the recent months on its to-do list."""
    member = User.objects.filter(username="bt_health").first()
    if member is None or member.organization_id is None:
        return
    cutoff = date(last_month.year, last_month.month, 1) - timedelta(days=160)
    old = list(
        RightsizingAdvice.objects.filter(
            report__contract=contract,
            report__month__lt=cutoff,
            department_id=member.organization_id,
            status="submitted",
        ).values_list("pk", flat=True)
    )
    if old:
        rightsizing.rightsizing_answer_bulk(
            actor=member,
            advice_ids=old,
            decision="decline",
            reason="上半年业务系统建设期资源需求尚未稳定，历史月份建议不再执行，以最新月份建议为准。",
        )


def demo_sla() -> str:
    """Demo part (registered by ``SlaConfig``)."""
    seed_sla()
    return "服务水平考核演示事件已就绪（BT-2025 2025 服务年度）。"
