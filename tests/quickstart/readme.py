"""The README's Quick start as steps: the commands of its console blocks, in order, and its
other code blocks, each with the file named last before it."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from docutils import nodes
from docutils.core import publish_doctree

from tests.helpers import ROOT

README = ROOT / "README.rst"
SECTION = "Quick start"
#: An inline literal naming a file a block goes to: ``mysite/settings.py``.
FILE = re.compile(r"[\w.-]+(?:/[\w.-]+)*\.(?:py|html)")


@dataclass(frozen=True)
class Command:
    """One ``$ …`` line of a console block, split as a shell would."""

    argv: list[str]


@dataclass(frozen=True)
class Snippet:
    """A code block and the file it goes to (relative to the directory commands run in)."""

    path: str
    language: str
    code: str


def quick_start() -> list[Command | Snippet]:
    """The steps of the Quick start section, in the order the reader follows them.

    Parsing the README with docutils (as PyPI renders it) also fails on any warning.
    """
    settings = {"report_level": 5, "halt_level": 2}
    document = publish_doctree(README.read_text(encoding="utf-8"), settings_overrides=settings)
    (section,) = [s for s in document.findall(nodes.section) if s[0].astext() == SECTION]
    steps: list[Command | Snippet] = []
    destination: str | None = None
    for node in section.findall(lambda n: isinstance(n, nodes.literal | nodes.literal_block)):
        if isinstance(node, nodes.literal):
            if FILE.fullmatch(node.astext()):
                destination = node.astext()
            continue
        language = node["classes"][-1]
        if language == "console":
            lines = node.astext().splitlines()
            steps.extend(Command(shlex.split(line[2:])) for line in lines if line.startswith("$ "))
            continue
        assert destination, f"No file is named before the {language} block:\n{node.astext()}"
        steps.append(Snippet(destination, language, node.astext()))
        destination = None
    return steps
