"""The WSGI application gunicorn serves, in whichever configuration ``BENCH_CONFIG`` names."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pathbench.settings")
application = get_wsgi_application()
