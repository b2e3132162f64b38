"""Demo statements: historical inventory and monthly statements in every interesting state.

``seed_parties()`` loads the reference contracts and creates the demo departments and one user
per role per organisation; ``seed_statements()`` (idempotent; needs ``seed_parties()`` first)
creates the inventories and BT-2025's spring: March and May 2026 **signed** by the vendor
(submission), the bureau and the supervisor, April **disputed** by the bureau on one line and
signed as version 2. ``seed_settlement()`` signs the rest of BT-2025's service year (all 13
months are signed) and records its payments; ``seed_succession()`` closes BT-2025 into its
successor BT-2026; ``seed_living()`` brings BT-2026 and JZ-2026 up to the day the demo is run:
signed months, an escalated dispute for the auditor, a late and a due statement.

Everything goes through the services — ``inventory_import``, ``statement_generate``,
``statement_submit``/``confirm``/``dispute`` with password re-authentication and, for the
sign-offs, each party's *demo signing passphrase* (``demo_signing_passphrase``: what
``seed_demo`` prints and ``create_dev_ca`` encrypts the keys with) — so each sign-off signs the PDF
with that party's key, the signals fire and the e-mails are queued, exactly as in production.
The development CA and the parties' keys are created first when missing (development only:
``seed_demo`` refuses in production mode). The statement
PDF is rendered right after generation here (the task is idempotent) rather than waiting for a
Celery worker, so the demo needs none. The shortcuts are history: the resizes of March 2026 are
written as ``ResourceChange`` rows directly (as a change ticket's delivery would), because the
tickets behind them predate the platform; and a past month's statement is shown as submitted
before its due day and a past dispute as raised then (``_submit``, ``_dispute``: the times are
moved back inside the step's own transaction, before anything hears of it). The sign-off rows
and the PDF signatures keep the real time: evidence is append-only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from billing.contracts import load_example_contract, load_reference_contracts
from billing.models import (
    Deduction,
    Invoice,
    Payment,
    Resource,
    ResourceChange,
    Statement,
    StatementStatus,
)
from billing.pricing import BUSINESS_TZ
from billing.reports.signing import statement_document_render
from billing.services import invoices as invoice_services
from billing.services import settlement as settlement_services
from billing.services import succession
from billing.services.engine import month_billing_bounds
from billing.services.inventory import IMPORT_NOTE, INVENTORY_COLUMNS, inventory_import
from billing.services.reauth import Reauth
from billing.services.statements import (
    statement_confirm,
    statement_dispute,
    statement_due_date,
    statement_escalate_overdue_disputes,
    statement_generate,
    statement_submit,
)
from govcloud.dates import business_today, month_start, previous_month, shift_month
from govcloud.demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD, DemoLogin, demo_login, demo_user
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract, Installment, Organization, OrganizationKind, Role, User
from govcloud.pdf.signing import create_dev_ca, demo_signing_passphrase, dev_party, party_key

__all__ = [
    "demo_contracts_and_users",
    "demo_living",
    "demo_statements",
    "demo_succession",
    "seed_living",
    "seed_parties",
    "seed_statements",
    "seed_succession",
]

ACTOR = "seed_demo"
# The bureaus as the shipped contract files name them (billing/data/contracts/*/contract.toml).
BT_BUREAU = "包头市行政审批政务服务与数据管理局"
JZ_BUREAU = "焦作市行政审批和政务信息管理局"

DEPARTMENTS = {
    BT_BUREAU: [
        ("包头市教育局", "市教育局", "bt_edu"),
        ("包头市卫生健康委员会", "市卫健委", "bt_health"),
        ("包头市公安局", "市公安局", "bt_police"),
        ("包头市人力资源和社会保障局", "市人社局", "bt_hrss"),
    ],
    JZ_BUREAU: [
        ("焦作市自然资源和规划局", "市自然资源局", "jz_land"),
        ("焦作市医疗保障局", "市医保局", "jz_medins"),
        ("焦作市住房和城乡建设局", "市住建局", "jz_housing"),
    ],
}

PARTY_USERS = [
    # (organisation name, username, full name, role)
    (BT_BUREAU, "bt_bureau", "包头数据局审核员", Role.STAFF),
    (BT_BUREAU, "bt_secadmin", "包头安全管理员", Role.SECURITY_ADMIN),
    (BT_BUREAU, "bt_auditadmin", "包头审计管理员", Role.AUDIT_ADMIN),
    (BT_BUREAU, "bt_sysadmin", "包头系统管理员", Role.SYSTEM_ADMIN),
    ("中国电信股份有限公司包头分公司", "bt_vendor", "包头电信交付工程师", Role.STAFF),
    ("中国电信股份有限公司包头分公司", "bt_vendor_admin", "包头电信用户管理员", Role.USER_ADMIN),
    ("包头市本级政务云服务项目第三方监理单位", "bt_supervisor", "项目监理工程师", Role.STAFF),
    ("包头市本级政务云服务项目第三方审计单位", "bt_auditor", "项目审计师", Role.STAFF),
    (JZ_BUREAU, "jz_bureau", "焦作政务局审核员", Role.STAFF),
    (JZ_BUREAU, "jz_secadmin", "焦作安全管理员", Role.SECURITY_ADMIN),
    (JZ_BUREAU, "jz_auditadmin", "焦作审计管理员", Role.AUDIT_ADMIN),
    (JZ_BUREAU, "jz_sysadmin", "焦作系统管理员", Role.SYSTEM_ADMIN),
    ("浪潮云信息技术股份公司", "jz_vendor", "浪潮云交付工程师", Role.STAFF),
    ("浪潮云信息技术股份公司", "jz_vendor_admin", "浪潮云用户管理员", Role.USER_ADMIN),
    ("焦作国资数字产业投资发展有限公司", "jz_vendor2", "焦作国资数产运维工程师", Role.STAFF),
]


@transaction.atomic
def seed_parties() -> list[DemoLogin]:
    """The reference contracts, their parties' users and the demo departments (idempotent)."""
    load_reference_contracts(actor="seed_demo")
    # BT-2025 ended on 2026-06-19; its successor is an example folder (not a real contract),
    # loaded the way a bureau onboards one.
    load_example_contract("bt-2026", actor="seed_demo")
    logins: list[DemoLogin] = []
    for org_name, username, full_name, role in PARTY_USERS:
        org = Organization.objects.get(name=org_name)
        if not org.email:
            org.email = f"{username}-org@{DEMO_EMAIL_DOMAIN}"
            org.save(update_fields=["email"])
        user = demo_user(username, full_name, org, role)
        logins.append(demo_login(user))
    for bureau_name, departments in DEPARTMENTS.items():
        bureau = Organization.objects.get(name=bureau_name)
        for name, short, username in departments:
            dept, _created = Organization.objects.get_or_create(
                name=name,
                defaults={
                    "short_name": short,
                    "kind": OrganizationKind.DEPARTMENT,
                    "parent": bureau,
                    "email": f"{username}-org@{DEMO_EMAIL_DOMAIN}",
                },
            )
            user = demo_user(username, f"{short}信息科", dept, Role.STAFF)
            logins.append(demo_login(user))
    return logins


RESIZE_NOTE = "演示：2026年3月扩容（历史工单）"


@dataclass(frozen=True)
class _Resource:
    department: str
    system: str
    item: str
    quantity: int
    online_at: str
    offline_at: str = ""
    billing_starts_at: str = ""


# (department login, system, [(item, low, high)]) — quantities drawn from a fixed seed.
BT_SYSTEMS = [
    ("bt_edu", "智慧教育云平台", [("ecs.general.vcpu", 8, 32), ("ecs.general.mem", 16, 64)]),
    ("bt_edu", "智慧教育云平台", [("ebs.ssd", 500, 2000), ("backup.local", 500, 1500)]),
    ("bt_edu", "教育考试招生系统", [("ecs.general.vcpu", 4, 16), ("ecs.general.mem", 8, 32)]),
    ("bt_edu", "教育考试招生系统", [("ebs.ssd", 300, 800), ("sec.mlps3", 1, 1)]),
    ("bt_health", "全民健康信息平台", [("ecs.general.vcpu", 16, 48), ("ecs.general.mem", 32, 96)]),
    ("bt_health", "全民健康信息平台", [("ebs.ssd", 1000, 4000), ("oss", 2000, 8000)]),
    ("bt_health", "互联网医院", [("ecs.domestic.vcpu", 8, 24), ("ecs.domestic.mem", 16, 48)]),
    ("bt_health", "互联网医院", [("ebs.sas", 800, 2000), ("sec.mlps3", 1, 1)]),
    ("bt_police", "视频图像解析系统", [("ecs.general.vcpu", 32, 64), ("ecs.general.mem", 64, 128)]),
    ("bt_police", "视频图像解析系统", [("gpu.card.t3", 2, 4), ("oss", 10000, 30000)]),
    ("bt_police", "警务综合平台", [("ecs.domestic.vcpu", 8, 32), ("ecs.domestic.mem", 16, 64)]),
    ("bt_police", "警务综合平台", [("ebs.ssd", 800, 2400), ("sec.crypto", 1, 1)]),
    ("bt_hrss", "社保经办系统", [("ecs.general.vcpu", 8, 24), ("ecs.general.mem", 16, 48)]),
    ("bt_hrss", "社保经办系统", [("ebs.ssd", 500, 1500), ("line.1g", 1, 2)]),
    ("bt_hrss", "就业公共服务平台", [("ecs.general.vcpu", 4, 12), ("ecs.general.mem", 8, 24)]),
    ("bt_hrss", "就业公共服务平台", [("ebs.sas", 300, 900), ("nas", 200, 600)]),
    # The city's large platforms: they carry most of a year's fees (BT-2025 is estimated at
    # ¥8.7M a year), so the settlement's figures and the ¥1,000,000 advance read as in life.
    (
        "bt_police",
        "雪亮工程视频云",
        [("ecs.general.vcpu", 900, 1100), ("ecs.general.mem", 1800, 2200)],
    ),
    ("bt_police", "雪亮工程视频云", [("oss", 400000, 600000), ("colo.rack", 8, 12)]),
    (
        "bt_health",
        "全民健康信息平台",
        [("ecs.domestic.vcpu", 600, 800), ("ecs.domestic.mem", 1200, 1600)],
    ),
    ("bt_health", "全民健康信息平台", [("ebs.ssd", 60000, 90000), ("sec.mlps3", 1, 1)]),
]
# (department login, system, [(item, low, high)]) on JZ's flavour catalog (prices per year).
JZ_SYSTEMS = [
    ("jz_land", "不动产登记系统", [("ecs.8c16g", 2, 4), ("ebs.1t", 2, 6), ("slb", 1, 1)]),
    ("jz_land", "国土空间规划一张图", [("ecs.16c64g", 1, 2), ("oss.std.1t", 4, 10)]),
    ("jz_medins", "医保结算系统", [("ecs.4c8g", 3, 6), ("ebs.1t", 1, 4), ("sec.waf", 1, 2)]),
    ("jz_medins", "医保结算系统", [("sw.db", 1, 1), ("sec.dbaudit", 1, 1)]),
    ("jz_housing", "住房公积金管理系统", [("ecs.8c32g", 2, 3), ("ebs.1t", 2, 4)]),
    ("jz_housing", "智慧工地监管平台", [("ecs.4c16g", 2, 4), ("oss.low.1t", 5, 15)]),
]


def _local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=BUSINESS_TZ)


def _department_name(login: str) -> str:
    return User.objects.select_related("organization").get(username=login).organization.name


def _bt_rows(rng: random.Random) -> list[_Resource]:
    rows = []
    for index, (login, system, items) in enumerate(BT_SYSTEMS):
        department = _department_name(login)
        month = 7 + index % 6  # online between July and December 2025
        for item, low, high in items:
            day = rng.randint(1, 27)
            hour = rng.choice([9, 10, 14, 16, 20])
            offline = ""
            if index in (3, 11) and item.startswith("ebs"):
                offline = "2026-03-15 18:00"  # released in the middle of March
            elif index == 15 and item == "nas":
                offline = "2026-02-10 09:00"  # released before March: not on its statement
            rows.append(
                _Resource(
                    department=department,
                    system=system,
                    item=item,
                    quantity=rng.randint(low, high),
                    online_at=f"2025-{month:02d}-{day:02d} {hour:02d}:00",
                    offline_at=offline,
                )
            )
    return rows


def _jz_rows(rng: random.Random) -> list[_Resource]:
    rows = []
    for login, system, items in JZ_SYSTEMS:
        department = _department_name(login)
        for item, low, high in items:
            day = rng.choice(["2026-03-20 09:00", "2026-04-08 15:00", "2026-05-12 10:00"])
            rows.append(
                _Resource(
                    department=department,
                    system=system,
                    item=item,
                    quantity=rng.randint(low, high),
                    online_at=day,
                )
            )
    return rows


def _csv(rows: list[_Resource]) -> str:
    lines = [",".join(INVENTORY_COLUMNS)]
    for r in rows:
        lines.append(
            ",".join(
                [
                    r.department,
                    r.system,
                    r.item,
                    str(r.quantity),
                    r.online_at,
                    r.offline_at,
                    r.billing_starts_at,
                ]
            )
        )
    return "\n".join(lines) + "\n"


def _import(contract: Contract, systems: list[tuple], rows: list[_Resource]) -> int:
    # Tickets of the demo deliver resources into some of the same systems: only a previous
    # import (its history rows carry the import note) means this step already ran.
    names = {system for _, system, _ in systems}
    imported = Resource.objects.filter(
        contract=contract, system__name__in=names, changes__note=IMPORT_NOTE
    )
    if imported.exists():
        return 0
    result = inventory_import(actor=ACTOR, contract=contract, csv_text=_csv(rows))
    return result.resources_created


@transaction.atomic
def _resize_in_march(contract: Contract) -> int:
    """Two BT servers grew in March 2026 (one before noon, one after): split lines."""
    if ResourceChange.objects.filter(resource__contract=contract, note=RESIZE_NOTE).exists():
        return 0
    resized = 0
    targets = [
        ("智慧教育云平台", "ecs.general.vcpu", "2026-03-16 10:30", 2),
        ("视频图像解析系统", "ecs.general.mem", "2026-03-09 15:00", 2),
    ]
    for system, item, at, factor in targets:
        resource = (
            Resource.objects.select_for_update(of=("self",))
            .filter(contract=contract, system__name=system, catalog_item__code=item)
            .order_by("pk")
            .first()
        )
        if resource is None:
            continue
        resource.quantity *= factor
        resource.save(update_fields=["quantity"])
        ResourceChange.objects.create(
            resource=resource,
            catalog_item=resource.catalog_item,
            quantity=resource.quantity,
            delivered_at=_local(at),
            note=RESIZE_NOTE,
        )
        resized += 1
    return resized


def _password() -> Reauth:
    return Reauth(method="password", value=DEMO_PASSWORD)


def _passphrase(user: User) -> str:
    """The demo passphrase of the user's organisation's signing key."""
    assert user.organization_id is not None  # noqa: S101 — demo party users have one
    return demo_signing_passphrase(user.organization_id)


def _ensure_signing_keys(*contracts: Contract) -> str:
    """The development CA and the demo keys of the contracts' parties (only those missing)."""
    directory = Path(settings.SIGNING_DIR)
    organizations = sorted(
        {p.organization for c in contracts for p in c.parties.all()}, key=lambda o: o.pk
    )
    missing = [o for o in organizations if not (directory / f"{party_key(o.pk)}.p12").exists()]
    if not missing and (directory / "ca.pem").exists():
        return f"签名密钥：{len(organizations)} 个单位已就绪"
    if not settings.DEBUG:
        raise RuntimeError("签名密钥缺失且 DEBUG 已关闭：演示数据只在开发演示环境生成。")
    written = create_dev_ca(directory, [dev_party(o.pk, o.name) for o in organizations])
    return f"签名密钥：新建 {len(written)} 个文件（开发根证书与各单位演示密钥）"


def _render_now(statement: Statement) -> None:
    # Idempotent; the task enqueued by the service finds the document there.
    statement_document_render(statement_id=statement.pk)


def _users(*logins: str) -> dict[str, User]:
    return {u.username: u for u in User.objects.filter(username__in=logins)}


def _submitted_in_time(statement: Statement) -> datetime:
    """When a past month's statement is shown as submitted (see ``_submitted_in_time_of``)."""
    return _submitted_in_time_of(statement.contract, date(statement.year, statement.month, 1))


def _submitted_in_time_of(contract: Contract, month: date) -> datetime:
    """The day before the month's due day (the 3rd of the next month where the contract sets
    none), 10:00."""
    due, _provisional = statement_due_date(contract, month.year, month.month)
    following = shift_month(month, 1)
    day = due or date(following.year, following.month, 3)
    return datetime.combine(day - timedelta(days=1), time(10)).replace(tzinfo=BUSINESS_TZ)


def _submit(statement: Statement, vendor: User, *, on_time: bool) -> None:
    """The vendor submits (its signature on the PDF). A month of the past is submitted "then":
    inside the submission's transaction its submission time is moved back before the due day,
    so what hears of it after commit (the SLA's deliverable record) sees it on time and no
    late notice goes out. The sign-off rows and the PDF signature keep the real time
    (evidence is append-only)."""
    with transaction.atomic():
        statement_submit(
            actor=vendor,
            statement=statement,
            reauth=_password(),
            signing_passphrase=_passphrase(vendor),
        )
        if on_time:
            submitted = _submitted_in_time(statement)
            Statement.objects.filter(pk=statement.pk).update(
                generated_at=submitted - timedelta(hours=2), submitted_at=submitted, is_late=False
            )


def _confirm_all(statement: Statement, confirmers: list[User]) -> None:
    for user in confirmers:
        statement_confirm(
            actor=user,
            statement=statement,
            reauth=_password(),
            signing_passphrase=_passphrase(user),
        )


def _dispute(statement: Statement, by: User, opened_at: datetime | None = None) -> None:
    line = statement.lines.order_by("-amount").first()
    statement_dispute(
        actor=by,
        statement=statement,
        reauth=_password(),
        comment="该行资源数量与已交付工单不符，请乙方核实后重新出具。",
        line_ids=[line.pk] if line else [],
    )
    if opened_at is not None:
        # The dispute of a past month was raised then: its escalation clock runs from then.
        Statement.objects.filter(pk=statement.pk).update(
            disputed_at=opened_at, dispute_opened_at=opened_at
        )


def _generate(contract: Contract, year: int, month: int, vendor: User) -> Statement:
    statement = statement_generate(actor=vendor, contract=contract, year=year, month=month)
    _render_now(statement)
    return statement


def _statement(
    contract: Contract,
    year: int,
    month: int,
    *,
    vendor: User,
    confirmers: list[User],
    dispute_by: User | None = None,
    answer_dispute: bool = False,
    on_time: bool = True,
    dispute_opened_at: datetime | None = None,
) -> str:
    """Generate and take one month's statement to its demo state, once.

    ``dispute_by`` disputes the first version; with ``answer_dispute`` the vendor then issues
    version 2 and every confirmer signs it (a month with a version history).
    """
    period = f"{contract.code} {year:04d}-{month:02d}"
    if Statement.objects.filter(contract=contract, year=year, month=month).exists():
        return f"{period}：已存在，跳过"
    statement = _generate(contract, year, month, vendor)
    _submit(statement, vendor, on_time=on_time)
    if dispute_by is None:
        _confirm_all(statement, confirmers)
    else:
        _dispute(statement, dispute_by, dispute_opened_at)  # the first to sign disputes
        if answer_dispute:
            statement = _generate(contract, year, month, vendor)
            _submit(statement, vendor, on_time=on_time)
            _confirm_all(statement, confirmers)
    statement.refresh_from_db()
    return f"{period}：{StatementStatus(statement.status).label}（{statement.total} 元）"


def seed_statements() -> list[str]:
    """Create the demo inventory and BT-2025's spring statements (skips whatever exists)."""
    if not User.objects.filter(username="bt_edu").exists():
        raise RuntimeError("Run billing.demo.seed_parties() first: the demo users are missing.")
    report: list[str] = []
    rng = random.Random(20260301)  # noqa: S311 — demo data: the same on every machine
    bt = Contract.objects.prefetch_related("parties__organization").get(code="BT-2025")
    jz = Contract.objects.prefetch_related("parties__organization").get(code="JZ-2026")

    report.append(_ensure_signing_keys(bt, jz))
    report.append(f"BT-2025 资源清单：新建 {_import(bt, BT_SYSTEMS, _bt_rows(rng))} 项")
    report.append(f"BT-2025 2026年3月扩容记录：新建 {_resize_in_march(bt)} 条")
    report.append(f"JZ-2026 资源清单：新建 {_import(jz, JZ_SYSTEMS, _jz_rows(rng))} 项")

    users = _users("bt_vendor", "bt_bureau", "bt_supervisor")
    bt_vendor, signers = users["bt_vendor"], [users["bt_bureau"], users["bt_supervisor"]]
    for month in (3, 4, 5):
        if not _month_over(bt, 2026, month):
            continue
        report.append(
            _statement(
                bt,
                2026,
                month,
                vendor=bt_vendor,
                confirmers=signers,
                # April: the bureau disputed a line, the vendor issued version 2, all signed.
                dispute_by=users["bt_bureau"] if month == 4 else None,
                answer_dispute=month == 4,
            )
        )
    return report


def _month_over(contract: Contract, year: int, month: int) -> bool:
    """Whether the month has ended (today) and the contract bills some of it."""
    lower, upper = month_billing_bounds(contract, year, month)
    return lower < upper and date(year, month, 1) < month_start(business_today())


def demo_contracts_and_users() -> str:
    """Demo part (registered by ``BillingConfig``): contracts, parties, departments, users."""
    logins = seed_parties()
    return f"参考合同（JZ-2026、BT-2025）与演示账号已就绪：{len(logins)} 个账号。"


def demo_statements() -> str:
    """Demo part: inventory and statements, including fully signed BT-2025 and JZ-2026."""
    report = seed_statements()
    return "\n".join(
        [*report, "月度统计表演示数据已就绪（含全部签认并数字签名的 BT-2025、JZ-2026 统计表）。"]
    )


# --------------------------------------------------------------------------- settlement


def seed_settlement() -> list[str]:
    """BT-2025: every month of its service year signed, the advance and the half-year payment
    with their invoices, a deduction the vendor acknowledged. JZ-2026: one invoice, and the
    settlement year that is settled in December (Dec→Nov, ``billing.periods``) as a preview.
    Idempotent."""
    report: list[str] = []
    bt = Contract.objects.prefetch_related("parties__organization").get(code="BT-2025")
    jz = Contract.objects.prefetch_related("parties__organization").get(code="JZ-2026")
    users = _users("bt_vendor", "bt_bureau", "bt_supervisor", "jz_vendor", "jz_bureau")
    bt_vendor, bt_bureau = users["bt_vendor"], users["bt_bureau"]
    if Payment.objects.filter(contract=bt).exists():
        return ["结算演示数据已存在，跳过"]
    # The months the statements part did not sign (it signs March to May 2026).
    months = [(2025, m) for m in range(6, 13)] + [(2026, m) for m in (1, 2, 6)]
    for year, month in months:
        if not _month_over(bt, year, month):
            continue
        try:
            report.append(
                _statement(
                    bt,
                    year,
                    month,
                    vendor=bt_vendor,
                    confirmers=[bt_bureau, users["bt_supervisor"]],
                )
            )
        except ApplicationError as exc:  # e.g. a month without any resource
            report.append(f"BT-2025 {year}-{month:02d}：{exc.message}")
    installments = {i.sequence: i for i in Installment.objects.filter(contract=bt)}
    first, second = settlement_services.contract_settlement_periods(bt)[:2]

    advance = installments[1]
    invoice = invoice_services.invoice_register(
        actor=bt_vendor,
        contract=bt,
        number="BT-INV-2025-001",
        issued_on=date(2025, 7, 3),
        amount=advance.amount,
        installment=advance,
    )
    invoice_services.invoice_confirm(actor=bt_bureau, invoice=invoice)
    settlement_services.payment_record(
        actor=bt_bureau,
        contract=bt,
        installment=advance,
        amount=advance.amount,
        paid_on=date(2025, 7, 15),
        note="预付款（合同 7.2.1 第一次）",
    )
    report.append(f"BT-2025 预付款 {advance.amount} 元：已开票、已确认、已付款")

    half = settlement_services.settlement_summary(bt, first)
    if half.payable > 0:
        if half.fully_signed:
            invoice = invoice_services.invoice_register(
                actor=bt_vendor,
                contract=bt,
                number="BT-INV-2026-001",
                issued_on=date(2026, 1, 8),
                amount=half.payable,
                installment=installments[2],
                period_label=first.key,
            )
            invoice_services.invoice_confirm(actor=bt_bureau, invoice=invoice)
        settlement_services.payment_record(
            actor=bt_bureau,
            contract=bt,
            installment=installments[2],
            period_label=first.key,
            amount=half.payable,
            paid_on=date(2026, 1, 20),
            note="半年付款（合同 7.2.1 第二次，据实结算）",
        )
        report.append(f"BT-2025 第一个半年实际应付 {half.payable} 元：已付款")

    if not Deduction.objects.filter(contract=bt).exists():
        deduction = settlement_services.deduction_create(
            actor=bt_bureau,
            contract=bt,
            period_label=second.key,
            amount=Decimal("2000.00"),
            reason="2026年3月资源交付超时 2 次（附件2 §2）",
            event_on=date(2026, 4, 2),
        )
        settlement_services.deduction_acknowledge(actor=bt_vendor, deduction=deduction)
        report.append("BT-2025 考核扣款 2000.00 元：已出具书面通知书，乙方已签字确认生效")
    state = settlement_services.contract_settlement(bt)
    report.append(
        f"BT-2025 实际应付合计 {state.payable_total} 元，已付 {state.paid_total} 元，"
        f"尾款 {state.balance} 元"
    )

    preview = settlement_services.contract_settlement_periods(jz)[0]
    summary = settlement_services.settlement_summary(jz, preview)
    if summary.signed_total > 0 and not Invoice.objects.filter(contract=jz).exists():
        invoice_services.invoice_register(
            actor=users["jz_vendor"],
            contract=jz,
            number="JZ-INV-2026-001",
            issued_on=min(business_today(), date(2026, 12, 4)),
            amount=summary.signed_total,
            period_label=preview.key,
        )
    report.append(
        f"JZ-2026 {preview.label} 于 12 月结算（预览）：已签认 {summary.signed_total} 元，"
        f"未签认 {summary.unsigned_months} 个月"
    )
    return report


def demo_settlement() -> str:
    """Demo part: payments, invoices, a deduction, JZ's December settlement preview."""
    return "\n".join([*seed_settlement(), "结算演示数据已就绪。"])


# --------------------------------------------------------------------------- succession

#: BT-2025 ended on 2026-06-19; its successor (the BT-2026 example) took the inventory over at
#: 00:00 of the next day: no continuation days, no day billed twice or lost.
BT_CUTOVER = date(2026, 6, 20)


def seed_succession() -> list[str]:
    """BT-2025's inventory carried over to BT-2026 at the cutover; BT-2025 closes (idempotent)."""
    bt = Contract.objects.get(code="BT-2025")
    successor = Contract.objects.get(code="BT-2026")
    if successor.predecessor_id is not None:
        return [f"{successor.code} 已于 {successor.cutover_on} 承接 {bt.code} 的资源，跳过"]
    if business_today() < BT_CUTOVER:
        return [f"今天早于 {BT_CUTOVER}：{bt.code} 仍在服务期内，暂不办理承接"]
    bureau = User.objects.get(username="bt_bureau")
    carried = succession.contract_cutover(
        actor=bureau, predecessor=bt, successor=successor, cutover_on=BT_CUTOVER
    )
    bt.refresh_from_db()
    return [
        f"{successor.code} 自 {BT_CUTOVER} 00:00 承接 {bt.code} 的在用资源 {len(carried)} 项；"
        f"{bt.code} 状态：{bt.get_status_display()}"
    ]


def demo_succession() -> str:
    """Demo part: BT-2025 closed, its successor BT-2026 running with the carried inventory."""
    return "\n".join([*seed_succession(), "合同承接演示数据已就绪。"])


# --------------------------------------------------------------------------- the living months


def _months(contract: Contract, last: date) -> list[date]:
    """The months the contract bills, from its first to ``last`` (first days)."""
    first = month_start(contract.billing_from or contract.service_start)
    months = []
    month = first
    while month <= last:
        if _month_over(contract, month.year, month.month):
            months.append(month)
        month = shift_month(month, 1)
    return months


def seed_living() -> list[str]:
    """The months up to today, relative to the day the demo is run (idempotent).

    With L the last month (today's month minus one):

    * BT-2026 (BT-2025's successor, 5th-working-day due date, auditor after 3 working days):
      every month before L−2 signed on time; L−2 disputed by the bureau at the time and
      escalated by the dispute job — the auditor has it to decide; L−1 submitted only today,
      after its due day (逾期提交), waiting for the bureau; L not generated yet — due on the
      5th working day of this month, or overdue once that has passed.
    * JZ-2026 (no due day, no auditor): every month from its billing start to L−1 signed,
      L submitted today and waiting for the bureau.
    """
    report: list[str] = []
    today = business_today()
    last = previous_month(today)
    users = _users(
        "bt_vendor", "bt_bureau", "bt_supervisor", "jz_vendor", "jz_bureau", "bt_auditor"
    )
    successor = Contract.objects.prefetch_related("parties__organization").filter(code="BT-2026")
    bt = successor.first()
    jz = Contract.objects.prefetch_related("parties__organization").get(code="JZ-2026")
    report.append(_ensure_signing_keys(*[c for c in (bt, jz) if c is not None]))
    if bt is not None and bt.predecessor_id is not None:
        signers = [users["bt_bureau"], users["bt_supervisor"]]
        escalated, late = shift_month(last, -2), shift_month(last, -1)
        for month in _months(bt, late):
            kwargs: dict = {"vendor": users["bt_vendor"], "confirmers": signers}
            if month == escalated:
                opened = _submitted_in_time_of(bt, month) + timedelta(days=3)
                kwargs.update(dispute_by=users["bt_bureau"], dispute_opened_at=opened)
            elif month == late:
                kwargs.update(confirmers=[], on_time=False)
            report.append(_statement(bt, month.year, month.month, **kwargs))
        escalated_ids = statement_escalate_overdue_disputes()
        report.append(f"{bt.code} 争议超期提交审计：{len(escalated_ids)} 张")
    for month in _months(jz, last):
        current = month == last
        report.append(
            _statement(
                jz,
                month.year,
                month.month,
                vendor=users["jz_vendor"],
                confirmers=[] if current else [users["jz_bureau"]],
                on_time=not current,
            )
        )
    return report


def demo_living() -> str:
    """Demo part: BT-2026 and JZ-2026 up to today — signed, escalated, late, due."""
    return "\n".join(
        [*seed_living(), "当月演示数据已就绪（相对于今天：待提交、逾期、争议待审计）。"]
    )
