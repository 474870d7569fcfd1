"""The French the pages speak: every message counted in the plural has each form French uses, so
that "21 new leads" reads in French, not in English, for any count."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import ngettext

CATALOGS = sorted(Path(settings.BASE_DIR).glob("*/locale/fr/LC_MESSAGES/django.mo"))


def test_each_app_has_a_french_catalog():
    assert {path.parts[-5] for path in CATALOGS} == {"dealership", "leads", "inventory", "promotions"}


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: path.parts[-5])
def test_every_french_plural_has_every_form_french_uses(catalog):
    with catalog.open("rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    # The catalog keeps each plural message's forms under (msgid, form number).
    forms: dict[str, set[int]] = {}
    for key, text in translations._catalog.items():
        if isinstance(key, tuple) and text:
            forms.setdefault(key[0], set()).add(key[1])
    count = int(re.search(r"nplurals\s*=\s*(\d+)", translations._info["plural-forms"]).group(1))
    incomplete = sorted(msgid for msgid, numbers in forms.items() if numbers != set(range(count)))
    assert incomplete == []


def test_a_count_of_twenty_one_reads_in_french():
    with translation.override("fr"):
        assert (
            ngettext("%(count)d reply template", "%(count)d reply templates", 21) % {"count": 21}
            == "21 modèles de réponse"
        )
