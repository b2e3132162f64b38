"""Contract definition files (DESIGN §4a): ``load_contract`` on folders the tests write.

A good folder loads, and loads again without a change; a bad one is refused with the file, the
key and the problem named, exits non-zero without a traceback and leaves the database as it was.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from billing.contracts import load_contract
from billing.models import CatalogItem, Payment
from govcloud.contract_files import ContractFileError, read_contract_file
from govcloud.models import (
    AuditEvent,
    Contract,
    ContractClause,
    Organization,
    OrganizationKind,
    PartialDay,
    Proration,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

CONTRACT = """\
# A contract the code has never seen: whole-day rule, line discount, billing before the start.
code = "TEST-2027"
name = "测试市政务云服务项目"
service_start = 2027-01-01
service_end = 2027-12-31
billing_from = 2026-12-01
catalog = "catalog.csv"

[parties]
bureau = "测试市数据局"
vendor = { name = "测试云科技有限公司", short_name = "测试云" }
supervisor = "测试监理有限公司"

[workflow]
review_chain = ["bureau", "supervisor"]
signoff_order = ["bureau", "vendor", "supervisor"]

[billing]
partial_day = "whole_day"
discount = "0.95"
discount_applies_to = "line"
test_period_months = 0
vat_rate = "0.06"

[settlement]
settlement_cadence = "yearly"
settlement_month = 12

[[settlement.installments]]
label = "年度结算"

[[settlement.installments]]
label = "尾款"
condition = "服务期满考核后"

[terms]
delivery_working_days = 3
improvement_working_days = 7

[terms.joint_confirmations]
utilization_data = ["bureau", "vendor"]

[clauses]
delivery_working_days = { clause = "四.1", quote = "乙方应在3个工作日内交付" }
"""

CATALOG = """\
code,section,name,spec,unit,unit_price,period
vm.small,计算服务,云主机,2核4GB,台,1200,year
vm.large,计算服务,云主机,8核16GB,台,4800,year
disk.ssd,存储服务,云硬盘,SSD,GB,0.5,month
"""


def write_folder(tmp_path: Path, contract: str = CONTRACT, catalog: str | None = CATALOG) -> Path:
    folder = tmp_path / "test-2027"
    folder.mkdir(exist_ok=True)
    (folder / "contract.toml").write_text(contract, encoding="utf-8")
    if catalog is not None:
        (folder / "catalog.csv").write_text(catalog, encoding="utf-8")
    return folder


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def counts() -> tuple[int, ...]:
    return (
        Contract.objects.count(),
        Organization.objects.count(),
        CatalogItem.objects.count(),
        ContractClause.objects.count(),
        AuditEvent.objects.count(),
    )


# ------------------------------------------------------------------------------ a good file


def test_a_new_contract_loads_with_its_terms_parties_and_catalog(tmp_path):
    output = run("load_contract", str(write_folder(tmp_path)))
    assert "TEST-2027：合同新建" in output
    contract = Contract.objects.get(code="TEST-2027")
    assert contract.partial_day_rule == PartialDay.WHOLE_DAY
    assert contract.discount_factor == Decimal("0.9500")
    assert contract.discount_applies_to == "line"
    assert contract.billing_from == date(2026, 12, 1)
    # Most items are priced per year: the contract's price period, prorated over 365 days.
    assert (contract.price_period, contract.proration) == ("year", Proration.DAYS_365)
    assert [p.role for p in contract.review_chain] == ["bureau", "supervisor"]
    assert [p.role for p in contract.signoff_parties] == ["bureau", "vendor", "supervisor"]
    assert contract.catalog_items.count() == 3
    assert Organization.objects.get(name="测试云科技有限公司").short_name == "测试云"
    assert AuditEvent.objects.filter(action="contract.create", contract=contract).count() == 1


def test_omitted_terms_are_rules_the_contract_does_not_set(tmp_path):
    run("load_contract", str(write_folder(tmp_path)))
    data = json.loads(run("contract_terms", "TEST-2027", "--json"))
    assert data["delivery_working_days"] == 3
    assert data["clauses"]["delivery_working_days"] == {
        "clause": "四.1",
        "quote": "乙方应在3个工作日内交付",
    }
    for key in (
        "extended_delivery_working_days",
        "scorecard",
        "maintenance_notice_hours",
        "maintenance_approvers",
        "dispute_escalation_working_days",
        "statement_due_working_day",
        "deduction_notice_working_days",
        "payment_working_days",
    ):
        assert data[key] is None, key
    assert data["joint_confirmations"] == {"utilization_data": ["bureau", "vendor"]}
    assert data["improvement_working_days"] == 7
    assert data["partial_day"] == "whole_day"


def test_loading_twice_changes_nothing(tmp_path):
    folder = write_folder(tmp_path)
    run("load_contract", str(folder))
    before = counts()
    prices = list(CatalogItem.objects.order_by("code").values_list("code", "unit_price"))
    output = run("load_contract", str(folder))
    assert "TEST-2027：合同无变化" in output
    assert "目录新增 0 项、更新 0 项、未变 3 项" in output
    assert counts() == before  # no audit row either
    assert list(CatalogItem.objects.order_by("code").values_list("code", "unit_price")) == prices


def test_a_changed_term_is_updated_and_audited_with_before_and_after(tmp_path):
    run("load_contract", str(write_folder(tmp_path)))
    changed = CONTRACT.replace("improvement_working_days = 7", "improvement_working_days = 9")
    output = run("load_contract", str(write_folder(tmp_path, changed)))
    assert "合同更新（变更：improvement_working_days）" in output
    event = AuditEvent.objects.get(action="contract.update")
    assert (event.before["improvement_working_days"], event.after["improvement_working_days"]) == (
        7,
        9,
    )


def test_dry_run_of_a_new_contract_saves_nothing(tmp_path):
    before = counts()
    output = run("load_contract", str(write_folder(tmp_path)), "--dry-run")
    assert "试运行" in output
    assert "TEST-2027：合同将新建" in output
    assert "目录新增 3 项" in output
    assert counts() == before


def test_dry_run_of_a_change_reports_it_and_saves_nothing(tmp_path):
    run("load_contract", str(write_folder(tmp_path)))
    before = counts()
    changed = CONTRACT.replace('discount = "0.95"', 'discount = "0.96"')
    output = run("load_contract", str(write_folder(tmp_path, changed)), "--dry-run")
    assert "合同将更新（变更：discount_factor）" in output
    assert "discount_factor：'0.95' → '0.96'" in output
    assert counts() == before
    assert Contract.objects.get(code="TEST-2027").discount_factor == Decimal("0.9500")


def test_dry_run_of_an_unchanged_contract(tmp_path):
    folder = write_folder(tmp_path)
    run("load_contract", str(folder))
    assert "TEST-2027：合同将无变化" in run("load_contract", str(folder), "--dry-run")


def test_the_file_may_be_named_instead_of_its_folder_and_may_carry_a_bom(tmp_path):
    folder = write_folder(tmp_path)
    path = folder / "contract.toml"
    path.write_bytes(b"\xef\xbb\xbf" + CONTRACT.encode())
    assert "合同新建" in run("load_contract", str(path))


def test_parties_are_matched_by_role_and_a_renamed_one_is_kept_with_a_note(tmp_path):
    run("load_contract", str(write_folder(tmp_path)))
    vendor = Organization.objects.get(name="测试云科技有限公司")
    vendor.name = "测试云科技股份有限公司"  # renamed in the admin since
    vendor.save()
    result = load_contract(write_folder(tmp_path))
    assert not result.created
    assert not result.changed
    assert any(
        "parties.vendor" in note and "测试云科技股份有限公司" in note for note in result.notes
    )
    assert not Organization.objects.filter(name="测试云科技有限公司").exists()


# ------------------------------------------------------------------------------ bad files

BAD_FILES = [
    # id, replace (old, new) in CONTRACT, expected pieces of the message
    (
        "unknown-key-typo",
        ('discount = "0.95"', 'discont = "0.95"'),
        ["billing.discont", "未知的键"],
    ),
    (
        "discount-not-a-number",
        ('discount = "0.95"', 'discount = "ninety-nine"'),
        ["billing.discount", "不是有效的小数", "ninety-nine"],
    ),
    (
        "discount-above-one",
        ('discount = "0.95"', "discount = 1.5"),
        ["billing.discount", "不超过 1"],
    ),
    (
        "discount-too-precise",
        ('discount = "0.95"', 'discount = "0.99995"'),
        ["billing.discount"],
    ),
    ("missing-code", ('code = "TEST-2027"\n', ""), ["code: 必填项缺失"]),
    (
        "missing-partial-day",
        ('partial_day = "whole_day"\n', ""),
        ["billing.partial_day: 必填项缺失"],
    ),
    (
        "missing-vendor",
        ('vendor = { name = "测试云科技有限公司", short_name = "测试云" }\n', ""),
        ["parties.vendor: 必填项缺失"],
    ),
    (
        "partial-day-model-spelling",
        ('partial_day = "whole_day"', 'partial_day = "half_day_under_12h"'),
        ["billing.partial_day", "whole_day、half_under_12h"],
    ),
    (
        "unknown-role-in-review-chain",
        ('review_chain = ["bureau", "supervisor"]', 'review_chain = ["bureau", "director"]'),
        ["workflow.review_chain", "未知的当事方角色 director"],
    ),
    (
        "review-chain-names-an-absent-party",
        ('review_chain = ["bureau", "supervisor"]', 'review_chain = ["bureau", "auditor"]'),
        ["workflow.review_chain", "auditor 未在 [parties] 中给出"],
    ),
    (
        "joint-confirmation-of-an-unknown-subject",
        ('utilization_data = ["bureau", "vendor"]', 'coffee_breaks = ["bureau"]'),
        ["terms.joint_confirmations.coffee_breaks", "未知的共同确认事项"],
    ),
    (
        "joint-confirmation-by-an-unknown-role",
        ('utilization_data = ["bureau", "vendor"]', 'utilization_data = ["mayor"]'),
        ["terms.joint_confirmations.utilization_data", "未知的当事方角色 mayor"],
    ),
    (
        "date-as-text",
        ("service_start = 2027-01-01", 'service_start = "2027-01-01"'),
        ["service_start", "须为日期"],
    ),
    (
        "end-before-start",
        ("service_end = 2027-12-31", "service_end = 2026-12-31"),
        ["service_end", "须晚于 service_start"],
    ),
    (
        "extension-without-a-clock",
        ("delivery_working_days = 3", "extended_delivery_working_days = 5"),
        ["terms.extended_delivery_working_days"],
    ),
    (
        "catalog-outside-the-folder",
        ('catalog = "catalog.csv"', 'catalog = "../catalog.csv"'),
        ["catalog", "不得含路径"],
    ),
    (
        "catalog-missing",
        ('catalog = "catalog.csv"', 'catalog = "prices.csv"'),
        ["catalog", "找不到目录文件 prices.csv"],
    ),
    (
        "unknown-clause-key",
        ("[clauses]\n", '[clauses]\nhappiness = { clause = "1" }\n'),
        ["clauses.happiness", "不是已知的条款项"],
    ),
    (
        "toml-syntax-error",
        ('name = "测试市政务云服务项目"', 'name = "测试市政务云服务项目'),
        ["contract.toml", "(语法)", "TOML 语法错误", "line 3"],
    ),
    (
        "installment-without-label",
        ('label = "尾款"', 'lable = "尾款"'),
        ["settlement.installments[2].lable", "settlement.installments[2].label: 必填项缺失"],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES]
)
def test_a_bad_file_is_refused_naming_file_key_and_problem(tmp_path, change, expected):
    old, new = change
    assert old in CONTRACT
    folder = write_folder(tmp_path, CONTRACT.replace(old, new, 1))
    before = counts()
    with pytest.raises(CommandError) as refused:
        run("load_contract", str(folder))
    message = str(refused.value)
    assert "未做任何修改" in message
    assert str(folder / "contract.toml") in message
    for piece in expected:
        assert piece in message, (piece, message)
    assert counts() == before


def test_a_bad_value_is_reported_once(tmp_path):
    folder = write_folder(
        tmp_path, CONTRACT.replace('discount = "0.95"', 'discount = "ninety-nine"')
    )
    with pytest.raises(ContractFileError) as refused:
        read_contract_file(folder)
    assert [p.key for p in refused.value.problems] == ["billing.discount"]


def test_every_problem_of_a_file_is_listed_at_once(tmp_path):
    broken = CONTRACT.replace('discount = "0.95"', "discount = 1.5").replace(
        'review_chain = ["bureau", "supervisor"]', 'review_chain = ["bureau", "director"]'
    )
    with pytest.raises(ContractFileError) as refused:
        read_contract_file(write_folder(tmp_path, broken))
    assert {p.key for p in refused.value.problems} == {"billing.discount", "workflow.review_chain"}


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(CommandError) as refused:
        run("load_contract", str(tmp_path / "nowhere"))
    assert str(tmp_path / "nowhere") in str(refused.value)
    assert "不存在" in str(refused.value)


def test_a_folder_without_contract_toml_is_named(tmp_path):
    with pytest.raises(CommandError) as refused:
        run("load_contract", str(tmp_path))
    assert str(tmp_path / "contract.toml") in str(refused.value)


def test_a_file_not_in_utf8_is_refused(tmp_path):
    folder = write_folder(tmp_path)
    (folder / "contract.toml").write_bytes(CONTRACT.encode("gb18030"))
    with pytest.raises(CommandError) as refused:
        run("load_contract", str(folder))
    assert "不是 UTF-8 编码" in str(refused.value)


def test_a_bad_catalog_row_is_named_by_file_and_line(tmp_path):
    catalog = CATALOG.replace(
        "vm.large,计算服务,云主机,8核16GB,台,4800,year",
        "vm.large,计算服务,云主机,8核16GB,台,四千八,year",
    )
    folder = write_folder(tmp_path, catalog=catalog)
    before = counts()
    with pytest.raises(CommandError) as refused:
        run("load_contract", str(folder))
    message = str(refused.value)
    assert str(folder / "catalog.csv") in message
    assert "第 3 行" in message
    assert "四千八" in message
    assert counts() == before  # the contract written before the catalog is rolled back too


def test_a_catalog_not_in_utf8_is_refused(tmp_path):
    folder = write_folder(tmp_path, catalog=None)
    (folder / "catalog.csv").write_bytes(CATALOG.encode("gb18030"))
    with pytest.raises(CommandError) as refused:
        run("load_contract", str(folder))
    assert "catalog.csv" in str(refused.value)
    assert "UTF-8" in str(refused.value)


def test_a_party_name_that_exists_as_another_kind_is_refused(tmp_path):
    Organization.objects.create(name="测试云科技有限公司", kind=OrganizationKind.AUDITOR)
    before = counts()
    with pytest.raises(CommandError) as refused:
        run("load_contract", str(write_folder(tmp_path)))
    message = str(refused.value)
    assert "parties.vendor" in message
    assert "已存在且类型为“审计单位”" in message
    assert counts() == before


def test_an_installment_with_payments_cannot_be_removed_by_the_file(tmp_path):
    run("load_contract", str(write_folder(tmp_path)))
    contract = Contract.objects.get(code="TEST-2027")
    Payment.objects.create(
        contract=contract,
        installment=contract.installments.get(sequence=2),
        amount=Decimal("100.00"),
        paid_on=date(2027, 3, 1),
        recorded_at=timezone.now(),
    )
    shorter = CONTRACT.replace(
        '[[settlement.installments]]\nlabel = "尾款"\ncondition = "服务期满考核后"\n', ""
    )
    assert shorter != CONTRACT
    before = counts()
    with pytest.raises(CommandError) as refused:
        run("load_contract", str(write_folder(tmp_path, shorter)))
    message = str(refused.value)
    assert "settlement.installments" in message
    assert "第 2 期“尾款”已登记付款" in message
    assert counts() == before
    assert contract.installments.count() == 2


def test_an_installment_without_payments_is_removed(tmp_path):
    run("load_contract", str(write_folder(tmp_path)))
    shorter = CONTRACT.replace(
        '[[settlement.installments]]\nlabel = "尾款"\ncondition = "服务期满考核后"\n', ""
    )
    assert "合同更新（变更：installments）" in run(
        "load_contract", str(write_folder(tmp_path, shorter))
    )
    assert Contract.objects.get(code="TEST-2027").installments.count() == 1


def test_the_command_exits_non_zero_without_a_traceback(tmp_path):
    folder = write_folder(
        tmp_path, CONTRACT.replace('discount = "0.95"', 'discount = "ninety-nine"')
    )
    done = subprocess.run(  # noqa: S603 - our own manage.py with a path we wrote
        [sys.executable, "manage.py", "load_contract", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "billing.discount" in done.stderr
    assert "ninety-nine" in done.stderr
    assert str(folder / "contract.toml") in done.stderr


def test_a_price_change_needs_its_effective_date_and_basis(tmp_path):
    run("load_contract", str(write_folder(tmp_path)))
    dearer = CATALOG.replace(
        "vm.small,计算服务,云主机,2核4GB,台,1200,year",
        "vm.small,计算服务,云主机,2核4GB,台,1300,year",
    )
    folder = write_folder(tmp_path, catalog=dearer)
    before = counts()
    with pytest.raises(CommandError) as refused:
        run("load_contract", str(folder))
    assert "vm.small" in str(refused.value)
    assert counts() == before
    output = run(
        "load_contract",
        str(folder),
        "--price-effective-from",
        "2027-07-01",
        "--price-basis",
        "补充协议一",
    )
    assert "更新 1 项" in output
