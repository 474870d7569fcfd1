"""Text helpers every app shares."""


def mid_sentence(text: str) -> str:
    """A label or a sentence as it reads inside another sentence: its first letter in lower case
    ("The customer replied" → "the customer replied"), the rest as written ("PDI" stays)."""
    return text[:1].lower() + text[1:]
