"""`{% io_toolbar_links dataset as io %}`: the links the shared import/export toolbar shows."""

from django import template

from planning.fileio.toolbar import toolbar_links

register = template.Library()


@register.simple_tag(takes_context=True)
def io_toolbar_links(context, dataset):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    query = request.META.get("QUERY_STRING", "") if request is not None else ""
    return toolbar_links(dataset, user, query)
