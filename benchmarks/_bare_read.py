"""The bare SQL read of the rows the statement engine needs, as plain tuples: the floor the
engine is measured against (``billing_statement.py`` on SQLite, ``statement_province.py`` on
PostgreSQL). No side effects on import."""

BARE_RESOURCES = """
SELECT r.id, r.department_id, d.name, r.system_id, s.name, r.catalog_item_id, r.quantity,
       r.billing_starts_at, r.offline_at
FROM billing_resource r
JOIN govcloud_organization d ON d.id = r.department_id
JOIN govcloud_businesssystem s ON s.id = r.system_id
WHERE r.contract_id = %s AND r.billing_starts_at < %s
  AND (r.offline_at IS NULL OR r.offline_at > %s)
"""
BARE_CHANGES = """
SELECT c.resource_id, c.delivered_at, c.catalog_item_id, c.quantity
FROM billing_resourcechange c
WHERE c.delivered_at < %s AND c.resource_id IN (
    SELECT r.id FROM billing_resource r
    WHERE r.contract_id = %s AND r.billing_starts_at < %s
      AND (r.offline_at IS NULL OR r.offline_at > %s))
ORDER BY c.resource_id, c.delivered_at, c.id
"""
