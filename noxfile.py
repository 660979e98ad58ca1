"""Every supported Python and Django, and the checks CI runs (``.ci/run`` runs ``nox``).

``nox -l`` lists the sessions; ``nox`` runs them all (the checks first, then the tests);
``nox -t checks`` the quick ones; ``nox -s lint`` or ``nox -s "tests(python='3.13',
django='6.1')"`` one. Arguments after ``--`` go to pytest:
``nox -s "tests(python='3.12', django='6.0')" -- -k login``.
A Python version that is not installed fails its sessions: none is skipped.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import nox

nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).resolve().parent
DJANGO = {"5.2": "Django>=5.2,<5.3", "6.0": "Django>=6.0,<6.1", "6.1": "Django>=6.1,<6.2"}
# Each Python with Django 5.2 LTS, and each newer Django once (6.0 and later need Python
# 3.12 or newer): every Python and every Django is tested, and CI stays well under its 90
# minutes (all seven pairs took up to 70 minutes on a loaded machine).
MATRIX = [
    ("3.11", "5.2"),
    ("3.12", "5.2"),
    ("3.12", "6.0"),
    ("3.13", "5.2"),
    ("3.13", "6.1"),
]
# The ends of the matrix also run the browser tests and the whole suite on PostgreSQL.
FULL = {MATRIX[0], MATRIX[-1]}
NEWEST, NEWEST_DJANGO = MATRIX[-1]
# What the sdist ships besides the package: enough to run the tests and build the docs.
SDIST = ("CHANGELOG.rst", "README.rst", "LICENSE", "manage.py", "tests", "docs", "demo_project")
POSTGRES_URL = os.environ.get("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")


@nox.session(python=NEWEST, tags=["checks"])
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting (the version of the ``lint`` extra)."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=NEWEST, tags=["checks"])
def types(session: nox.Session) -> None:
    """mypy --strict over the package (configured in setup.cfg)."""
    # test: the settings mypy's Django plugin loads (tests.settings) install its task apps.
    session.install("-e", ".[lint,sandbox,test]")
    session.run("mypy")


@nox.session(python=NEWEST, tags=["checks"])
def migrations(session: nox.Session) -> None:
    """The models and the migrations agree: ``makemigrations`` finds nothing to write."""
    session.install("-e", ".[test]")
    session.run(
        "python",
        "-m",
        "django",
        "makemigrations",
        "--check",
        "--dry-run",
        env={"DJANGO_SETTINGS_MODULE": "tests.settings"},
    )


@nox.session(python=NEWEST, tags=["checks"])
def messages(session: nox.Session) -> None:
    """The translation catalogues are current (``bin/messages --check``; needs GNU gettext).

    ``nox -s messages -- update`` updates and compiles them instead, as ``bin/messages`` does.
    """
    session.install(DJANGO[NEWEST_DJANGO])
    python = Path(session.bin) / "python"
    update = session.posargs == ["update"]
    command = ["bin/messages"] if update else ["bin/messages", "--check"]
    session.run(*command, env={"PYTHON": str(python)}, external=True)


@nox.session(python=NEWEST, tags=["checks"])
def docs(session: nox.Session) -> None:
    """The Sphinx site under docs/, warnings as errors."""
    session.install("-e", ".[docs]")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session(python=NEWEST, tags=["checks"])
def package(session: nox.Session) -> None:
    """Build the sdist and the wheel, check them, and smoke-test the wheel installed alone.

    They are built from a copy of the files git tracks or would track, so that nothing left
    in the work tree (an old ``*.egg-info``) slips in. The wheel goes into a new virtualenv,
    with only its ``sandbox`` extra, and runs from a temporary directory (never the source
    tree): ``check``, ``migrate`` and one login against the in-process sandbox, with the
    project of ``tests/wheel_smoke``.
    """
    session.install("build", "twine")
    tmp = Path(session.create_tmp()).resolve()
    for name in ("source", "dist", "smoke"):
        shutil.rmtree(tmp / name, ignore_errors=True)
    files = source_files(session)
    for name in files:
        (tmp / "source" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp / "source" / name)
    session.run("python", "-m", "build", "--outdir", str(tmp / "dist"), str(tmp / "source"))
    [sdist], [wheel] = (list((tmp / "dist").glob(pattern)) for pattern in ("*.tar.gz", "*.whl"))
    session.run("twine", "check", "--strict", str(sdist), str(wheel))
    check_contents(session, files, sdist, wheel)

    project = tmp / "smoke"
    project.mkdir()
    for name in ("settings.py", "urls.py", "login.py"):
        shutil.copy2(ROOT / "tests" / "wheel_smoke" / name, project / name)
    python = str(project / "venv" / "bin" / "python")
    session.run("python", "-m", "venv", str(project / "venv"))
    session.chdir(project)
    session.run(python, "-m", "pip", "install", "--quiet", f"{wheel}[sandbox]", external=True)
    env = {"DJANGO_SETTINGS_MODULE": "settings", "PYTHONPATH": str(project)}
    manage = (python, "-m", "django")
    session.run(*manage, "check", "--fail-level", "WARNING", env=env, external=True)
    session.run(*manage, "migrate", "--no-input", env=env, external=True)
    session.run(python, "login.py", env=env, external=True)


@nox.session(tags=["tests"])
@nox.parametrize(("python", "django"), MATRIX)
def tests(session: nox.Session, django: str) -> None:
    """The README's test command, ``python -m pytest``, against one Django release.

    The middle of the matrix runs on SQLite without the browser tests; its two ends run
    everything on SQLite, then the suite again on PostgreSQL (the browser tests drive the
    demo, whose database is its own, so they run once).
    """
    session.install("-e", ".[test]", DJANGO[django])
    session.run("python", "-m", "django", "--version")
    if (session.python, django) in FULL:
        session.run("python", "-m", "pytest", *session.posargs)
        session.run(
            "python",
            "-m",
            "pytest",
            "-m",
            "not browser",
            *session.posargs,
            env={"DATABASE_URL": POSTGRES_URL},
        )
    else:
        session.run("python", "-m", "pytest", "-m", "not browser", *session.posargs)


def source_files(session: nox.Session) -> list[str]:
    """The files git tracks, and the new ones it does not ignore, that exist."""
    listed = session.run(
        "git",
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
        silent=True,
        external=True,
    )
    return [name for name in str(listed).split("\0") if name and (ROOT / name).is_file()]


def check_contents(session: nox.Session, files: list[str], sdist: Path, wheel: Path) -> None:
    """The sdist holds every source file it should ship; the wheel holds only the package."""
    with tarfile.open(sdist) as tar:
        shipped = {name.partition("/")[2] for name in tar.getnames()}
    wanted = [name for name in files if name.split("/")[0] in (*SDIST, "django_upsolve")]
    missing = sorted(set(wanted) - shipped)
    if missing:
        session.error(f"The sdist lacks {missing}: see MANIFEST.in")
    with zipfile.ZipFile(wheel) as zipped:
        strays = [name for name in zipped.namelist() if not name.startswith("django_upsolve")]
    if strays:
        session.error(f"The wheel holds more than the package: {strays}")
