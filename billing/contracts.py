"""Loading contract definition folders (DESIGN §4a): ``contract.toml`` + its catalog CSV.

``load_contract`` is all-or-nothing and idempotent by the contract's ``code``; a bad file raises
``ContractFileError`` naming the file, the key and the problem, and nothing is saved. The two
reference contracts ship as folders under ``billing/data/contracts``; the BT successor used by
the demo is an example under ``billing/data/example-contracts`` (not a real contract).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from billing.services import CatalogImportResult, catalog_import
from govcloud.contract_files import (
    AppliedContract,
    ContractFileError,
    Problem,
    apply_definition,
    contract_file_path,
    read_contract_file,
)
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract, Organization, OrganizationKind

DATA_DIR = Path(__file__).resolve().parent / "data"
REFERENCE_DIR = DATA_DIR / "contracts"
EXAMPLE_DIR = DATA_DIR / "example-contracts"
MAX_CATALOG_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ContractLoadResult:
    code: str
    created: bool
    changed: list[str]
    catalog: CatalogImportResult
    dry_run: bool = False

    def summary(self) -> str:
        verb = "将新建" if self.dry_run and self.created else "新建" if self.created else "更新"
        if not self.created and not self.changed:
            verb = "无变化" if not self.dry_run else "将无变化"
        return (
            f"{self.code}：合同{verb}"
            + (f"（变更：{'、'.join(self.changed)}）" if self.changed and not self.created else "")
            + f"；目录新增 {self.catalog.created} 项、更新 {self.catalog.updated} 项、"
            f"未变 {self.catalog.unchanged} 项"
        )


class _DryRun(Exception):
    def __init__(self, result: ContractLoadResult):
        self.result = result


def _catalog_text(path: Path) -> str:
    if path.stat().st_size > MAX_CATALOG_BYTES:
        raise ContractFileError(path, [Problem("(文件)", "目录文件过大（上限 2 MB）")])
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ContractFileError(path, [Problem("(文件)", "不是 UTF-8 编码的 CSV")]) from None


def _price_period_of(csv_text: str) -> str:
    """The contract's price period when the file does not say: the catalog's usual one."""
    import csv
    import io

    periods = [row.get("period", "") for row in csv.DictReader(io.StringIO(csv_text))]
    return "year" if periods and periods.count("year") > len(periods) / 2 else "month"


def load_contract(
    path: Path | str, *, actor: Any = "load_contract", dry_run: bool = False
) -> ContractLoadResult:
    """Load or update the contract defined by ``path`` (a folder or its ``contract.toml``)."""
    definition = read_contract_file(path)
    csv_text = _catalog_text(definition.catalog_path)
    if not definition.price_period_given:
        definition.values["price_period"] = _price_period_of(csv_text)
    try:
        with transaction.atomic():
            applied: AppliedContract = apply_definition(definition, actor=actor)
            try:
                catalog = catalog_import(actor=actor, contract=applied.contract, csv_text=csv_text)
            except ApplicationError as exc:
                errors = (exc.extra or {}).get("errors") or [str(exc)]
                raise ContractFileError(
                    definition.catalog_path, [Problem("(目录)", str(e)) for e in errors]
                ) from None
            result = ContractLoadResult(
                code=definition.code,
                created=applied.created,
                changed=applied.changed,
                catalog=catalog,
                dry_run=dry_run,
            )
            if dry_run:
                raise _DryRun(result)
    except _DryRun as stop:
        return stop.result
    return result


def reference_folders() -> list[Path]:
    return sorted(p.parent for p in REFERENCE_DIR.glob("*/contract.toml"))


def load_reference_contracts(*, actor: Any = None) -> dict[str, CatalogImportResult]:
    """Create or bring up to date both reference contracts; running it twice changes nothing."""
    results: dict[str, CatalogImportResult] = {}
    with transaction.atomic():
        for folder in reference_folders():
            result = load_contract(folder, actor=actor or "load_reference_contracts")
            results[result.code] = result.catalog
    return results


def load_example_contract(name: str, *, actor: Any = None) -> ContractLoadResult:
    """One of the shipped example folders (the demo's BT-2026 successor)."""
    return load_contract(contract_file_path(EXAMPLE_DIR / name), actor=actor or "seed_demo")


def bureau_of(code: str) -> Organization:
    return Organization.objects.get(
        contract_parties__contract__code=code, kind=OrganizationKind.BUREAU
    )


__all__ = [
    "Contract",
    "ContractFileError",
    "ContractLoadResult",
    "load_contract",
    "load_example_contract",
    "load_reference_contracts",
    "reference_folders",
]
