"""Plain text from mail bodies: HTML made readable, and what the sender just wrote set apart from
the quoted earlier mail and the signature (English and French mail clients)."""

import re
from dataclasses import dataclass
from html.parser import HTMLParser

BLOCK_TAGS = {
    "p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "hr", "section", "article", "header", "footer", "dd", "dt", "address",
}  # fmt: skip
SKIPPED_TAGS = {"script", "style", "head", "title", "template", "noscript"}


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in BLOCK_TAGS:
            self.chunks.append("\n")
        if tag == "li":
            self.chunks.append("- ")
        elif tag in ("td", "th"):
            self.chunks.append(" ")

    def handle_endtag(self, tag):
        if tag in SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: blocks on their own lines, no markup, scripts or styles."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - keep whatever was read
        pass
    lines = (" ".join(line.split()) for line in "".join(parser.chunks).splitlines())
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# Where quoted earlier mail begins, in the forms English and French mail clients write it.
QUOTE_START = re.compile(
    r"""^(
        >                                                   # quoted line
      | On\s.{0,300}?\swrote:\s*$                           # On Mon, 3 Mar 2026, Ann <a@b> wrote:
      | Le\s.{0,300}?\sa\s+[ée]crit\s*:\s*$                 # Le lun. 3 mars 2026, Ann a écrit :
      | -{2,}\s*(Original\s+Message|Message\s+d'origine|Mail\s+original|Forwarded\s+message
                 |Message\s+transf[ée]r[ée])\s*-{2,}            # Mail original: Zimbra webmail
      | _{10,}\s*$                                          # Outlook's rule above the quoted mail
      | (From|De)\s*:\s.+\n\s*(Sent|Envoy[ée])\s*:          # Outlook's header block
      # Outlook for Mac and iOS (no Sent line) and Zimbra (De, À, Envoyé): the sender's line holds
      # an address and two more header lines follow, so a customer's own "De : 9 h / À : 17 h /
      # Date : samedi" is never taken for a quote.
      | (From|De)[ \t]*:[ \t][^\n@]*@.*(\n[ \t]*(Date|To|[ÀA]|Cc|Sent|Envoy[ée]|Subject|Objet)[ \t]*:.*){2}
    )""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
# "On … wrote:" that the sender's client wrapped over two lines.
WRAPPED_ATTRIBUTION = re.compile(
    r"^(On\s.{0,200}\n.{0,200}\swrote:|Le\s.{0,200}\n.{0,200}\sa\s+[ée]crit\s*:)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
SIGNATURE_START = re.compile(
    r"""^(
        --\s*$                                              # the standard signature separator
      | (Sent|Envoy[ée])\s+(from|de|depuis)\s+(my|mon|ma)\s.{0,40}$   # Sent from my iPhone
      | Get\s+Outlook\s+for\s.{0,20}$
      | Obtenir\s+Outlook\s+pour\s.{0,20}$
      # A company's legal footer is not what its employee wrote, and its language is not theirs.
      | (Confidentiality\s+notice|Confidential|Disclaimer|Avis\s+de\s+confidentialit[ée]|Confidentialit[ée]
         |Avertissement\s+de\s+confidentialit[ée]|Avis\s+de\s+non-responsabilit[ée])\s*:
      | (This|The\s+information\s+in\s+this)\s+(e-?mail|message|communication|transmission)\b[^\n]{0,200}?
        \b(confidential|privileged|intended\s+(solely\s+|only\s+)?for)
      | (Ce|Le\s+pr[ée]sent)\s+(courriel|message|courrier\s+[ée]lectronique)\b[^\n]{0,200}?\b(confidenti|destin[ée])
    )""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
# A closing line ("Thanks,", « Cordialement, ») above the writer's name, title and company.
SIGN_OFF = re.compile(
    r"""^[ \t]*(
        thanks(\s+again)?|thank\s+you|many\s+thanks|regards|best\s+regards|kind\s+regards|warm\s+regards|best
      | cheers|sincerely|respectfully|merci(\s+beaucoup|\s+[àa]\s+l'avance)?|cordialement|salutations
      | bien\s+[àa]\s+vous|bonne\s+journ[ée]e|au\s+plaisir
    )[ \t]*[,.!]*[ \t]*$""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
SIGNATURE_LINES = 10
SIGNATURE_LINE_LENGTH = 80


def new_text_of(text: str) -> str:
    """What the sender just wrote: the text before quoted earlier mail and the signature; when
    they wrote below the quote instead, the lines that are not quoted."""
    cut = len(text)
    for pattern in (QUOTE_START, WRAPPED_ATTRIBUTION, SIGNATURE_START):
        match = pattern.search(text[:cut])
        if match:
            cut = min(cut, match.start())
    if written_above := text[:cut].strip():
        return written_above
    unquoted = "\n".join(line for line in text.splitlines() if not QUOTE_START.match(line))
    if signature := SIGNATURE_START.search(unquoted):
        unquoted = unquoted[: signature.start()]
    return unquoted.strip()


def without_sign_off(text: str) -> str:
    """The text without the signature under its closing line: a name, a job title and a company
    ("Claims adjuster | Intact Insurance") say nothing of what the writer asks. Kept when what
    follows the closing line reads as more of the message (a question, long lines, many lines)."""
    for sign_off in SIGN_OFF.finditer(text):
        below = [line for line in text[sign_off.end() :].splitlines() if line.strip()]
        if len(below) <= SIGNATURE_LINES and all(
            len(line) <= SIGNATURE_LINE_LENGTH and "?" not in line for line in below
        ):
            return text[: sign_off.start()].rstrip()
    return text


# Where a forwarded message begins in the forwarder's text (Gmail, Thunderbird, Apple Mail, Outlook).
FORWARD_MARKER = re.compile(
    r"""^\s*(
        -{2,}\s*(Forwarded\s+message|Message\s+transf[ée]r[ée])\s*-{2,}
      | Begin\s+forwarded\s+message\s*:
      | D[ée]but\s+du\s+message\s+r[ée]exp[ée]di[ée]\s*:
      | _{10,}
    )\s*$""",
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
# The forwarded message's header lines: "From: Ann <ann@example.com>", "De : Ann [mailto:ann@…]".
FORWARDED_HEADER = re.compile(r"^[ \t>]*([A-Za-zÀ-ÿ-]{2,12})[ \t]*:[ \t]*(.*)$")
SENDER_FIELDS = ("from", "de", "expediteur", "expéditeur")
FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|tr|transf[ée]r[ée])\s*:", re.IGNORECASE)
# An email address written in text.
EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class ForwardedOriginal:
    name: str
    address: str
    text: str


def forwarded_original(subject: str, text: str) -> ForwardedOriginal | None:
    """The message a person forwarded inline, below their own words: who wrote it and what they
    wrote. None when the text holds no forwarded message with a sender's address."""
    marker = FORWARD_MARKER.search(text)
    if marker:
        rest = text[marker.end() :]
    elif FORWARD_SUBJECT.match(subject):
        # Outlook's forward without the rule: its header block opens the forwarded part.
        start = re.search(r"^[ \t>]*(From|De)[ \t]*:", text, re.IGNORECASE | re.MULTILINE)
        if not start:
            return None
        rest = text[start.start() :]
    else:
        return None
    rest = rest.lstrip("\n")
    if rest.startswith(">"):  # Apple Mail on a phone quotes the whole forwarded message
        rest = re.sub(r"(?m)^> ?", "", rest)
    headers, _, body = re.sub(r"\n[ \t]+\n", "\n\n", rest).partition("\n\n")
    sender = ""
    for line in headers.splitlines():
        if (field := FORWARDED_HEADER.match(line)) and field.group(1).lower() in SENDER_FIELDS:
            sender = field.group(2)
            break
    if not (address := EMAIL.search(sender)):
        return None
    name = sender[: address.start()].strip(" \t\"'<[(").removesuffix("mailto:").strip(" \t\"'<[(")
    return ForwardedOriginal(name=name, address=address.group(0).lower(), text=new_text_of(body.strip()))
