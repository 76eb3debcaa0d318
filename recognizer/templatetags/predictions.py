from django import template

from ..web.display import is_unsure

register = template.Library()


@register.filter
def unsure(confidence: float) -> bool:
    """``{% if p.confidence|unsure %}``: the same threshold as the API's ``unsure``."""
    return is_unsure(confidence)
