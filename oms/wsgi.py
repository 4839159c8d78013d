"""WSGI entry point (gunicorn oms.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from oms.gcfreeze import freeze_startup_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
application = get_wsgi_application()
freeze_startup_heap()
