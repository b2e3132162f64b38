"""Tenancy as a matrix: role × object × action → allowed or 404, for every object URL."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import verified_client
from tests.scoped_urls import ADMIN_REFUSED, EXEMPT_PREFIXES, PORTAL_ADMIN_ROLES, SCOPED_URLS

# Statements in the matrix are signed off: fast keys and a small stand-in PDF.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("statement_pdfs_fast")]


def _named_routes_with_params(resolver: URLResolver, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _named_routes_with_params(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            if entry.pattern.regex.groupindex or "<" in str(entry.pattern):
                names.add(f"{namespace}{entry.name}")
    return names


def _with_params_at_root() -> set[str]:
    # Parameters can also sit in an include's prefix; reverse() tells which names need kwargs.
    names = set()
    for name in _named_routes_with_params(get_resolver()):
        if not name.startswith(EXEMPT_PREFIXES):
            names.add(name)
    return names


def test_every_object_url_is_in_the_matrix():
    missing = _with_params_at_root() - set(SCOPED_URLS)
    assert not missing, f"object URLs without a tenancy matrix entry: {sorted(missing)}"


CASES = [(name, role) for name, spec in SCOPED_URLS.items() for role in sorted(spec.visible_to)]


@pytest.mark.parametrize(("url_name", "role"), CASES, ids=[f"{n}-{r}" for n, r in CASES])
def test_own_tenant_sees_it_and_the_other_tenant_gets_404(url_name, role, world, foreign):
    spec = SCOPED_URLS[url_name]
    url = reverse(url_name, kwargs=spec.build(world))

    own = getattr(verified_client(world.users[role]), spec.method)(url)
    if spec.method == "get":
        assert own.status_code == 200, (url_name, role, own.status_code)
    else:
        # An action answers (success or the service's refusal) but never hides the object.
        assert own.status_code != 404, (url_name, role, own.status_code)

    other = getattr(verified_client(foreign.users[role]), spec.method)(url)
    assert other.status_code == 404, (url_name, role, other.status_code)


@pytest.mark.parametrize("url_name", sorted(SCOPED_URLS))
def test_anonymous_users_get_nothing(url_name, world, client):
    url = reverse(url_name, kwargs=SCOPED_URLS[url_name].build(world))
    response = client.get(url)
    assert response.status_code in (302, 401, 403)
    assert response.status_code != 200


@pytest.mark.parametrize("url_name", sorted(SCOPED_URLS))
def test_a_missing_object_is_the_same_404(url_name, world):
    spec = SCOPED_URLS[url_name]
    kwargs = {k: 987654321 for k in spec.build(world)}
    url = reverse(url_name, kwargs=kwargs)
    assert getattr(verified_client(world.users["bureau"]), spec.method)(url).status_code == 404


def test_list_pages_show_only_own_contracts(world, foreign):
    page = verified_client(world.users["department"]).get(reverse("contract_list"))
    assert world.contract.code in page.content.decode()
    assert foreign.contract.code not in page.content.decode()
    api = verified_client(world.users["vendor"]).get("/api/v1/contracts/").json()
    assert [c["code"] for c in api["results"]] == [world.contract.code]


ADMIN_CASES = [
    (name, role) for name in sorted(ADMIN_REFUSED) for role in sorted(PORTAL_ADMIN_ROLES)
]


@pytest.mark.parametrize(
    ("url_name", "role"), ADMIN_CASES, ids=[f"{n}-{r}" for n, r in ADMIN_CASES]
)
def test_administrators_see_no_business(url_name, role, world, foreign):
    spec = SCOPED_URLS[url_name]
    url = reverse(url_name, kwargs=spec.build(world))
    for tenant in (world, foreign):
        response = getattr(verified_client(tenant.users[role]), spec.method)(url)
        assert response.status_code == ADMIN_REFUSED[url_name], (url_name, role)


@pytest.mark.parametrize("role", sorted(PORTAL_ADMIN_ROLES))
@pytest.mark.parametrize("url_name", ["contract_list", "request_list", "resource_list"])
def test_administrators_are_refused_the_business_lists(url_name, role, world):
    response = verified_client(world.users[role]).get(reverse(url_name))
    assert response.status_code == 403
    assert "三员分立" in response.content.decode()
