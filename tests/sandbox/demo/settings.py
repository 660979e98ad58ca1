"""The demo's own settings in sandbox mode, for the suite in this folder.

``tests/sandbox/test_demo.py`` runs that suite in a pytest subprocess: the demo's
apps, models and middleware cannot join the main suite's settings. The test
client's host is the demo's canonical host, and test databases on a server are
named after this process, so concurrent runs never share one.
"""

import os

os.environ["UPSOLVE_API_KEY"] = ""  # the sandbox, whatever the environment or a .env file says
os.environ["DEMO_BASE_URL"] = "http://testserver"
os.environ["UPSOLVE_SYNC_ON_LOGIN"] = "inline"  # the test client's login brings the token

from demo_project.settings import *  # noqa: F403

for _alias, _config in DATABASES.items():  # noqa: F405
    if _config["ENGINE"] != "django.db.backends.sqlite3":
        _config["TEST"] = {"NAME": f"test_upsolve_demo_{_alias}_{os.getpid()}"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
