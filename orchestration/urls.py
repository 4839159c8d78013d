"""URLs of order services: the customer status page, staff boards, orchestration API."""

urlpatterns: list = []
