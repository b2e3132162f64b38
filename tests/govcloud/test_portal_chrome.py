"""The portal's own error pages (also with DEBUG on, as in the demo) and numbered pagination."""

from __future__ import annotations

import re

import pytest
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db

DEBUG_PAGE_MARKS = ("URLconf", "Django tried these URL patterns", "Page not found", "Traceback")


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def _is_portal_404(response) -> bool:
    body = response.content.decode()
    return (
        response.status_code == 404
        and "页面不存在" in body
        and "返回首页" in body
        and not any(mark in body for mark in DEBUG_PAGE_MARKS)
    )


def test_an_object_of_another_tenant_is_the_portal_404(debug, world, foreign, client_for):
    url = reverse("contract_detail", kwargs={"pk": foreign.contract.pk})
    response = client_for(world.users["department"]).get(url)
    assert _is_portal_404(response)
    # Signed in: the page keeps the portal's menu.
    assert str(world.users["department"]) in response.content.decode()


def test_an_unknown_address_is_the_portal_404(debug, world, client_for):
    response = client_for(world.users["vendor"]).get("/no-such-page/")
    assert _is_portal_404(response)


def test_a_missing_slash_still_redirects(debug, world, client_for):
    response = client_for(world.users["vendor"]).get("/contracts")
    assert response.status_code == 301
    assert response["Location"] == "/contracts/"


def test_the_api_keeps_its_json_404(debug, world, foreign, client_for):
    client = client_for(world.users["vendor"])
    for url in ("/api/v1/no-such-endpoint/", f"/api/v1/contracts/{foreign.contract.pk}/"):
        response = client.get(url)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert "message" in response.json()


def test_a_refused_action_is_the_portal_403_in_chinese(debug, world, client_for):
    response = client_for(world.users["vendor"]).get(reverse("review_queue"))
    body = response.content.decode()
    assert response.status_code == 403
    assert "无权执行此操作" in body
    assert not any(mark in body for mark in DEBUG_PAGE_MARKS)


def test_the_500_page_needs_no_request_context():
    """Rendered by Django without context processors or database while something is broken."""
    response = server_error(RequestFactory().get("/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "服务器出错了" in body
    assert "返回首页" in body
    assert 'lang="zh-hans"' in body


def test_an_expired_form_is_explained_in_chinese():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "x", "password": "y"})
    body = response.content.decode()
    assert response.status_code == 403
    assert "页面已过期" in body
    assert "CSRF verification failed" not in body


# ------------------------------------------------------------------------------ pagination


def _pagination(number: int, *, pages: int = 20, query: str = "status=signed") -> str:
    page = Paginator(range(pages * 10), 10).get_page(number)
    request = RequestFactory().get(f"/billing/statements/?{query}&page={number}")
    return render_to_string("govcloud/partials/_pagination.html", {"page": page}, request=request)


def _linked_pages(html: str) -> list[str]:
    return re.findall(r'href="\?status=signed&amp;page=(\d+)"', html)


def test_pagination_numbers_the_pages_around_the_current_one_and_keeps_the_filters():
    html = _pagination(10)
    # 上一页, then 1 … 8 9 [10] 11 12 … 20, then 下一页 — every link keeps ?status=signed.
    assert _linked_pages(html) == ["9", "1", "8", "9", "11", "12", "20", "11"]
    assert html.count("…") == 2
    assert re.search(r'aria-current="page"><span class="page-link">10</span>', html)
    assert "上一页" in html
    assert "下一页" in html
    assert "第 10 / 20 页，共 200 条" in html


def test_pagination_at_the_ends_disables_the_step_it_cannot_take():
    first = _pagination(1)
    assert _linked_pages(first) == ["2", "3", "20", "2"]
    assert re.search(r'disabled"><span class="page-link">上一页', first)
    last = _pagination(20)
    assert _linked_pages(last)[-1] == "19"
    assert re.search(r'disabled"><span class="page-link">下一页', last)


def test_a_single_page_shows_only_the_count():
    html = _pagination(1, pages=1)
    assert "pagination" not in html
    assert "共 10 条" in html
