"""The one helper every status change goes through (transition tables live on the models)."""

from __future__ import annotations

from collections.abc import Mapping, Set

from django.utils.translation import gettext as _

from govcloud.exceptions import InvalidTransition


def check_transition(
    transitions: Mapping[str, Set[str]], *, current: str, target: str, labels: Mapping[str, str]
) -> None:
    """Raise InvalidTransition unless ``current → target`` is in the table."""
    if target not in transitions.get(current, frozenset()):
        raise InvalidTransition(
            _("当前状态为「%(current)s」，不能变更为「%(target)s」。")
            % {"current": labels.get(current, current), "target": labels.get(target, target)},
            extra={"status": current, "target": target},
        )
