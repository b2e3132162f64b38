"""Every write of the ``sla`` app. Portal views, the API, the admin and Celery call these.

Conventions (STYLE.md): keyword-only arguments with ``actor`` first, ``@transaction.atomic``,
role and party checks inside, row locks for read-modify-write, an audit event in the same
transaction, e-mail through the outbox after commit, Chinese ``ApplicationError`` messages.
"""
