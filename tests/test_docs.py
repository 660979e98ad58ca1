"""The documentation under ``docs/`` builds without a single warning, and its snippets parse.

The build imports every module the API reference documents, so a docstring that breaks the
reStructuredText, or a module that no longer imports, fails here rather than on a docs host.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(DOCS.glob("*.rst"))
#: A ``code-block`` directive and its indented body (blank lines included).
CODE_BLOCK = re.compile(r"^( *)\.\. code-block:: (\w+)\n\n((?:\1 +\S.*\n|[ \t]*\n)+)", re.M)


def code_blocks(language: str) -> list[tuple[str, str]]:
    """``(page:line, code)`` of every ``code-block`` in ``language``, dedented."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in CODE_BLOCK.finditer(text):
            if match[2] != language:
                continue
            lines = match[3].rstrip().splitlines()
            indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
            line_number = text.count("\n", 0, match.start()) + 1
            found.append((f"{page.name}:{line_number}", "\n".join(x[indent:] for x in lines)))
    return found


def test_the_site_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            *("-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"),
            *("-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "html" / "api.html").read_text(encoding="utf-8").count(
        'id="django_upsolve.services.get_token"'
    ) == 1, "autodoc documented nothing: the API reference is empty"


@pytest.mark.parametrize(("where", "code"), code_blocks("python"))
def test_python_snippets_parse(where: str, code: str) -> None:
    compile(code, where, "exec")


@pytest.mark.parametrize(("where", "code"), code_blocks("json"))
def test_json_snippets_parse(where: str, code: str) -> None:
    json.loads(code)


def test_the_snippets_are_found() -> None:
    assert len(code_blocks("python")) >= 10
    assert len(code_blocks("json")) >= 6
