"""E-mails as a mail client reads them: the files the outbox writes, parsed with Python's own
``email`` parser — exact subjects, a Date in Beijing time, a Message-ID, links to the portal
that sent them and deadlines written as the portal writes them."""

from __future__ import annotations

import email
import email.policy
import shutil
import subprocess
from datetime import datetime, timedelta
from email.message import EmailMessage as ParsedMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from govcloud.dates import deadline_label
from govcloud.models import OutboxEmail
from govcloud.outbox import _build_message, outbox_send
from requests_app import notifications
from tests.requests_app.factories import approved_ticket

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
PORTAL = "https://portal.example.test:8443"
APPROVED = datetime(2026, 9, 29, 10, 0, tzinfo=SH)  # two working days: 09-30, 10-08
SEPARATOR = b"-" * 79


@pytest.fixture
def mail_files(settings, tmp_path) -> Path:
    """Mail goes to files, as in the embedded default, and links to a portal elsewhere."""
    folder = tmp_path / "mail"
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = folder
    settings.PORTAL_BASE_URL = PORTAL + "/"
    return folder


def read_mail(folder: Path) -> list[ParsedMessage]:
    """Every message the file backend wrote, parsed as a standards-following reader would."""
    messages = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_bytes().split(SEPARATOR):
            if chunk.strip():
                messages.append(
                    email.message_from_bytes(chunk.lstrip(b"\r\n"), policy=email.policy.default)
                )
    return messages


def body_of(message: ParsedMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def row_with(subject: str, pk: int) -> OutboxEmail:
    return OutboxEmail(
        pk=pk,
        key=f"test:{pk}",
        recipient="reader@example.test",
        subject=subject,
        body="正文",
        attachments=[],
        created_at=APPROVED,
        message_id=f"<outbox-{pk}@govcloud.local>",
    )


# ------------------------------------------------------------------------------------ subject

SUBJECTS = {
    "ticket": "【政务云】工单 RQ-2026-0001 已批准，请于 2026-10-08 24:00 前交付",
    "statement": "【政务云】BT-2025 2026-09月度服务资源统计表已签认（附签名文件）",
    "bill": "【政务云】2026-09政务云服务费用账单（包头市不动产登记中心）",
    "short": "【政务云】短",
    "ascii": "Monthly statement BT-2025 2026-09 is due today, please submit it before 24:00",
    "inner spaces": "【政务云】A  B   C 统计表",
}


@pytest.mark.parametrize("subject", SUBJECTS.values(), ids=SUBJECTS.keys())
def test_the_parsed_subject_is_the_subject_written(mail_files, subject):
    _build_message(row_with(subject, 1)).send()

    (message,) = read_mail(mail_files)
    assert message["Subject"] == subject
    assert not message.defects


def test_no_subject_length_folds_into_a_leading_space(mail_files):
    """Every fold point: a subject of each length from 1 to 90 characters, in Chinese and
    mixed with ASCII words (the fold used to put the whole subject on a continuation line)."""
    subjects = [f"【政务云】{'统' * n}" for n in range(1, 91)]
    subjects += [f"【政务云】工单 RQ-{n:04d} {'已批准' * (n % 30)}" for n in range(1, 91)]
    for pk, subject in enumerate(subjects, start=1):
        _build_message(row_with(subject, pk)).send()

    parsed = [m["Subject"] for m in read_mail(mail_files)]
    assert sorted(parsed) == sorted(subjects)


def test_a_line_break_in_a_subject_does_not_make_the_mail_unsendable(mail_files):
    _build_message(row_with("【政务云】第一行\n 第二行", 1)).send()

    (message,) = read_mail(mail_files)
    assert message["Subject"] == "【政务云】第一行 第二行"


# ---------------------------------------------------------------------- date and message id


def test_date_is_beijing_time_whatever_the_servers_zone(mail_files, settings):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(datetime(2026, 9, 29, 2, 0, 5, 123456, tzinfo=ZoneInfo("UTC"))):
        _build_message(row_with("【政务云】时间", 7)).send()

    (message,) = read_mail(mail_files)
    assert message["Date"] == "Tue, 29 Sep 2026 10:00:05 +0800"
    assert message["Date"].datetime.utcoffset() == timedelta(hours=8)
    assert message["Message-ID"] == "<outbox-7@govcloud.local>"


def test_attachment_names_survive(mail_files, settings):
    folder = Path(settings.MEDIA_ROOT) / "statements"
    folder.mkdir(parents=True)
    (folder / "s.pdf").write_bytes(b"%PDF-1.7 test")
    row = row_with("【政务云】附件", 3)
    row.attachments = [
        {"name": "月度服务资源统计表 2026-09.pdf", "path": "statements/s.pdf", "mimetype": ""}
    ]
    _build_message(row).send()

    (message,) = read_mail(mail_files)
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "月度服务资源统计表 2026-09.pdf"
    assert attachment.get_content() == b"%PDF-1.7 test"


# ---------------------------------------------------- a real notice, end to end through the outbox


def test_ticket_approval_mail_as_the_vendor_reads_it(
    world, mail_files, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(APPROVED, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        ticket = approved_ticket(world)

    vendor = world.users["vendor"].email
    row = OutboxEmail.objects.get(key__startswith=f"ticket:{ticket.pk}:approved:", recipient=vendor)
    (message,) = [m for m in read_mail(mail_files) if m["To"] == vendor]
    expected = f"【政务云】工单 {ticket.number} 已批准，请于 2026-10-08 24:00 前交付"
    assert message["Subject"] == expected
    assert message["Date"] == "Tue, 29 Sep 2026 10:00:00 +0800"
    assert message["Message-ID"] == row.message_id
    assert message["Message-ID"].startswith("<outbox-")
    body = body_of(message)
    assert "截止 2026-10-08 24:00" in body
    assert "00:00" not in body
    assert f"查看工单：{PORTAL}{reverse('request_detail', args=[ticket.pk])}" in body
    assert "127.0.0.1:8000" not in body


def test_reminder_and_breach_mails_write_the_deadline_as_the_portal_does(world, mail_files):
    with time_machine.travel(APPROVED, tick=False):
        ticket = approved_ticket(world)
    assert ticket.due_at == datetime(2026, 10, 9, 0, 0, tzinfo=SH)  # the portal: 10-08 24:00

    notifications.notify_due_today(ticket)
    notifications.notify_breached(ticket)
    for row in OutboxEmail.objects.filter(key__contains="due-reminder"):
        outbox_send(pk=row.pk)
    for row in OutboxEmail.objects.filter(key__contains="breached"):
        outbox_send(pk=row.pk)

    reminders = [m for m in read_mail(mail_files) if "今日到期" in m["Subject"]]
    breaches = [m for m in read_mail(mail_files) if "已超过交付时限" in m["Subject"]]
    assert reminders
    assert breaches
    assert "交付截止时间为 2026-10-08 24:00" in body_of(reminders[0])
    assert "截止时间 2026-10-08 24:00" in body_of(breaches[0])
    assert all("2026-10-09 00:00" not in body_of(m) for m in reminders + breaches)


@pytest.mark.parametrize(
    ("due", "label"),
    [
        (datetime(2026, 10, 9, 0, 0, tzinfo=SH), "2026-10-08 24:00"),
        (datetime(2026, 10, 8, 16, 0, tzinfo=ZoneInfo("UTC")), "2026-10-08 24:00"),
        (datetime(2026, 10, 8, 17, 30, tzinfo=SH), "2026-10-08 17:30"),
        (datetime(2027, 1, 1, 0, 0, tzinfo=SH), "2026-12-31 24:00"),
        (None, ""),
    ],
    ids=["midnight", "midnight-in-utc", "afternoon", "new-year", "none"],
)
def test_deadline_label(due, label):
    assert deadline_label(due) == label


# ------------------------------------------------------------------------- make demo PORT=…


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_links_to_the_port_it_serves(tmp_path):
    """`make demo PORT=8123` runs every step with PORTAL_BASE_URL at that port (a stand-in
    interpreter records what each step would have run with)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    fake = bin_dir / "python"
    fake.write_text(f'#!/bin/sh\necho "$PORTAL_BASE_URL $*" >> {calls}\n')
    fake.chmod(0o755)
    stamp = tmp_path / "installed"
    stamp.touch()
    root = Path(__file__).resolve().parents[2]

    def demo(*extra: str) -> list[str]:
        calls.unlink(missing_ok=True)
        subprocess.run(  # noqa: S603 - the project's own Makefile, with a stand-in interpreter
            ["make", "-s", "demo", f"BIN={bin_dir}", f"STAMP={stamp}", "APT_RUNTIME=", *extra],  # noqa: S607
            cwd=root,
            check=True,
            capture_output=True,
        )
        return calls.read_text().splitlines()

    steps = demo("PORT=8123")
    assert any("seed_demo" in s for s in steps)
    assert steps[-1].endswith(" 127.0.0.1:8123")  # the server, on that port
    assert all(s.startswith("http://127.0.0.1:8123 ") for s in steps), steps

    steps = demo("PORT=8123", "PORTAL_BASE_URL=https://cloud.example.gov.cn")
    assert all(s.startswith("https://cloud.example.gov.cn ") for s in steps), steps
