"""Password sign-in for people only: a service account (API tokens) never signs in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class PeopleOnlyModelBackend(ModelBackend):
    """Django's backend, refusing service accounts (portal and admin sign-in alike)."""

    def user_can_authenticate(self, user: Any) -> bool:
        return super().user_can_authenticate(user) and not getattr(
            user, "is_service_account", False
        )
