"""Signals of the ``sla`` app.

``calendar_changed(sender=CalendarYear, year=int)`` is sent after the transaction that changed
a year's official schedule (loaded, entered, edited or deleted) has committed. Receivers (the
ticket clocks) recompute what depends on that year, typically provisional deadlines. It may be
sent more than once for one change and must be handled idempotently.
"""

from django.dispatch import Signal

calendar_changed = Signal()
