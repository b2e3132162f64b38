"""``manage.py export_statement_pdf CONTRACT YYYY-MM OUT.pdf`` (DESIGN §8)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from billing.models import StatementDocument
from govcloud.pdf.signing import trust_roots_from_settings, verify_pdf
from tests.reports.conftest import document, file_bytes, generate


def test_writes_the_signed_pdf_as_stored(signed_bt, tmp_path, capsys):
    _world, statement = signed_bt
    out = tmp_path / "out.pdf"

    call_command("export_statement_pdf", "BT-2025", "2026-03", str(out))

    assert out.read_bytes() == file_bytes(document(statement))
    reports = verify_pdf(out.read_bytes(), trust_roots=trust_roots_from_settings())
    assert len(reports) == 3
    assert all(r.ok for r in reports)
    assert "3 个数字签名" in capsys.readouterr().out


def test_renders_an_unsigned_pdf_when_none_was_issued(bt, tmp_path):
    statement = generate(bt, render=False)  # the render task has not run yet
    out = tmp_path / "draft.pdf"

    call_command("export_statement_pdf", "BT-2025", "2026-03", str(out))

    assert out.read_bytes().startswith(b"%PDF-")
    assert verify_pdf(out.read_bytes(), trust_roots=[]) == []
    assert not StatementDocument.objects.filter(statement=statement).exists()  # nothing stored


@pytest.mark.parametrize(
    ("contract", "period", "message"),
    [
        ("XX-0000", "2026-03", "合同 XX-0000 不存在"),
        ("BT-2025", "2026-13", "YYYY-MM"),
        ("BT-2025", "March", "YYYY-MM"),
        ("BT-2025", "2026-02", "没有月度服务资源统计表"),
    ],
    ids=["unknown-contract", "bad-month", "not-a-month", "no-statement"],
)
def test_clear_errors(bt, tmp_path, contract, period, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_statement_pdf", contract, period, str(tmp_path / "x.pdf"))
    assert not (tmp_path / "x.pdf").exists()
