"""Numbered pagination for portal lists: 1 2 … n, the current page and its neighbours."""

from django import template
from django.core.paginator import Page

register = template.Library()


@register.simple_tag
def page_numbers(page: Page, on_each_side: int = 2, on_ends: int = 1) -> list[int | None]:
    """The page numbers to link, ``None`` where a run of pages is left out (shown as …)."""
    numbers = page.paginator.get_elided_page_range(
        page.number, on_each_side=on_each_side, on_ends=on_ends
    )
    return [n if isinstance(n, int) else None for n in numbers]
