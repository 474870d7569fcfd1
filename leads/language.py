"""A small guess at whether a customer wrote in French or English, from common words."""

import re

from django.conf import settings

FRENCH_WORDS = frozenset(
    "le la les un une des du de et est je vous nous il elle pour avec sur dans pas que qui "
    "bonjour merci voiture véhicule prix disponible encore svp s'il vous plaît essai routier "
    "financement location échange est-ce ce cette mon ma mes votre vos au aux mais ou très".split()
)
ENGLISH_WORDS = frozenset(
    "the a an and is are i you we he she it for with on in not that who hello hi thanks thank "
    "car vehicle price available still please test drive financing lease trade is this my your "
    "to of at but or very would like".split()
)
WORD = re.compile(r"[a-zàâçéèêëîïôûùüÿœæ'-]+")


def detect_language(text: str) -> str | None:
    """ "fr" or "en" when the text clearly leans one way, else None."""
    words = WORD.findall((text or "").lower())
    french = sum(word in FRENCH_WORDS for word in words)
    english = sum(word in ENGLISH_WORDS for word in words)
    if french + english < 2 or french == english:
        return None
    return "fr" if french > english else "en"


def store_language() -> str:
    """The language of a customer whose words do not tell: the store's (STORE_LANGUAGE)."""
    return settings.STORE_LANGUAGE
