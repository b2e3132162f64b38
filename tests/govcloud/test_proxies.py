"""Which address is the client (issue 13 item 4): behind trusted proxies the right-most
untrusted X-Forwarded-For entry, never the spoofable left-most; without them REMOTE_ADDR."""

from __future__ import annotations

import ipaddress

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from govcloud.middleware import forwarded_client
from govcloud.models import AuditEvent
from tests.factories import PASSWORD, DepartmentFactory, UserFactory

NETS = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32")]


@pytest.mark.parametrize(
    ("remote", "xff", "trusted", "count", "expected"),
    [
        # no proxy configured: the header is ignored, whatever it says
        ("203.0.113.9", "1.2.3.4", (), 0, "203.0.113.9"),
        # one proxy by network: the entry it appended is the client
        ("127.0.0.1", "198.51.100.7", NETS, 0, "198.51.100.7"),
        # a client that forges a left-most entry: the proxy's entry still wins
        ("127.0.0.1", "6.6.6.6, 198.51.100.7", NETS, 0, "198.51.100.7"),
        # two proxies in the trusted networks: skip both
        ("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.2.3", NETS, 0, "198.51.100.7"),
        # the peer is not a trusted proxy: the header is not believed
        ("203.0.113.9", "198.51.100.7", NETS, 0, "203.0.113.9"),
        # by count: one proxy whatever its address
        ("192.0.2.1", "6.6.6.6, 198.51.100.7", (), 1, "198.51.100.7"),
        ("192.0.2.1", "6.6.6.6, 198.51.100.7, 192.0.2.2", (), 2, "198.51.100.7"),
        # fewer entries than proxies: the left-most there is
        ("192.0.2.1", "", (), 1, "192.0.2.1"),
        ("192.0.2.1", "198.51.100.7", (), 3, "198.51.100.7"),
        # junk in the header ends the walk at the trusted hop that received it
        ("127.0.0.1", "198.51.100.7, not-an-ip", NETS, 0, "127.0.0.1"),
        # IPv6
        ("127.0.0.1", "2001:db8::1", NETS, 0, "2001:db8::1"),
        # no peer at all
        ("", "198.51.100.7", NETS, 0, None),
    ],
)
def test_forwarded_client(remote, xff, trusted, count, expected):
    assert forwarded_client(remote, xff, trusted=trusted, count=count) == expected


@pytest.mark.django_db
def test_audit_and_lockout_use_the_proxys_view(settings):
    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("127.0.0.1/32")]
    user = UserFactory(organization=DepartmentFactory())
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    event = AuditEvent.objects.filter(action="auth.login", actor=user).get()
    assert event.ip_address == "198.51.100.7"
    # a failed login is counted against the same address by the lockout
    stranger = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.8")
    stranger.post(reverse("login"), {"username": user.username, "password": "wrong"})
    assert AccessAttempt.objects.get(username=user.username).ip_address == "198.51.100.8"
