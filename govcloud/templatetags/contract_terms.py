"""``{% term_cite contract "delivery_working_days" %}``: a term's clause, linked."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from govcloud.terms import cite

register = template.Library()


@register.simple_tag
def term_cite(contract, key: str) -> str:
    """〔附件2 §2〕 linked to the term's row on the contract's terms page (title = the quote)."""
    citation = cite(contract, key)
    text = citation.clause or citation.label
    return format_html(
        '<a class="term-cite small" href="{}" title="{}">〔{}〕</a>',
        citation.url,
        f"{citation.label}：{citation.quote}" if citation.quote else citation.label,
        text,
    )
