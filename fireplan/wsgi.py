import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fireplan.settings")
application = get_wsgi_application()

# gunicorn runs no system checks: refuse to serve with a per-process "shared" cache (core.checks).
from core.checks import refuse_per_process_cache  # noqa: E402

refuse_per_process_cache()
