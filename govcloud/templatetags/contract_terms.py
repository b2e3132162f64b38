"""Contract terms in templates (DESIGN §4a).

``{% term_cite contract "delivery_working_days" %}``: the term's clause, linked to its row on
the contract's terms page. ``{% term_display contract "delivery_working_days" %}``: the term's
value as the terms page words it ("未约定时限（及时交付），不计超时" where the contract sets none).
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from govcloud.terms import cite, display_value, term_def, term_value

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


@register.simple_tag
def term_display(contract, key: str) -> str:
    """The term's value in words, as on the terms page."""
    term = term_def(key)
    return display_value(term, term_value(contract, term))
