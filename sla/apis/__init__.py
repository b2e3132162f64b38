"""REST API of the SLA (``/api/v1/``), one module per record type.

``common`` holds what the SLA endpoints share (tags, filters, the list/detail factory, the
action base); ``metrics``, ``outages``, ``incidents``, ``security``, ``training``,
``deliverables``, ``notices``, ``penalties``, ``surveys``, ``rightsizing`` and ``scorecard``
hold each record type's serializers and views. The base view, body parsing and the one error
shape are the core's (``govcloud.api``). Routes: ``sla.api_urls``.
"""
