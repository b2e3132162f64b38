"""GovCloud portal: project package and core app."""

from govcloud.celery import app as celery_app

__all__ = ("celery_app",)
