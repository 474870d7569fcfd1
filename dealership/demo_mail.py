"""Mail for the demo store's local mailbox: a few real-looking messages the worker reads when
`make run` starts, so the whole way from mailbox to inbox can be watched (a lead provider's ADF, a
French website form, a service request for the service department, an out-of-office reply)."""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from django.utils import timezone

STORE = "internet@maplemotors.example"

ADF = """<?xml version="1.0" encoding="UTF-8"?>
<?ADF VERSION "1.0"?>
<adf><prospect status="new">
<requestdate>{date}</requestdate>
<vehicle interest="buy" status="new"><year>2026</year><make>Toyota</make><model>RAV4</model>
<trim>XLE Hybrid</trim><price type="asking" currency="CAD">41995</price></vehicle>
<vehicle interest="trade-in" status="used"><year>2017</year><make>Mazda</make><model>CX-5</model>
<odometer units="km">142000</odometer></vehicle>
<customer><contact>
<name part="first">Maya</name><name part="last">Singh</name>
<email>maya.singh@example.net</email><phone type="cell">(647) 555-0177</phone>
</contact>
<comments>Is the RAV4 Hybrid in stock? What would you give me for my CX-5?</comments></customer>
<provider><name part="full">AutoTrader.ca</name></provider>
</prospect></adf>
"""


def _message(*, sender: str, subject: str, body: str, headers: dict | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = STORE
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain="demo.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message


def demo_messages() -> dict[str, EmailMessage]:
    """File name → message, in the order they should arrive."""
    return {
        "demo-1-autotrader.eml": _message(
            sender='"AutoTrader.ca" <leads@autotrader.ca>',
            subject="AutoTrader.ca Lead - 2026 Toyota RAV4 XLE Hybrid",
            body=ADF.format(date=timezone.now().isoformat(timespec="seconds")),
            headers={"Auto-Submitted": "auto-generated", "Precedence": "bulk"},
        ),
        "demo-2-site-web.eml": _message(
            sender="Site web Maple Motors <noreply@maplemotors.example>",
            subject="Nouvelle demande du formulaire de contact",
            body=(
                "Nouvelle demande reçue sur le site web.\n\n"
                "Prénom : Gabriel\nNom de famille : Pelletier\nCourriel : gabriel.pelletier@example.net\n"
                "Téléphone : 418 555-0188\nVéhicule : 2026 Hyundai Tucson Preferred\n"
                "Commentaires : Bonjour, quel serait le paiement mensuel en location sur 48 mois?\n"
                "Source : maplemotors.example/fr/inventaire\n"
            ),
        ),
        "demo-3-entretien.eml": _message(
            sender="Nathalie Roy <nathalie.roy@example.net>",
            subject="Rendez-vous pour un changement d'huile",
            body=(
                "Bonjour,\n\nJ'aimerais prendre rendez-vous pour le changement d'huile de ma Corolla 2021 "
                "la semaine prochaine, en avant-midi si possible.\n\nMerci,\nNathalie Roy\n"
            ),
        ),
        "demo-4-absence.eml": _message(
            sender="Emma Johnson <emma.johnson@example.com>",
            subject="Automatic reply: Your RAV4 inquiry",
            body="I am away until Monday with limited access to email. I will reply when I am back.\n",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    }


def demo_mailbox_fill(maildir: Path) -> int:
    """Put the demo messages in the mailbox's new/ folder, each once ever (a message the worker
    has read is in cur/ under the same name with its flags); returns how many were added."""
    for folder in ("new", "cur", "tmp"):
        (maildir / folder).mkdir(parents=True, exist_ok=True)
    delivered = {
        path.name.split(":")[0] for folder in ("new", "cur") for path in (maildir / folder).iterdir()
    }
    added = 0
    for name, message in demo_messages().items():
        if name in delivered:
            continue
        (maildir / "tmp" / name).write_bytes(message.as_bytes())
        (maildir / "tmp" / name).rename(maildir / "new" / name)  # whole, as Maildir wants
        added += 1
    return added
