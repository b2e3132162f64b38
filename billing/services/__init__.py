"""Writes to the billing app, one module per concept.

``catalog`` (price lists and dated prices), ``inventory`` (resource inventory import),
``system_test_periods`` (the free test period of a new system: when a ticket delivery starts
billing, the bureau's early end or extension), ``engine`` (the monthly statement computation,
read-only), ``statements`` (the statement workflow), ``settlement`` (deductions, payments,
settlement summaries). The common names are re-exported here, so
``from billing.services import catalog_import`` keeps working.
"""

from billing.services.catalog import CatalogImportResult, catalog_import
from billing.services.engine import ComputedLine, ComputedStatement, compute_statement
from billing.services.inventory import InventoryImportResult, inventory_import
from billing.services.reauth import Reauth

__all__ = [
    "CatalogImportResult",
    "ComputedLine",
    "ComputedStatement",
    "InventoryImportResult",
    "Reauth",
    "catalog_import",
    "compute_statement",
    "inventory_import",
]
