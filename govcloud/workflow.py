"""Workflow helpers: the status-change check (transition tables live on the models) and the
"what may this user do now" rule set every workflow declares once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from typing import Any

from django.utils.translation import gettext as _

from govcloud.exceptions import ApplicationError, InvalidTransition


def check_transition(
    transitions: Mapping[str, Set[str]], *, current: str, target: str, labels: Mapping[str, Any]
) -> None:
    """Raise InvalidTransition unless ``current → target`` is in the table."""
    if target not in transitions.get(current, frozenset()):
        raise InvalidTransition(
            _("当前状态为「%(current)s」，不能变更为「%(target)s」。")
            % {"current": labels.get(current, current), "target": labels.get(target, target)},
            extra={"status": current, "target": target},
        )


Check = Callable[[Any, Any], None]


class ActionRules:
    """The one statement of "what may this user do now" for a workflow.

    Each action name maps to a check ``(user, obj) -> None`` that raises an ``ApplicationError``
    (``ActionForbidden`` for the wrong person, ``InvalidTransition`` for the wrong state) saying
    why not. Services call ``require`` before they act; views, templates and serializers read
    ``available`` — the same checks, so no page offers a button the service would refuse::

        REQUEST_ACTIONS = ActionRules({"approve": _check_approve, "reject": _check_reject})

        def request_available_actions(*, user, obj) -> frozenset[str]:
            return REQUEST_ACTIONS.available(user, obj)
    """

    def __init__(self, checks: Mapping[str, Check]) -> None:
        self.checks = dict(checks)

    def require(self, action: str, user: Any, obj: Any) -> None:
        """Raise the check's refusal unless ``user`` may do ``action`` on ``obj`` now."""
        self.checks[action](user, obj)

    def allows(self, action: str, user: Any, obj: Any) -> bool:
        try:
            self.checks[action](user, obj)
        except ApplicationError:
            return False
        return True

    def available(self, user: Any, obj: Any) -> frozenset[str]:
        """Every action ``user`` may do on ``obj`` now."""
        return frozenset(name for name in self.checks if self.allows(name, user, obj))
