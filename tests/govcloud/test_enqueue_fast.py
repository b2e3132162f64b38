"""With the broker down, enqueueing fails within seconds instead of holding the request up
(issue 13 item 2: "enqueueing never blocks a request")."""

from __future__ import annotations

import socket
import time

import pytest
from kombu.exceptions import OperationalError

from govcloud.celery import app
from govcloud.outbox import send_outbox_email


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


@pytest.fixture
def not_eager():
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = previous


def test_delay_gives_up_within_seconds_when_the_broker_is_down(not_eager):
    started = time.monotonic()
    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    with (
        app.connection_for_write(dead) as connection,
        pytest.raises((OperationalError, ConnectionError, OSError)),
    ):
        send_outbox_email.apply_async(args=[1], connection=connection)
    assert time.monotonic() - started < 5
    assert app.conf.task_ignore_result is True
