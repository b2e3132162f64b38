"""Improvement reports through the joint confirmation (BT 附件2 §9: bureau, supervisor, auditor).

A notice counts as fixed only when its report is jointly confirmed; an objection sends it back
to the vendor; a contract without the term keeps the issuer's own confirmation (JZ 四.2).
"""

from __future__ import annotations

import pytest
import time_machine

from govcloud.exceptions import ActionForbidden
from govcloud.joint import joint_confirm, joint_for, joint_object
from govcloud.models import JointStatus, JointSubject
from sla.models import NoticeStatus
from sla.services import notices
from sla.services.actions import notice_available_actions
from sla.services.scorecard import gather_improvement
from tests.sla.builders import notice
from tests.sla.factories import at

pytestmark = pytest.mark.django_db

SUBJECT = JointSubject.IMPROVEMENT_REPORT
ISSUED = at(2026, 7, 1, 10)
# 10 working days after 2026-07-01: due 2026-07-15 24:00; checked well after it.
LATER = at(2026, 8, 3, 10)


@pytest.fixture
def three(world):
    world.contract.joint_confirmations = {str(SUBJECT): ["bureau", "supervisor", "auditor"]}
    world.contract.save(update_fields=["joint_confirmations"])
    return world


def test_not_fixed_until_all_three_confirm(three):
    world = three
    with time_machine.travel(ISSUED, tick=False):
        n = notice(world)  # the vendor's report the same day: in time
    assert n.status == NoticeStatus.FIXED
    confirmation = joint_for(n, SUBJECT)
    assert confirmation.required_roles == ["bureau", "supervisor", "auditor"]
    # The issuer alone can no longer confirm.
    assert "confirm" not in notice_available_actions(user=world.users["supervisor"], obj=n)
    with pytest.raises(ActionForbidden):
        notices.notice_confirm(actor=world.users["supervisor"], notice=n, accept=True)

    before = gather_improvement(world.contract, 2026, LATER).areas[0]
    for who in ("bureau", "supervisor"):
        joint_confirm(actor=world.users[who], confirmation=confirmation)
    n.refresh_from_db()
    assert n.status == NoticeStatus.FIXED
    assert (
        gather_improvement(world.contract, 2026, LATER).areas[0].deducted_points
        == before.deducted_points
    )
    assert before.deducted_points == 2  # −2: past its period and not (yet) jointly confirmed

    joint_confirm(actor=world.users["auditor"], confirmation=confirmation)
    n.refresh_from_db()
    assert n.status == NoticeStatus.CONFIRMED
    assert n.confirmed_by == world.users["auditor"]
    assert gather_improvement(world.contract, 2026, LATER).areas[0].deducted_points == 0


def test_objection_sends_the_report_back_and_a_new_report_restarts(three):
    world = three
    with time_machine.travel(ISSUED, tick=False):
        n = notice(world)
        confirmation = joint_for(n, SUBJECT)
        joint_confirm(actor=world.users["bureau"], confirmation=confirmation)
        joint_object(
            actor=world.users["auditor"], confirmation=confirmation, reason="缺少巡检签字页"
        )
    n.refresh_from_db()
    assert (n.status, n.fixed_at, n.last_comment) == (NoticeStatus.ISSUED, None, "缺少巡检签字页")
    with time_machine.travel(at(2026, 7, 3, 10), tick=False):
        n = notices.notice_fix(actor=world.users["vendor"], notice=n, report="补齐签字页")
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.round) == (JointStatus.OPEN, 2)
    for who in ("bureau", "supervisor", "auditor"):
        joint_confirm(actor=world.users[who], confirmation=confirmation)
    n.refresh_from_db()
    assert n.status == NoticeStatus.CONFIRMED
    assert gather_improvement(world.contract, 2026, LATER).areas[0].deducted_points == 0


def test_without_the_term_the_issuer_confirms_alone(world):
    world.contract.joint_confirmations = {}
    world.contract.save(update_fields=["joint_confirmations"])
    with time_machine.travel(ISSUED, tick=False):
        n = notice(world)
    assert joint_for(n, SUBJECT) is None
    n = notices.notice_confirm(actor=world.users["supervisor"], notice=n, accept=True)
    assert n.status == NoticeStatus.CONFIRMED
    assert gather_improvement(world.contract, 2026, LATER).areas[0].deducted_points == 0


# ------------------------------------------------------------------------------ incident level


def _money(world) -> list:
    from sla.services.scorecard import gather_security_responsibility

    return list(gather_security_responsibility(world.contract, 2026).areas[0].money)


@pytest.fixture
def bureau_levels(world):
    world.contract.joint_confirmations = {str(JointSubject.INCIDENT_LEVEL): ["bureau"]}
    world.contract.save(update_fields=["joint_confirmations"])
    return world


def test_incident_level_counts_once_the_bureau_confirmed_it(bureau_levels):
    from sla.services import incidents
    from tests.sla.builders import incident

    world = bureau_levels
    with time_machine.travel(ISSUED, tick=False):
        reported = incident(world)
        incidents.incident_assess(
            actor=world.users["supervisor"], incident=reported, fully_reported=True
        )
    confirmation = joint_for(reported, JointSubject.INCIDENT_LEVEL)
    assert confirmation.status == JointStatus.OPEN
    assert _money(world) == []  # assessed by the supervisor, level not yet the bureau's
    joint_confirm(actor=world.users["bureau"], confirmation=confirmation)
    assert [m.amount for m in _money(world)] == [10000]  # level Ⅲ: ¥10,000 (附件2 §4.3)


def test_bureau_assessing_confirms_the_level_at_once(bureau_levels):
    from sla.services import incidents
    from tests.sla.builders import incident

    world = bureau_levels
    with time_machine.travel(ISSUED, tick=False):
        reported = incident(world)
        incidents.incident_assess(
            actor=world.users["bureau"], incident=reported, fully_reported=True
        )
    assert joint_for(reported, JointSubject.INCIDENT_LEVEL).status == JointStatus.CONFIRMED
    assert len(_money(world)) == 1
