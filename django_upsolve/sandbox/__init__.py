"""A local emulator of the Upsolve AI API, for demos and for tests.

Add ``"django_upsolve.sandbox"`` to ``INSTALLED_APPS`` and mount
``path("sandbox/", include("django_upsolve.sandbox.urls"))`` to serve the three
API calls and the share pages over HTTP, or use the ``upsolve_sandbox`` pytest
fixture (``django_upsolve.sandbox.pytest_plugin``) to answer ``requests`` calls
in-process. Both run the same :class:`~django_upsolve.sandbox.emulator.Emulator`.

It is for development, demos and tests, never for production: ``check --deploy``
fails (``upsolve_sandbox.E003``) while it is installed with ``DEBUG = False``. It never
accepts the production key (``UPSOLVE["API_KEY"]`` while ``UPSOLVE["API_URL"]`` points
elsewhere than this sandbox) unless ``UPSOLVE_SANDBOX["ALLOW_PRODUCTION_KEY"]`` is True; give
it a key of its own in ``UPSOLVE_SANDBOX["API_KEY"]`` (:mod:`.keys`). It stores a bounded
number of organizations and users, with bounded properties (:mod:`.emulator`).

Declare dashboards in ``UPSOLVE_SANDBOX["DASHBOARDS"]``
(:mod:`django_upsolve.sandbox.dashboards`) and their share pages draw charts
from your own data, filtered by each token's properties.
"""
