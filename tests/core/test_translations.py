"""The shipped translations: complete, compiled from their catalogue, placeholders intact.

``bin/messages --check`` (``nox -s messages``) keeps each ``django.po`` current with the
source; these tests keep every shipped language complete and its ``django.mo`` compiled
from its ``django.po``, read back with Python's own :mod:`gettext`.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.utils import translation

import django_upsolve
from django_upsolve.models import UpsolveProfile

LOCALE = Path(django_upsolve.__file__).parent / "locale"
LANGUAGES = sorted(path.name for path in LOCALE.iterdir() if path.is_dir())
# %(name)s, %s, %d, {name}, {} and HTML tags: a translation keeps each of them.
PLACEHOLDER = re.compile(r"%\([^)]+\)[#0 +-]*\d*(?:\.\d+)?[a-zA-Z]|%[sdfir]|\{\w*\}|</?\w+")


@dataclass
class Entry:
    """One message of a ``.po`` file."""

    msgid: str
    msgid_plural: str | None
    msgstr: dict[int, str]  # by plural form
    flags: set[str]
    context: str | None = None

    @property
    def key(self) -> str:
        """The key of the message in a compiled catalogue."""
        return self.msgid if self.context is None else f"{self.context}\x04{self.msgid}"


def read_po(path: Path) -> list[Entry]:
    """The entries of a ``.po`` file, header first; obsolete (``#~``) entries are left out.

    Entries are separated by blank lines, as gettext's tools write them.
    """
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        keyword = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[keyword] += ast.literal_eval(line)
            else:
                keyword, _, text = line.partition(" ")
                fields[keyword] = ast.literal_eval(text)
        if "msgid" not in fields:
            continue
        if "msgstr" in fields:
            msgstr = {0: fields["msgstr"]}
        else:
            msgstr = {int(k[7:-1]): v for k, v in fields.items() if k.startswith("msgstr[")}
        entries.append(
            Entry(fields["msgid"], fields.get("msgid_plural"), msgstr, flags, fields.get("msgctxt"))
        )
    return entries


def po_entries(language: str) -> list[Entry]:
    return read_po(LOCALE / language / "LC_MESSAGES" / "django.po")


def mo_file(language: str) -> gettext.GNUTranslations:
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as mo:
        return gettext.GNUTranslations(mo)


def mo_catalog(language: str) -> dict[object, str]:
    """Every message of the compiled catalogue (``_catalog`` is what Django reads too)."""
    return dict(mo_file(language)._catalog)


def plural_count(header: Entry) -> int:
    found = re.search(r"nplurals\s*=\s*(\d+)", header.msgstr[0])
    assert found, "the header has no Plural-Forms"
    return int(found.group(1))


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_at_least_two_languages_ship():
    assert {"de", "fr"} <= set(LANGUAGES)


def test_the_parser_reads_every_kind_of_entry(tmp_path: Path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        '#: a.py\n#, python-format\nmsgid ""\n"%(n)d \\"long\\" "\n"one"\n'
        'msgid_plural "%(n)d many"\nmsgstr[0] "un"\nmsgstr[1] ""\n"plusieurs"\n\n'
        'msgctxt "month"\nmsgid "May"\nmsgstr "mai"\n\n#~ msgid "gone"\n#~ msgstr "parti"\n',
        encoding="utf-8",
    )

    header, plural, contextual = read_po(po)

    assert plural_count(header) == 2
    assert plural == Entry(
        '%(n)d "long" one', "%(n)d many", {0: "un", 1: "plusieurs"}, {"python-format"}
    )
    assert (contextual.key, contextual.msgstr) == ("month\x04May", {0: "mai"})


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language):
    header, *entries = po_entries(language)
    forms = plural_count(header)

    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert entries, "an empty catalogue"
    untranslated = [
        entry.msgid
        for entry in entries
        if "fuzzy" in entry.flags
        or not all(entry.msgstr.values())
        or len(entry.msgstr) != (forms if entry.msgid_plural is not None else 1)
    ]
    assert untranslated == [], f"translate these in {language}/LC_MESSAGES/django.po"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_and_tags_are_kept(language):
    broken = []
    for entry in po_entries(language)[1:]:
        if entry.msgid_plural is None:
            if placeholders(entry.msgstr[0]) != placeholders(entry.msgid):
                broken.append(entry.msgid)
        else:
            allowed = set(placeholders(entry.msgid_plural)) | set(placeholders(entry.msgid))
            if any(not set(placeholders(text)) <= allowed for text in entry.msgstr.values()):
                broken.append(entry.msgid)

    assert broken == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_the_po_file(language):
    expected: dict[object, str] = {}
    for entry in po_entries(language)[1:]:
        if entry.msgid_plural is None:
            expected[entry.key] = entry.msgstr[0]
        else:
            expected.update({(entry.key, form): text for form, text in entry.msgstr.items()})

    compiled = mo_catalog(language)
    del compiled[""]  # the header

    assert compiled == expected, "run bin/messages to compile the .mo files"


@pytest.mark.parametrize("language", LANGUAGES)
def test_django_finds_the_translations(language):
    compiled = mo_file(language)
    plural = (
        "Refreshed the token of %(count)d profile.",
        "Refreshed the tokens of %(count)d profiles.",
    )

    with translation.override(language):
        verbose_name = str(UpsolveProfile._meta.verbose_name)
        page = render_to_string("django_upsolve/placeholder.html", {"reason": "not-available"})
        refreshed = translation.ngettext(*plural, 5)

    assert verbose_name == compiled.gettext("Upsolve profile") != "Upsolve profile"
    assert compiled.gettext("Analytics are not available for your account.") in page
    assert refreshed == compiled.ngettext(*plural, 5) != plural[1]
