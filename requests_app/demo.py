"""Demo tickets in every state on both reference contracts (idempotent).

Tickets go through the real services. The Baotou tickets go to the Baotou contract that takes
requests today: BT-2025 ended on 2026-06-19 and its successor BT-2026 (the example contract)
runs now. Some need a past: on BT an overdue ticket and a late, exempted delivery; on JZ-2026
(no delivery clock, 四.5 及时) an open ticket and a slow delivery that show the elapsed working
days and, unlike BT, no deadline and no breach. For those the approval instant is moved back
after the fact and the deadline recomputed from the contract's terms on the official calendar,
as if the ticket had been approved then. A delivery recorded days after the fact is a *claim*
(issue 12: delivery-time integrity): it carries a reason and evidence, counts from the moment it
was recorded until the review chain confirms it — the BT one is confirmed (and still late, so
its exemption follows), the JZ one waits for the bureau.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from govcloud.joint import JOINT_ACTIONS, joint_confirm, joint_for
from govcloud.lifecycle import is_open_for_requests
from govcloud.models import Contract, JointSubject, User
from requests_app import services
from requests_app.clocks import due_for
from requests_app.models import ResourceRequest

DEMO_MARK = "【演示】"


def _users(*names: str) -> list[User]:
    return [User.objects.get(username=n) for n in names]


def _create(
    dept: User, contract: Contract, system: str, code: str, qty: int, reason: str, submit=True
):
    item = contract.catalog_items.get(code=code)
    return services.request_create(
        actor=dept,
        contract=contract,
        kind="new",
        reason=f"{DEMO_MARK}{reason}",
        system_name=system,
        lines=[services.LineInput(catalog_item_id=item.pk, quantity=qty)],
        submit=submit,
    )


def _approve_all(ticket: ResourceRequest, reviewers: list[User]) -> ResourceRequest:
    for reviewer in reviewers:
        ticket = services.request_approve(actor=reviewer, ticket=ticket, comment="同意开通。")
    return ticket


def _deliver(
    ticket: ResourceRequest, vendor: User, delivered_at=None, claim_reason: str = ""
) -> ResourceRequest:
    items = [
        services.DeliveryInput(line_id=line.pk, vendor_ref=f"ins-{ticket.pk:04d}-{line.pk:04d}")
        for line in ticket.lines.all()
    ]
    evidence = (
        [SimpleUploadedFile("开通记录.txt", "多云管理平台开通日志（演示）".encode())]
        if claim_reason
        else []
    )
    return services.request_deliver(
        actor=vendor,
        ticket=ticket,
        items=items,
        delivered_at=delivered_at,
        claim_reason=claim_reason,
        evidence=evidence,
    )


def _open_bt_contract() -> Contract:
    """The Baotou contract that takes requests today (BT-2026 after BT-2025 ended)."""
    candidates = Contract.objects.filter(code__startswith="BT-").order_by("-service_start")
    for contract in candidates:
        if is_open_for_requests(contract):
            return contract
    raise RuntimeError("No Baotou contract takes requests today: load the BT-2026 example.")


def _backdate(ticket: ResourceRequest, approved_at) -> ResourceRequest:
    due, provisional = due_for(ticket.contract, approved_at, extended=ticket.extended)
    ResourceRequest.objects.filter(pk=ticket.pk).update(
        approved_at=approved_at,
        due_at=due,
        due_provisional=provisional,
        submitted_at=approved_at - timedelta(hours=3),
        created_at=approved_at - timedelta(hours=4),
    )
    ticket.refresh_from_db()
    return ticket


@transaction.atomic
def seed_tickets() -> int:
    """Create the demo tickets once; returns how many were created."""
    if ResourceRequest.objects.filter(reason__startswith=DEMO_MARK).exists():
        return 0
    bt = _open_bt_contract()
    jz = Contract.objects.get(code="JZ-2026")
    edu, health, police = _users("bt_edu", "bt_health", "bt_police")
    land, medins = _users("jz_land", "jz_medins")
    bt_bureau, bt_sup, bt_vendor = _users("bt_bureau", "bt_supervisor", "bt_vendor")
    jz_bureau, jz_vendor = _users("jz_bureau", "jz_vendor")
    now = timezone.now()
    created = 0

    # BT-2025: every state of the two-step chain (bureau, then supervisor).
    _create(
        edu,
        bt,
        "智慧校园平台",
        "ecs.general.vcpu",
        16,
        "新学期选课系统扩容前的计算资源",
        submit=False,
    )
    _create(edu, bt, "智慧校园平台", "ebs.ssd", 2000, "选课系统数据库存储")
    in_review = _create(health, bt, "全民健康信息平台", "ecs.general.mem", 64, "健康档案查询内存")
    services.request_approve(actor=bt_bureau, ticket=in_review, comment="同意，请监理复核。")
    approved = _create(
        health, bt, "全民健康信息平台", "ecs.general.vcpu", 8, "健康档案查询计算资源"
    )
    _approve_all(approved, [bt_bureau, bt_sup])
    overdue = _create(police, bt, "视频图像解析系统", "gpu.card.t3", 2, "视频结构化分析国产GPU")
    overdue = _approve_all(overdue, [bt_bureau, bt_sup])
    _backdate(overdue, now - timedelta(days=9))
    delivered = _create(police, bt, "视频图像解析系统", "oss", 5000, "视频归档对象存储")
    _deliver(_approve_all(delivered, [bt_bureau, bt_sup]), bt_vendor)
    late = _create(edu, bt, "教育资源公共服务平台", "ecs.general.vcpu", 4, "资源平台前端")
    late = _backdate(_approve_all(late, [bt_bureau, bt_sup]), now - timedelta(days=12))
    late = _deliver(
        late,
        bt_vendor,
        delivered_at=late.due_at + timedelta(hours=20),
        claim_reason="夜间完成开通，次日上午补登记。",
    )
    claim = joint_for(late, JointSubject.DELIVERY_TIME)
    for party in (bt_bureau, bt_sup):
        if claim is not None and JOINT_ACTIONS.allows("confirm", party, claim):
            claim = joint_confirm(actor=party, confirmation=claim)
    late.refresh_from_db()
    services.request_exempt(
        actor=bt_sup, ticket=late, reason="机房市电检修，经甲方同意顺延，非乙方原因。"
    )
    # BT 附件2 §2: the exemption counts once the bureau confirms the supervisor's proposal too.
    exemption = joint_for(late, JointSubject.LATE_DELIVERY_EXEMPTION)
    if exemption is not None and JOINT_ACTIONS.allows("confirm", bt_bureau, exemption):
        joint_confirm(actor=bt_bureau, confirmation=exemption)
    returned = _create(health, bt, "全民健康信息平台", "sec.mlps3", 1, "等保三级组件")
    services.request_return(actor=bt_bureau, ticket=returned, comment="请补充等保定级备案证明。")
    rejected = _create(police, bt, "视频图像解析系统", "colo.rack", 4, "自有服务器托管")
    services.request_reject(actor=bt_bureau, ticket=rejected, comment="托管需求请走机房专项审批。")
    cancelled = _create(edu, bt, "智慧校园平台", "nas", 500, "共享文件存储")
    services.request_cancel(actor=edu, ticket=cancelled, comment="改用对象存储。")
    created += 10

    # JZ-2026: bureau-only review, yearly flavour catalog, no delivery clock (四.5 及时):
    # approved tickets have no deadline and show the working days elapsed since approval.
    _create(land, jz, "不动产登记系统", "ebs.1t", 4, "登记影像归档存储", submit=False)
    _create(land, jz, "不动产登记系统", "ecs.8c16g", 2, "不动产登记业务高峰扩容")
    jz_open = _create(land, jz, "国土空间规划一张图", "ecs.16c64g", 1, "规划一张图渲染服务")
    jz_open = services.request_approve(actor=jz_bureau, ticket=jz_open, comment="同意。")
    _backdate(jz_open, now - timedelta(days=6))
    jz_today = _create(medins, jz, "医保结算系统", "ecs.4c8g", 3, "医保结算应用服务器")
    _deliver(services.request_approve(actor=jz_bureau, ticket=jz_today), jz_vendor)
    jz_slow = _create(medins, jz, "医保结算系统", "ecs.8c32g", 2, "医保结算数据库服务器")
    jz_slow = _backdate(
        services.request_approve(actor=jz_bureau, ticket=jz_slow), now - timedelta(days=14)
    )
    _deliver(
        jz_slow,
        jz_vendor,
        delivered_at=jz_slow.approved_at + timedelta(days=8, hours=2),
        claim_reason="已按时开通，工单系统故障未能及时登记。",
    )
    jz_returned = _create(land, jz, "不动产登记系统", "ecs.32c128g", 2, "登记大数据分析")
    services.request_return(
        actor=jz_bureau, ticket=jz_returned, comment="请说明与现有分析资源的关系。"
    )
    jz_rejected = _create(medins, jz, "医保结算系统", "bm.2s8c.64g", 1, "自建数据库物理机")
    services.request_reject(actor=jz_bureau, ticket=jz_rejected, comment="请优先使用云主机。")
    jz_cancelled = _create(land, jz, "国土空间规划一张图", "oss.low.1t", 2, "历史图层归档")
    services.request_cancel(actor=land, ticket=jz_cancelled, comment="改由本地归档。")
    created += 8
    return created


def demo_tickets() -> str:
    """Demo part (registered by ``RequestsAppConfig``)."""
    return f"演示工单：新建 {seed_tickets()} 张（已有则跳过）。"
