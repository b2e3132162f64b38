"""Monthly right-sizing advice (月度资源调整建议, 附件2 §7 and DESIGN §5).

For a contract and a data month, every active VM-type resource with samples in that month gets
one advice from its monthly average utilization (mean of the daily averages):

* **flavour VMs** (JZ's ``ecs.4c8g``: the catalog item has vCPUs and memory) — ``rules.rightsize``
  on CPU and memory, then the cheapest active flavour of the same section and unit that fits
  both (ties: fewer vCPUs, less memory); when none fits, the largest flavour.
* **per-unit catalogs** (BT's ``ecs.general.vcpu`` / ``ecs.general.mem``): CPU and memory are
  separate resources of a system, with no record of which cores and which memory form one VM.
  So each resource is advised on its own metric — a vCPU resource on ``cpu_pct`` (the memory
  half of ``rules.rightsize`` held at "keep"), a memory resource on ``mem_pct`` — bounded by the
  contract's ``RightsizingPolicy`` (at least 1 core / 1 GB by default, no maximum).
* **block storage** (``ebs.*``): ``rules.rightsize_disk`` on the average GB used (or the
  average disk percentage × size when the vendor pushes no GB), in the item's unit (GB, or TB
  = 1024 GB rounded up). A disk already used above 85 % meets the contract's benchmark
  ("以保持磁盘空间使用率＞85%为基准") and is kept.

Exempt (no change advised, the reason recorded): systems flagged emergency/security, months
overlapping an ``EmergencyPeriod`` of the bureau (for all systems or the listed ones), and
resources the rule would move beyond the catalog's smallest or largest size ("现有政务云资源
如已达到政务云平台最高配置或最低配置…不适用于本规则"): a resource at the smallest size whose
usage asks for less, or at the largest asking for more.

The contract-wide averages (the 30 % line of §7.3) are capacity-weighted over the month's
sample days — Σ(pct × vCPUs) / Σ vCPUs for CPU, by GB for memory — over flavour, vCPU and
memory resources, leaving out emergency/security systems ("除应急、安全类等政务信息系统外").

The advice is computed for every contract: BT-2025's annex sets the rule and its deadline (附件2
7.2/7.3), and JZ-2026 五.2 has the vendor give the bureau and the departments "资源使用情况、
优化建议或动态调整意见" too. Only an SLA annex (``Contract.scorecard``) gives the report a due
day (5th working day) and makes a late or wrong month cost points; without one the report is
owed "及时", carries no due date, and cannot be marked wrong. The 30 % line is the contract's
utilization term, where it has one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import CatalogItem, Resource, ResourceStatus
from billing.money import round_half_up
from govcloud.audit import audit_log, snapshot
from govcloud.dates import business_date, month_end, month_start, months_between
from govcloud.exceptions import ApplicationError
from govcloud.jobs import job_schedule
from govcloud.models import (
    BusinessSystem,
    Contract,
    ContractStatus,
    Organization,
    PartyRole,
    User,
)
from govcloud.outbox import outbox_enqueue
from requests_app.services import LineInput, request_create
from sla import notifications, rules, selectors, tasks
from sla.models import (
    ADVICE_TRANSITIONS,
    REPORT_TRANSITIONS,
    AdviceAction,
    AdviceDigest,
    AdviceStatus,
    EmergencyPeriod,
    ReportStatus,
    ResourceClass,
    RightsizingAdvice,
    RightsizingPolicy,
    RightsizingReport,
    UtilizationSample,
)
from sla.services.actions import ADVICE_ACTIONS, CONTRACT_ACTIONS, REPORT_ACTIONS
from sla.services.clocks import end_of_day, monthly_due
from sla.services.common import (
    has_scorecard,
    require_text,
    set_status,
    year_of_day,
)
from sla.services.utilization_months import confirmed_months

GB_PER_TB = 1024
KEEP_CPU = Decimal("40")  # inside the CPU "keep" band (30–<50 %)
KEEP_MEM = Decimal("50")  # inside the memory "keep" band (40–<70 %)
REPORT_FIELDS = (
    "status",
    "submitted_at",
    "marked_wrong",
    "wrong_reason",
    "avg_cpu_pct",
    "avg_mem_pct",
)


# ---------------------------------------------------------------- classification and averages


def classify(item: CatalogItem) -> str | None:
    """Which right-sizing rule applies to a catalog item (None: not a VM-type resource)."""
    code = item.code.lower()
    if item.vcpus and item.memory_gb:
        return ResourceClass.FLAVOUR
    if item.unit == "核" and "vcpu" in code:
        return ResourceClass.VCPU
    if item.unit.upper() == "GB" and code.split(".")[-1] == "mem":
        return ResourceClass.MEMORY
    if code.startswith("ebs") and item.unit.upper() in ("GB", "TB"):
        return ResourceClass.DISK
    return None


def flavour_size(item: CatalogItem) -> tuple[int, int]:
    """A flavour's (vCPUs, memory GB); only called for items ``classify`` calls flavours."""
    if item.vcpus is None or item.memory_gb is None:
        raise RuntimeError(f"Catalog item {item.code!r} is not a flavour: vCPUs or memory unset.")
    return item.vcpus, item.memory_gb


def cpu_capacity(resource: Resource, kind: str | None) -> int:
    if kind == ResourceClass.FLAVOUR:
        return flavour_size(resource.catalog_item)[0] * resource.quantity
    return resource.quantity if kind == ResourceClass.VCPU else 0


def mem_capacity(resource: Resource, kind: str | None) -> int:
    if kind == ResourceClass.FLAVOUR:
        return flavour_size(resource.catalog_item)[1] * resource.quantity
    return resource.quantity if kind == ResourceClass.MEMORY else 0


@dataclass
class Averages:
    """A resource's sums over its samples of a period; means on demand (exact Decimals)."""

    days: int = 0
    cpu: Decimal = Decimal(0)
    mem: Decimal = Decimal(0)
    disk: Decimal = Decimal(0)
    disk_used: Decimal = Decimal(0)
    disk_used_days: int = 0

    def add(self, cpu: Decimal, mem: Decimal, disk: Decimal, used: Decimal | None) -> None:
        self.days += 1
        self.cpu += cpu
        self.mem += mem
        self.disk += disk
        if used is not None:
            self.disk_used += used
            self.disk_used_days += 1

    def mean(self, name: str) -> Decimal | None:
        if name == "disk_used":
            if not self.disk_used_days:
                return None
            return round_half_up(self.disk_used / self.disk_used_days)
        if not self.days:
            return None
        return round_half_up(getattr(self, name) / self.days)

    def sampled_mean(self, name: str) -> Decimal:
        """``mean`` of a resource known to have samples (never None)."""
        value = self.mean(name)
        if value is None:
            raise RuntimeError(f"No samples to average {name!r} over (callers check avg.days).")
        return value


def _in_months(months: Collection[date]) -> Q:
    """Days inside the given months (first days); nothing for an empty collection."""
    q = Q(pk__in=[])
    for month in months:
        q |= Q(day__gte=month, day__lte=month_end(month))
    return q


def resource_averages(
    resource_ids: Iterable[int],
    first: date,
    last: date,
    *,
    months: Collection[date] | None = None,
) -> dict[int, Averages]:
    """Per resource, the sums of its daily samples between ``first`` and ``last`` (inclusive),
    only inside ``months`` (first days) when given — the jointly confirmed months."""
    result: dict[int, Averages] = defaultdict(Averages)
    samples = UtilizationSample.objects.filter(
        resource_id__in=list(resource_ids), day__gte=first, day__lte=last
    )
    if months is not None:
        samples = samples.filter(_in_months(months))
    rows = samples.values_list("resource_id", "cpu_pct", "mem_pct", "disk_pct", "disk_used_gb")
    for resource_id, cpu, mem, disk, used in rows.iterator(chunk_size=5000):
        result[resource_id].add(cpu, mem, disk, used)
    return result


@dataclass
class ContractAverages:
    """Capacity- and day-weighted contract-wide utilization (None without data)."""

    cpu_pct: Decimal | None
    mem_pct: Decimal | None
    resources: int = 0
    sample_days: int = 0
    notes: list[str] = field(default_factory=list)


def _counted_resources(contract: Contract, first: date, last: date) -> list[Resource]:
    return list(
        Resource.objects.filter(contract=contract, system__is_emergency_or_security=False)
        .filter(Q(offline_at__isnull=True) | Q(offline_at__date__gte=first))
        .filter(online_at__date__lte=last)
        .select_related("catalog_item")
    )


def contract_averages(
    contract: Contract, first: date, last: date, *, confirmed_only: bool = False
) -> ContractAverages:
    """The overall CPU and memory utilization of a contract between two days (§7.3).

    ``confirmed_only``: only the months whose data the parties the terms name confirmed jointly
    (附件2 7.3 "经三方确认无误的…数据"); the notes name the months left out.
    """
    resources = [r for r in _counted_resources(contract, first, last) if classify(r.catalog_item)]
    months = confirmed_months(contract) if confirmed_only else None
    sums = resource_averages([r.pk for r in resources], first, last, months=months)
    cpu_num = cpu_den = mem_num = mem_den = Decimal(0)
    days = 0
    counted = 0
    for resource in resources:
        avg = sums.get(resource.pk)
        if avg is None or not avg.days:
            continue
        counted += 1
        days += avg.days
        kind = classify(resource.catalog_item)
        cpu_cap = cpu_capacity(resource, kind)
        mem_cap = mem_capacity(resource, kind)
        cpu_num += avg.cpu * cpu_cap
        cpu_den += avg.days * cpu_cap
        mem_num += avg.mem * mem_cap
        mem_den += avg.days * mem_cap
    notes = []
    if months is not None:
        left_out = [
            f"{m:%Y-%m}"
            for m in months_between(first, last)
            if m not in months
            and UtilizationSample.objects.filter(
                resource__contract=contract, day__gte=m, day__lte=month_end(m)
            ).exists()
        ]
        if left_out:
            notes.append(
                _("以下月份的数据尚未经各方共同确认，未计入：%(m)s") % {"m": "、".join(left_out)}
            )
    return ContractAverages(
        cpu_pct=round_half_up(cpu_num / cpu_den) if cpu_den else None,
        mem_pct=round_half_up(mem_num / mem_den) if mem_den else None,
        resources=counted,
        sample_days=days,
        notes=notes,
    )


# ---------------------------------------------------------------- the advice of one resource


@dataclass(frozen=True)
class Advice:
    action: str
    advised_item: CatalogItem | None = None
    advised_quantity: int | None = None
    explanation: str = ""


def _fmt(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def _bounded(wanted: int, current: int, low: int, high: int | None) -> tuple[int, str]:
    """Clamp ``wanted`` into [low, high]; the second value says which bound bit ('' if none)."""
    if wanted < low:
        return low, "min"
    if high is not None and wanted > high:
        return high, "max"
    return wanted, ""


def _unit_advice(
    *,
    kind: str,
    resource: Resource,
    pct: Decimal,
    policy: RightsizingPolicy,
) -> Advice:
    current = resource.quantity
    if kind == ResourceClass.VCPU:
        wanted = rules.rightsize(pct, KEEP_MEM, current, 1)[0]
        low, high, label = policy.min_vcpus, policy.max_vcpus, _("CPU")
    else:
        wanted = rules.rightsize(KEEP_CPU, pct, 1, current)[1]
        low, high, label = policy.min_memory_gb, policy.max_memory_gb, _("内存")
    basis = _("%(l)s 月平均使用率 %(p)s") % {"l": label, "p": _fmt(pct)}
    if wanted == current:
        return Advice(AdviceAction.KEEP, explanation=basis + _("，保持现有配置"))
    target, bound = _bounded(wanted, current, low, high)
    if target == current:
        which = _("最低") if bound == "min" else _("最高")
        return Advice(
            AdviceAction.EXEMPT,
            explanation=basis
            + _("，按规则应调整为 %(w)s%(u)s，但已达合同约定的%(b)s配置，不适用本规则")
            % {"w": wanted, "u": resource.catalog_item.unit, "b": which},
        )
    note = (
        _("（按规则为 %(w)s，受合同约定的上下限限制）") % {"w": wanted} if target != wanted else ""
    )
    return Advice(
        AdviceAction.CHANGE,
        advised_item=resource.catalog_item,
        advised_quantity=target,
        explanation=basis
        + _("，建议由 %(c)s%(u)s 调整为 %(t)s%(u)s%(n)s")
        % {"c": current, "t": target, "u": resource.catalog_item.unit, "n": note},
    )


def pick_flavour(flavours: Sequence[CatalogItem], vcpus: int, memory_gb: int) -> CatalogItem | None:
    """The cheapest flavour with at least ``vcpus`` and ``memory_gb``; else the largest one."""
    if not flavours:
        return None
    sized = [(f, *flavour_size(f)) for f in flavours]
    fitting = [(f, c, m) for f, c, m in sized if c >= vcpus and m >= memory_gb]
    if fitting:
        return min(fitting, key=lambda t: (t[0].unit_price, t[1], t[2], t[0].code))[0]
    return max(sized, key=lambda t: (t[1], t[2], -t[0].unit_price, t[0].code))[0]


def _flavour_advice(
    *, resource: Resource, cpu: Decimal, mem: Decimal, flavours: Sequence[CatalogItem]
) -> Advice:
    item = resource.catalog_item
    vcpus, memory_gb = flavour_size(item)
    wanted = rules.rightsize(cpu, mem, vcpus, memory_gb)
    basis = _("CPU 月平均使用率 %(c)s、内存 %(m)s") % {"c": _fmt(cpu), "m": _fmt(mem)}
    if wanted == (vcpus, memory_gb):
        return Advice(AdviceAction.KEEP, explanation=basis + _("，保持现有规格"))
    target = pick_flavour(flavours, *wanted)
    rule = _("按规则需 %(c)s 核 %(m)s GB") % {"c": wanted[0], "m": wanted[1]}
    if target is None or target.pk == item.pk:
        grow = wanted[0] > vcpus or wanted[1] > memory_gb
        shrink = wanted[0] < vcpus or wanted[1] < memory_gb
        which = _("最高") if grow and not shrink else _("最低") if shrink and not grow else ""
        reason = (
            _("已达目录%(w)s配置，不适用本规则") % {"w": which}
            if which
            else _("目录中没有更合适的规格")
        )
        return Advice(AdviceAction.EXEMPT, explanation=f"{basis}，{rule}，{reason}")
    return Advice(
        AdviceAction.CHANGE,
        advised_item=target,
        advised_quantity=resource.quantity,
        explanation=_("%(b)s，%(r)s，建议由 %(from)s 调整为 %(to)s（%(c)s 核 %(m)s GB）")
        % {
            "b": basis,
            "r": rule,
            "from": item.code,
            "to": target.code,
            "c": target.vcpus,
            "m": target.memory_gb,
        },
    )


def _disk_advice(*, resource: Resource, avg: Averages) -> Advice:
    item = resource.catalog_item
    per_unit = GB_PER_TB if item.unit.upper() == "TB" else 1
    size_gb = resource.quantity * per_unit
    used = avg.mean("disk_used")
    if used is None:
        used = round_half_up(avg.sampled_mean("disk") * size_gb / 100)
    used = min(used, Decimal(size_gb))
    basis = _("磁盘月平均已用 %(u)s GB / %(s)s GB") % {"u": used, "s": size_gb}
    if used > rules.DISK_TARGET_USAGE * size_gb:
        return Advice(AdviceAction.KEEP, explanation=basis + _("，使用率已高于85%，保持现有配置"))
    advised_gb = rules.rightsize_disk(used, size_gb)
    quantity = max(1, int((Decimal(advised_gb) / per_unit).to_integral_value(ROUND_CEILING)))
    if quantity == resource.quantity:
        return Advice(AdviceAction.KEEP, explanation=basis + _("，保持现有配置"))
    return Advice(
        AdviceAction.CHANGE,
        advised_item=item,
        advised_quantity=quantity,
        explanation=basis
        + _("，按使用率保持在85%%以上的基准，建议调整为 %(q)s %(u)s")
        % {"q": quantity, "u": item.unit},
    )


@dataclass(frozen=True)
class EmergencyCover:
    """An emergency period with the ids of the systems it lists (none listed: all systems)."""

    period: EmergencyPeriod
    system_ids: frozenset[int]


def _emergency_reason(covers: Sequence[EmergencyCover], system: BusinessSystem) -> str | None:
    for cover in covers:
        period, systems = cover.period, cover.system_ids
        if not systems or system.pk in systems:
            return _("紧急保障期 %(a)s 至 %(b)s（%(r)s），不适用本规则") % {
                "a": period.start_date.isoformat(),
                "b": period.end_date.isoformat(),
                "r": period.reason,
            }
    return None


# ---------------------------------------------------------------- computing a month


def _policy(contract: Contract) -> RightsizingPolicy:
    policy = RightsizingPolicy.objects.filter(contract=contract).first()
    return policy or RightsizingPolicy(contract=contract)


def _month_in_service(contract: Contract, month: date) -> bool:
    return not (month_end(month) < contract.service_start or month > contract.service_end)


@transaction.atomic
def rightsizing_compute(
    *, contract: Contract, month: date, actor: User | str = "资源调整建议计算"
) -> RightsizingReport | None:
    """Build (or rebuild while still a draft) the month's advice; None outside the service period.

    Idempotent: one report per contract and month, one advice per resource; a submitted report
    is never recomputed.
    """
    month = month_start(month)
    if not _month_in_service(contract, month):
        return None
    report = (
        RightsizingReport.objects.select_for_update(of=("self",))
        .filter(contract=contract, month=month)
        .first()
    )
    if report is not None and report.status != ReportStatus.DRAFT:
        return report
    first = max(month, contract.service_start)
    last = min(month_end(month), contract.service_end)
    averages = contract_averages(contract, first, last)
    if report is None:
        report = RightsizingReport(contract=contract, month=month)
    report.service_year = year_of_day(contract, first)
    if has_scorecard(contract):
        # 附件2 7.3: "每月前5个工作日内…提交资源调整建议，当月未按时提交…扣2分".
        due_date, provisional = monthly_due(month)
        report.due_date, report.due_at, report.due_provisional = (
            due_date,
            end_of_day(due_date),
            provisional,
        )
    else:
        # No SLA annex: the advice is owed "及时" (JZ-2026 五.2), with no due day and no points.
        report.due_date, report.due_at, report.due_provisional = None, None, False
    report.avg_cpu_pct, report.avg_mem_pct = averages.cpu_pct, averages.mem_pct
    report.computed_at = timezone.now()
    report.save()

    resources = [
        r
        for r in Resource.objects.filter(contract=contract, status=ResourceStatus.ACTIVE)
        .select_related("catalog_item", "system", "department")
        .order_by("department_id", "system_id", "pk")
        if classify(r.catalog_item)
    ]
    sums = resource_averages([r.pk for r in resources], first, last)
    flavours = list(
        CatalogItem.objects.filter(
            contract=contract, is_active=True, vcpus__isnull=False, memory_gb__isnull=False
        )
    )
    emergencies = [
        EmergencyCover(period, frozenset(s.pk for s in period.systems.all()))
        for period in EmergencyPeriod.objects.filter(
            contract=contract, start_date__lte=last, end_date__gte=first
        ).prefetch_related("systems")
    ]
    policy = _policy(contract)

    rows: list[RightsizingAdvice] = []
    for resource in resources:
        avg = sums.get(resource.pk)
        if avg is None or not avg.days:
            continue
        resource_class = classify(resource.catalog_item)
        if resource_class is None:
            raise RuntimeError(f"Resource {resource.pk} was selected without a right-sizing class.")
        advice = advise(
            resource=resource,
            avg=avg,
            flavours=flavours,
            emergencies=emergencies,
            policy=policy,
        )
        rows.append(
            RightsizingAdvice(
                report=report,
                resource=resource,
                department_id=resource.department_id,
                system_id=resource.system_id,
                resource_class=resource_class,
                current_item=resource.catalog_item,
                current_quantity=resource.quantity,
                advised_item=advice.advised_item,
                advised_quantity=advice.advised_quantity,
                action=advice.action,
                explanation=advice.explanation,
                sample_days=avg.days,
                cpu_avg=avg.mean("cpu"),
                mem_avg=avg.mean("mem"),
                disk_avg=avg.mean("disk"),
                disk_used_avg_gb=avg.mean("disk_used"),
                status=AdviceStatus.DRAFT,
            )
        )
    # A draft's advice has no decisions or tickets hanging on it yet: replace it as a whole.
    # (report, resource) is unique, so a rerun can never duplicate a row.
    report.advice.all().delete()
    RightsizingAdvice.objects.bulk_create(rows, batch_size=1000)
    kept_ids = [row.resource_id for row in rows]
    audit_log(
        actor=actor,
        action="rightsizing.compute",
        obj=report,
        after={**snapshot(report, REPORT_FIELDS), "advice": len(kept_ids)},
        contract=contract,
    )
    return report


def advise(
    *,
    resource: Resource,
    avg: Averages,
    flavours: Sequence[CatalogItem],
    emergencies: Sequence[EmergencyCover],
    policy: RightsizingPolicy,
) -> Advice:
    """The advice for one resource from its month's averages (exemptions first)."""
    if resource.system.is_emergency_or_security:
        return Advice(AdviceAction.EXEMPT, explanation=_("应急、安全类业务系统，不适用本规则"))
    reason = _emergency_reason(emergencies, resource.system)
    if reason:
        return Advice(AdviceAction.EXEMPT, explanation=reason)
    kind = classify(resource.catalog_item)
    if kind == ResourceClass.FLAVOUR:
        same_kind = [
            f
            for f in flavours
            if f.section == resource.catalog_item.section and f.unit == resource.catalog_item.unit
        ]
        return _flavour_advice(
            resource=resource,
            cpu=avg.sampled_mean("cpu"),
            mem=avg.sampled_mean("mem"),
            flavours=same_kind,
        )
    if kind == ResourceClass.VCPU:
        return _unit_advice(
            kind=kind, resource=resource, pct=avg.sampled_mean("cpu"), policy=policy
        )
    if kind == ResourceClass.MEMORY:
        return _unit_advice(
            kind=kind, resource=resource, pct=avg.sampled_mean("mem"), policy=policy
        )
    return _disk_advice(resource=resource, avg=avg)


def rightsizing_compute_all(*, month: date) -> list[int]:
    """The monthly task: every active contract whose service period touches ``month``."""
    ids: list[int] = []
    for contract in Contract.objects.exclude(status=ContractStatus.DRAFT).order_by("pk"):
        report = rightsizing_compute(contract=contract, month=month)
        if report is not None:
            ids.append(report.pk)
    return ids


# ---------------------------------------------------------------- workflow


def _lock_report(report: RightsizingReport) -> tuple[RightsizingReport, dict[str, Any]]:
    locked = (
        RightsizingReport.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=report.pk)
    )
    return locked, snapshot(locked, REPORT_FIELDS)


@transaction.atomic
def rightsizing_recompute(*, actor: User, report: RightsizingReport) -> RightsizingReport:
    """Vendor or bureau asks for a fresh computation of a draft (e.g. after late metrics)."""
    REPORT_ACTIONS.require("recompute", actor, report)
    recomputed = rightsizing_compute(contract=report.contract, month=report.month, actor=actor)
    if recomputed is None:
        raise RuntimeError(
            f"Report {report.pk} ({report.month:%Y-%m}) is outside its contract's service period."
        )
    return recomputed


@transaction.atomic
def rightsizing_submit(*, actor: User, report: RightsizingReport) -> RightsizingReport:
    """The vendor submits the month's advice (due by the 5th working day of the next month)."""
    report, before = _lock_report(report)
    REPORT_ACTIONS.require("submit", actor, report)
    set_status(report, REPORT_TRANSITIONS, ReportStatus.SUBMITTED)
    now = timezone.now()
    report.submitted_by, report.submitted_at = actor, now
    report.save(update_fields=["status", "submitted_by", "submitted_at"])
    report.advice.filter(action=AdviceAction.CHANGE).update(status=AdviceStatus.SUBMITTED)
    report.advice.exclude(action=AdviceAction.CHANGE).update(status=AdviceStatus.NOTED)
    audit_log(
        actor=actor,
        action="rightsizing.submit",
        obj=report,
        before=before,
        after={**snapshot(report, REPORT_FIELDS), "late": report.is_late()},
    )
    # One e-mail per department and month (its digest), not one per report: a department with
    # advice of several months or contracts hears once.
    departments = (
        report.advice.filter(action=AdviceAction.CHANGE)
        .values_list("department", flat=True)
        .distinct()
    )
    for department in Organization.objects.filter(pk__in=list(departments)).order_by("pk"):
        advice_digest_send(department=department, now=now)
    job_schedule(tasks.render_rightsizing_pdf.name, report.pk, contract=report.contract)
    return report


@transaction.atomic
def rightsizing_mark_wrong(
    *, actor: User, report: RightsizingReport, reason: str
) -> RightsizingReport:
    """Bureau or supervisor finds a calculation error in a submitted report (−2 for the month).

    Only under an SLA annex (the check refuses it otherwise): it exists for the points.
    """
    report, before = _lock_report(report)
    REPORT_ACTIONS.require("mark_wrong", actor, report)
    reason = require_text(reason, _("请说明计算错误。"), "reason")
    report.marked_wrong, report.wrong_reason, report.marked_wrong_by = True, reason, actor
    report.save(update_fields=["marked_wrong", "wrong_reason", "marked_wrong_by"])
    audit_log(
        actor=actor,
        action="rightsizing.mark_wrong",
        obj=report,
        before=before,
        after=snapshot(report, REPORT_FIELDS),
    )
    notifications.send(
        key=f"rightsizing:{report.pk}:wrong",
        contract=report.contract,
        recipients=notifications.party_emails(report.contract, PartyRole.VENDOR),
        subject=_("%(m)s 资源调整建议被认定存在计算错误") % {"m": f"{report.month:%Y-%m}"},
        body=reason,
        url=notifications.link("sla_report_detail", report.pk),
    )
    return report


def _lock_advice(advice: RightsizingAdvice) -> RightsizingAdvice:
    return (
        RightsizingAdvice.objects.select_for_update(of=("self",))
        .select_related("report__contract", "resource", "advised_item", "system")
        .get(pk=advice.pk)
    )


ADVICE_FIELDS = ("status", "decided_at", "decline_reason", "change_request")


@transaction.atomic
def rightsizing_accept(
    *, actor: User, advice: RightsizingAdvice, note: str = ""
) -> RightsizingAdvice:
    """The department accepts: a prefilled change ticket is drafted for it to review and submit
    (``note``, the department's own words, goes into the ticket's reason and the audit row)."""
    advice = _lock_advice(advice)
    before = snapshot(advice, ADVICE_FIELDS)
    ADVICE_ACTIONS.require("accept", actor, advice)
    set_status(advice, ADVICE_TRANSITIONS, AdviceStatus.ACCEPTED)
    resource = advice.resource
    if (
        resource.status != ResourceStatus.ACTIVE
        or resource.catalog_item_id != advice.current_item_id
        or resource.quantity != advice.current_quantity
    ):
        raise ApplicationError(_("该资源的配置已发生变化，本条建议已失效。"))
    ticket = request_create(
        actor=actor,
        contract=advice.report.contract,
        kind="change",
        reason=_("根据 %(m)s 月度资源调整建议：%(e)s")
        % {"m": f"{advice.report.month:%Y-%m}", "e": advice.explanation}
        + (_("。使用单位说明：%(n)s") % {"n": note.strip()} if note.strip() else ""),
        system_id=advice.system_id,
        lines=[
            LineInput(
                resource_id=resource.pk,
                catalog_item_id=advice.advised_item_id,
                quantity=advice.advised_quantity,
                note=_("资源调整建议 #%(id)s") % {"id": advice.pk},
            )
        ],
    )
    advice.change_request = ticket
    advice.decided_by, advice.decided_at = actor, timezone.now()
    advice.save(update_fields=["status", "change_request", "decided_by", "decided_at"])
    audit_log(
        actor=actor,
        action="rightsizing.accept",
        obj=advice,
        before=before,
        after={
            **snapshot(advice, ADVICE_FIELDS),
            **({"note": note.strip()} if note.strip() else {}),
        },
        contract=advice.report.contract,
    )
    return advice


@transaction.atomic
def rightsizing_decline(
    *, actor: User, advice: RightsizingAdvice, reason: str
) -> RightsizingAdvice:
    """The department declines, with its reason (e.g. a seasonal peak is coming)."""
    advice = _lock_advice(advice)
    before = snapshot(advice, ADVICE_FIELDS)
    ADVICE_ACTIONS.require("decline", actor, advice)
    reason = require_text(reason, _("拒绝调整建议须填写理由。"), "reason")
    set_status(advice, ADVICE_TRANSITIONS, AdviceStatus.DECLINED)
    advice.decline_reason = reason
    advice.decided_by, advice.decided_at = actor, timezone.now()
    advice.save(update_fields=["status", "decline_reason", "decided_by", "decided_at"])
    audit_log(
        actor=actor,
        action="rightsizing.decline",
        obj=advice,
        before=before,
        after=snapshot(advice, ADVICE_FIELDS),
        contract=advice.report.contract,
    )
    return advice


#: The most advice one bulk answer may carry (a page of the list, with room to spare).
BULK_LIMIT = 200
BULK_DECISIONS = frozenset({"accept", "decline"})


def _bulk_ids(advice_ids: Iterable[object]) -> list[int]:
    """The chosen ids, in order, each once (a refusal names the first junk value)."""
    ids: dict[int, None] = {}
    for raw in advice_ids:
        text = str(raw).strip()
        if not text.isdigit():
            raise ApplicationError(
                _("所选调整建议的编号无效：%(v)s。") % {"v": text[:20]}, extra={"field": "advice"}
            )
        ids[int(text)] = None
    if not ids:
        raise ApplicationError(_("请至少选择一条调整建议。"), extra={"field": "advice"})
    if len(ids) > BULK_LIMIT:
        raise ApplicationError(
            _("一次最多确认 %(n)s 条调整建议。") % {"n": BULK_LIMIT}, extra={"field": "advice"}
        )
    return list(ids)


@transaction.atomic
def rightsizing_answer_bulk(
    *, actor: User, advice_ids: Iterable[object], decision: str, reason: str = ""
) -> list[RightsizingAdvice]:
    """The department answers several advice at once: all accepted (one change ticket draft
    each) or all declined, with one reason. All or nothing: one advice that cannot be answered
    (another unit's, already answered, a resource changed since) refuses the whole batch and
    names it. Each advice is answered — checked and audited — by the one-advice service.
    """
    if decision not in BULK_DECISIONS:
        raise ApplicationError(_("请选择接受或拒绝。"), extra={"field": "decision"})
    ids = _bulk_ids(advice_ids)
    reason = (reason or "").strip()
    if decision == "decline":
        reason = require_text(reason, _("拒绝调整建议须填写理由。"), "reason")
    # Scoped as the pages are: another unit's advice is "not found", never "forbidden".
    found = {
        a.pk: a
        for a in selectors.advice_list_for_user(user=actor)
        .select_for_update(of=("self",))
        .filter(pk__in=ids)
    }
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ApplicationError(
            _("以下调整建议不存在或不属于本单位：%(ids)s。")
            % {"ids": "、".join(f"#{pk}" for pk in missing)},
            extra={"field": "advice", "missing": missing},
        )
    chosen = [found[pk] for pk in ids]
    if decision == "accept":
        by_resource: dict[int, list[int]] = defaultdict(list)
        for advice in chosen:
            by_resource[advice.resource_id].append(advice.pk)
        twice = [pks for pks in by_resource.values() if len(pks) > 1]
        if twice:
            raise ApplicationError(
                _("同一资源只能接受一条建议（一张变更工单），请只选其中最新的一条：%(g)s。")
                % {"g": "；".join("、".join(f"#{pk}" for pk in pks) for pks in twice)},
                extra={"field": "advice"},
            )
    answered: list[RightsizingAdvice] = []
    for advice in chosen:
        try:
            if decision == "accept":
                answered.append(rightsizing_accept(actor=actor, advice=advice, note=reason))
            else:
                answered.append(rightsizing_decline(actor=actor, advice=advice, reason=reason))
        except ApplicationError as exc:
            label = _("建议 #%(id)s（%(m)s，资源 #%(r)s）") % {
                "id": advice.pk,
                "m": f"{advice.report.month:%Y-%m}",
                "r": advice.resource_id,
            }
            # Same class (403 stays 403, 409 stays 409); the batch is rolled back as a whole.
            raise type(exc)(
                _("%(l)s：%(e)s 本次批量确认未作任何更改。") % {"l": label, "e": exc.message},
                extra={**exc.extra, "advice": advice.pk},
            ) from exc
    return answered


# ---------------------------------------------------------------- the departments' monthly digest


def _digest_body(pending: Sequence[RightsizingAdvice], fresh: int) -> str:
    per_report: dict[tuple[str, date], int] = defaultdict(int)
    for advice in pending:
        per_report[(advice.report.contract.code, advice.report.month)] += 1
    lines = [
        _("乙方根据资源使用率提出了本单位资源的调整建议，共 %(n)s 条待本单位确认")
        % {"n": len(pending)}
        + _("（本月新增 %(f)s 条）。") % {"f": fresh},
        _("可在平台上勾选多条一并接受或拒绝（拒绝须说明理由）；接受的建议生成变更工单草稿。"),
        "",
    ]
    for (code, month), count in sorted(per_report.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        lines.append(_("  %(c)s %(m)s：%(n)s 条") % {"c": code, "m": f"{month:%Y-%m}", "n": count})
    return "\n".join(lines)


def advice_digest_send(
    *, department: Organization, now: datetime | None = None
) -> AdviceDigest | None:
    """Announce the department's advice that awaits its answer and no digest announced yet:
    at most one e-mail per department and calendar month (Asia/Shanghai).

    The digest lists everything still waiting (the new advice and any older one). Advice
    submitted after this month's digest went out waits for next month's (the daily task
    ``sla.send_advice_digests`` sends it on the first day). Idempotent: the (department, month)
    row and the outbox key make a second call send nothing.
    """
    now = now or timezone.now()
    month = month_start(business_date(now))
    waiting = RightsizingAdvice.objects.filter(
        department=department, status=AdviceStatus.SUBMITTED
    ).select_related("report__contract")
    fresh = waiting.filter(digest__isnull=True)
    if not fresh.exists():
        return None
    digest, created = AdviceDigest.objects.get_or_create(
        department=department, month=month, defaults={"created_at": now}
    )
    if not created:
        return None  # this month's digest went out: the new advice joins next month's
    pending = list(waiting.order_by("report__month", "pk"))
    fresh_count = fresh.update(digest=digest)
    digest.advice_count = len(pending)
    digest.save(update_fields=["advice_count"])
    contracts = {a.report.contract_id: a.report.contract for a in pending}
    contract = next(iter(contracts.values())) if len(contracts) == 1 else None
    footer = (
        f"\n\n合同：{contract.code} {contract.name}" if contract is not None else ""
    ) + f"\n\n查看并确认：{notifications.link('sla_advice_list')}?status={AdviceStatus.SUBMITTED}"
    outbox_enqueue(
        key=f"sla:rightsizing-digest:{department.pk}:{month:%Y-%m}",
        recipients=notifications.organization_emails([department]),
        subject=_("【政务云】%(m)s 资源调整建议待确认（%(n)s 条）")
        % {"m": f"{month:%Y-%m}", "n": len(pending)},
        body=_digest_body(pending, fresh_count)
        + footer
        + "\n\n—— 本邮件由政务云服务管理平台自动发送，请勿直接回复。",
        contract=contract,
    )
    audit_log(
        actor="资源调整建议汇总通知",
        action="rightsizing.digest",
        obj=digest,
        after={"month": f"{month:%Y-%m}", "advice": len(pending), "new": fresh_count},
        contract=contract,
    )
    return digest


def advice_digests_send_all(*, now: datetime | None = None) -> list[int]:
    """The daily task: every department with advice no digest announced yet."""
    departments = (
        RightsizingAdvice.objects.filter(status=AdviceStatus.SUBMITTED, digest__isnull=True)
        .values_list("department", flat=True)
        .distinct()
    )
    sent: list[int] = []
    for department in Organization.objects.filter(pk__in=list(departments)).order_by("pk"):
        with transaction.atomic():
            digest = advice_digest_send(department=department, now=now)
        if digest is not None:
            sent.append(digest.pk)
    return sent


@transaction.atomic
def emergency_period_create(
    *,
    actor: User,
    contract: Contract,
    start_date: date,
    end_date: date,
    reason: str,
    system_ids: Sequence[int] = (),
) -> EmergencyPeriod:
    """The bureau marks an emergency / major-event period: right-sizing does not apply in it."""
    CONTRACT_ACTIONS.require("emergency_create", actor, contract)
    reason = require_text(reason, _("请填写事由。"), "reason")
    if start_date is None or end_date is None or end_date < start_date:
        raise ApplicationError(_("结束日期不得早于开始日期。"), extra={"field": "end_date"})
    bureau = contract.bureau
    if bureau is None:
        raise RuntimeError(f"Contract {contract.code} passed 'emergency_create' without a bureau.")
    systems = list(
        BusinessSystem.objects.filter(pk__in=list(system_ids), department__parent_id=bureau.pk)
    )
    if len(systems) != len(set(system_ids)):
        raise ApplicationError(
            _("所选业务系统不属于本合同的使用单位。"), extra={"field": "systems"}
        )
    period = EmergencyPeriod.objects.create(
        contract=contract,
        start_date=start_date,
        end_date=end_date,
        reason=reason,
        created_by=actor,
    )
    period.systems.set(systems)
    audit_log(
        actor=actor,
        action="emergency_period.create",
        obj=period,
        after={
            "start_date": start_date.isoformat(),
            "end_date": end_date.isoformat(),
            "systems": [s.pk for s in systems],
        },
        contract=contract,
    )
    return period
