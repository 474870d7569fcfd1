"""Contact-form notifications from websites: "Name: … Email: … Phone: …" (and "Nom :", "Courriel :")."""

import re
from dataclasses import dataclass, field

from .text import new_text_of
from .words import fold

# Folded label → field. A label is matched at a line start, followed by ":" (French puts a space
# before), or alone on its line with the value on the next line that is not blank.
LABELS = {
    "name": "name", "full name": "name", "your name": "name", "customer name": "name", "nom": "name",
    "nom complet": "name", "votre nom": "name", "nom du client": "name",
    "first name": "first_name", "prenom": "first_name", "given name": "first_name",
    "last name": "last_name", "surname": "last_name", "family name": "last_name",
    "nom de famille": "last_name",
    "email": "email", "e-mail": "email", "email address": "email", "your email": "email",
    "courriel": "email", "adresse courriel": "email", "adresse e-mail": "email", "adresse electronique": "email",
    "phone": "phone", "telephone": "phone", "phone number": "phone", "mobile": "phone", "cell": "phone",
    "cell phone": "phone", "numero de telephone": "phone", "tel": "phone", "cellulaire": "phone",
    "comments": "comments", "comment": "comments", "message": "comments", "questions": "comments",
    "question": "comments", "inquiry": "comments", "commentaires": "comments", "commentaire": "comments",
    "votre message": "comments", "demande": "comments", "your message": "comments", "message body": "comments",
    "questions/comments": "comments", "questions or comments": "comments", "comments/questions": "comments",
    "votre question": "comments", "vos commentaires": "comments", "vos questions": "comments",
    "adresse de courriel": "email", "e-mail address": "email", "votre courriel": "email",
    "your phone": "phone", "votre telephone": "phone",
    "source": "source", "lead source": "source", "website": "source", "site web": "source",
    "provenance": "source",
    "vehicle": "vehicle", "vehicle of interest": "vehicle", "vehicule": "vehicle",
    "vehicule d'interet": "vehicle", "vehicle interested in": "vehicle",
    "year": "year", "annee": "year", "make": "make", "marque": "make", "model": "model",
    "modele": "model", "trim": "trim", "version": "trim", "vin": "vin", "niv": "vin",
    "stock": "stock", "stock #": "stock", "stock number": "stock", "numero de stock": "stock",
    "no de stock": "stock", "inventaire": "stock",
    "condition": "status", "etat": "status", "new/used": "status", "neuf/usage": "status",
    "trade-in": "trade_in", "trade in": "trade_in", "trade-in vehicle": "trade_in",
    "vehicule d'echange": "trade_in", "echange": "trade_in",
}  # fmt: skip

FIELD_LINE = re.compile(r"^[ \t*]*([^\n:]{1,40}?)[ \t]*:[ \t]*(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class WebForm:
    fields: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


def parse_web_form(text: str) -> WebForm | None:
    """The fields of a contact-form notification, or None when the text is not one (it needs a
    name and an email or phone)."""
    fields: dict[str, str] = {}
    current = None
    lines: list[str] = []

    def close():
        if current and current not in fields:
            value = "\n".join(lines).strip()
            if current == "comments":
                value = new_text_of(value)  # not the site's footer or signature below the message
            if value:
                fields[current] = value

    value_below = False  # a label alone on its line (Gravity Forms, WPForms tables): the value is below
    for line in text.splitlines():
        match = FIELD_LINE.match(line)
        label = fold(match.group(1).strip().strip("*").strip()) if match else ""
        alone = fold(line.strip().strip("*").strip())
        if match and label in LABELS:
            close()
            current, lines, value_below = LABELS[label], [match.group(2).strip()], False
        elif value_below:  # "Source" above "Website": a value, even one that reads like a label
            if line.strip():
                lines.append(line)
                value_below = False
        elif alone in LABELS:
            close()
            current, lines, value_below = LABELS[alone], [], True
        elif current == "comments":
            lines.append(line)  # a message runs over several lines until the next label
        else:
            close()
            current, lines = None, []
    close()
    has_name = any(fields.get(k) for k in ("name", "first_name", "last_name"))
    if has_name and (fields.get("email") or fields.get("phone")):
        return WebForm(fields=fields)
    return None
