"""The embedded mode's own parts: what ``make run`` needs besides the apps.

Without a broker (no ``REDIS_URL``) Celery runs every task eagerly in the caller and no worker
exists, so ``runserver`` runs the beat schedule itself (``scheduler``), and serves static files
through WhiteNoise as production does (``management/commands/runserver.py``).
"""
