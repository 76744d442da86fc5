from django.shortcuts import render

from aptic_catalog import selectors

QUERY_MAX_LENGTH = 100


def referential(request):
    """The public, read-only #APTIC referential, with a plain GET search on titles."""
    query = request.GET.get("q", "").strip()[:QUERY_MAX_LENGTH]
    levels = selectors.referential_tree(query=query)
    return render(
        request,
        "aptic_catalog/referential.html",
        {
            "levels": levels,
            "query": query,
            "result_count": selectors.count_services(levels),
            "version": selectors.current_version(),
            "query_max_length": QUERY_MAX_LENGTH,
        },
    )
