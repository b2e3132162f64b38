"""Signals of the ``billing`` app, for the PDF signing and e-mail steps to listen to.

Both are sent with ``transaction.on_commit`` by the statement services, so a receiver only ever
sees committed rows; a receiver that fails does not undo the sign-off (it should enqueue a
Celery task with the ids and return). Receivers must be idempotent.

``statement_signoff_recorded(sender=StatementSignoff, statement=…, signoff=…)``
    A party put its name to a statement version: the vendor's submission (which is its
    confirmation), each other party's confirmation, and an auditor's determination that
    stands in for a disputing party. In signing order. Not sent for disputes.

``statement_version_ready(sender=Statement, statement=Statement)``
    A version was generated or recomputed: its PDF is to be rendered (the receiver enqueues
    the render; signing off waits for it).

``statement_signed(sender=Statement, statement=Statement)``
    Every required party has confirmed: the version is signed and immutable, its department
    bills exist. Sent after the last ``statement_signoff_recorded`` of that version.
"""

from django.dispatch import Signal

statement_signoff_recorded = Signal()
statement_version_ready = Signal()
statement_signed = Signal()
