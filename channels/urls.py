"""URLs of channel ingestion (mounted under /api/channels/)."""

urlpatterns: list = []
