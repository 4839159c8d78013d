"""Page pagination and an ordering filter that always ends with the primary key.

Ordering by a non-unique field alone (status, created_at) lets rows swap places between page
requests; appending ``-pk``/``pk`` as a tiebreaker makes every page boundary stable.
"""

from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class StableOrderingFilter(OrderingFilter):
    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(field.lstrip("-") in ("pk", "id") for field in ordering):
            descending = bool(ordering) and ordering[0].startswith("-")
            ordering.append("-pk" if descending else "pk")
        return ordering
