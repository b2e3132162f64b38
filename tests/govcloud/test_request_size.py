"""Bodies over REQUEST_MAX_BYTES are refused before they are read (issue 13 item 4)."""

from __future__ import annotations

import pytest
from django.core.exceptions import RequestDataTooBig
from django.test import Client

from govcloud.middleware import RequestSizeUploadHandler

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/api/v1/contracts/", "application/json"), ("/accounts/login/", "text/html")],
)
def test_a_declared_oversize_body_is_refused_unread(settings, path, kind):
    settings.REQUEST_MAX_BYTES = 1024
    response = Client().post(
        path, data=b"x" * 10, content_type="application/octet-stream", CONTENT_LENGTH="157286400"
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith(kind)
    assert "提交的内容过大（上限 1 KB）" in response.content.decode()


def test_a_body_under_the_limit_passes(settings):
    settings.REQUEST_MAX_BYTES = 1024 * 1024
    response = Client().post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 200


def test_the_upload_handler_stops_a_stream_past_the_limit(settings):
    settings.REQUEST_MAX_BYTES = 100
    handler = RequestSizeUploadHandler()
    assert handler.receive_data_chunk(b"a" * 60, 0) == b"a" * 60
    with pytest.raises(RequestDataTooBig):
        handler.receive_data_chunk(b"a" * 60, 60)
