"""Portal pages of the ``sla`` app (one module per concern)."""
