"""ADF/XML 1.0 (Auto-lead Data Format), the lead format of third-party lead providers and makers.

Senders are sloppy: `<?ADF VERSION "1.0"?>`, unquoted attributes, wrong encoding declarations,
HTML entities, upper-case tags, values outside the spec. The text is cleaned first, then read
with defusedxml (no DTD, no entity ever expanded: a document declaring entities is refused
outright); when it still is not well-formed XML, a lenient tag reader takes over.
"""

import html
import re
from dataclasses import dataclass, field
from decimal import Decimal
from html.entities import html5
from html.parser import HTMLParser
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

MAX_ADF_CHARS = 2_000_000

VEHICLE_INTERESTS = {"buy", "lease", "sell", "trade-in", "test-drive"}
XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}


@dataclass(frozen=True)
class AdfPhone:
    number: str
    type: str = "voice"  # voice, fax, cellphone, pager — or whatever the sender wrote
    time: str = ""  # morning, afternoon, evening, nopreference, day


@dataclass(frozen=True)
class AdfAddress:
    street: list[str] = field(default_factory=list)
    apartment: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True)
class AdfContact:
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    full_name: str = ""
    email: str = ""
    phones: list[AdfPhone] = field(default_factory=list)
    address: AdfAddress | None = None

    @property
    def name(self) -> str:
        parts = " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)
        return parts or self.full_name


@dataclass(frozen=True)
class AdfVehicle:
    interest: str = "buy"
    status: str = ""  # new or used
    year: int | None = None
    make: str = ""
    model: str = ""
    trim: str = ""
    vin: str = ""
    stock: str = ""
    odometer: int | None = None
    odometer_units: str = ""  # km or mi
    price: Decimal | None = None
    price_currency: str = ""
    comments: str = ""


@dataclass(frozen=True)
class AdfTimeframe:
    description: str = ""
    earliest_date: str = ""
    latest_date: str = ""


@dataclass(frozen=True)
class AdfVendor:
    name: str = ""
    url: str = ""
    contact: AdfContact | None = None


@dataclass(frozen=True)
class AdfProvider:
    name: str = ""
    service: str = ""
    url: str = ""
    email: str = ""
    phone: str = ""
    contact: AdfContact | None = None


@dataclass(frozen=True)
class AdfProspect:
    request_date: str = ""
    ids: list[tuple[str, str]] = field(default_factory=list)  # (source, value)
    vehicles: list[AdfVehicle] = field(default_factory=list)
    contact: AdfContact | None = None
    comments: str = ""
    timeframe: AdfTimeframe | None = None
    vendor: AdfVendor | None = None
    provider: AdfProvider | None = None

    @property
    def source(self) -> str:
        """The lead provider: its name, else the source named on the lead's id."""
        if self.provider and self.provider.name:
            return self.provider.name
        return next((source for source, _ in self.ids if source), "")


@dataclass(frozen=True)
class AdfLead:
    prospects: list[AdfProspect]

    @property
    def vehicles(self) -> list[AdfVehicle]:
        return [vehicle for prospect in self.prospects for vehicle in prospect.vehicles]

    @property
    def contact(self) -> AdfContact | None:
        return next((p.contact for p in self.prospects if p.contact), None)

    @property
    def source(self) -> str:
        return next((p.source for p in self.prospects if p.source), "")

    @property
    def comments(self) -> str:
        return "\n\n".join(p.comments for p in self.prospects if p.comments)


# --- finding and cleaning the document ---------------------------------------------------------

# A namespace prefix some senders put on every tag: <adf:adf xmlns:adf="…"><adf:prospect>…
PREFIX = r"(?:[A-Za-z_][\w.-]*:)?"
TAG_PREFIX = re.compile(r"<(/?)\s*[A-Za-z_][\w.-]*:(?=[A-Za-z_])")
ADF_START = re.compile(rf"<\s*{PREFIX}adf[\s>]", re.IGNORECASE)
ADF_END = re.compile(rf"<\s*/\s*{PREFIX}adf\s*>", re.IGNORECASE)
# An entity declaration or a DTD with an internal subset, plain or HTML-escaped. A bare
# <!DOCTYPE html> (an HTML body carrying escaped ADF) is harmless and dropped with the rest.
ENTITY_DECLARATION = re.compile(r"(<|&lt;)!\s*(ENTITY|DOCTYPE[^>\[]*\[)", re.IGNORECASE)
ESCAPED_ADF = re.compile(rf"&lt;\s*{PREFIX}adf(\s|&gt;)", re.IGNORECASE)
PROCESSING_INSTRUCTION = re.compile(r"<\?.*?\?>", re.DOTALL)
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
INVALID_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
TAG = re.compile(r"<[A-Za-z][^<>]*>")
UNQUOTED_ATTRIBUTE = re.compile(r"""(\s[\w:.-]+)\s*=\s*([^\s"'<>=]+)""")
ENTITY = re.compile(r"&(#\d{1,7};|#x[0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{0,31};?)?")


def decode_adf_bytes(data: bytes) -> str:
    """ADF bytes as text: UTF-8 (whatever the declaration claims), else Windows-1252."""
    for encoding in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("cp1252", errors="replace")


def looks_like_adf(text: str) -> bool:
    return bool(ADF_START.search(text) or ESCAPED_ADF.search(text))


def _entity(match: re.Match) -> str:
    body = match.group(1)
    if not body:
        return "&amp;"
    if body.startswith("#"):
        return "&" + body
    name = body.rstrip(";")
    if name in XML_ENTITIES and body.endswith(";"):
        return "&" + body
    char = html5.get(name + ";") if body.endswith(";") else None
    if char:
        return html.escape(char, quote=False)
    return "&amp;" + body


def _quote_attributes(match: re.Match) -> str:
    return UNQUOTED_ATTRIBUTE.sub(lambda m: f'{m.group(1)}="{m.group(2)}"', match.group(0))


def _extract(text: str) -> str | None:
    if not ADF_START.search(text) and ESCAPED_ADF.search(text):
        # ADF pasted into an HTML body, escaped: &lt;adf&gt;…
        text = html.unescape(re.sub(r"<[^<>]*>", "", text))
    start = ADF_START.search(text)
    if not start:
        return None
    ends = list(ADF_END.finditer(text, start.start()))
    end = ends[-1].end() if ends else len(text)
    return text[start.start() : end]


def clean_adf(text: str) -> str | None:
    """The `<adf>` element alone, made well-formed where sloppiness is predictable."""
    document = _extract(text)
    if document is None:
        return None
    document = INVALID_XML_CHARS.sub("", document)
    # CDATA becomes escaped text, so the clean-up below leaves its content alone.
    document = CDATA.sub(lambda m: html.escape(m.group(1), quote=False), document)
    document = COMMENT.sub("", PROCESSING_INSTRUCTION.sub("", document))
    document = TAG_PREFIX.sub(r"<\1", document)
    document = TAG.sub(_quote_attributes, document)
    document = ENTITY.sub(_entity, document)
    if not ADF_END.search(document):
        document += "</adf>"
    return document


# --- a lenient reader for documents that are still not XML ---------------------------------------


# Elements that hold only text, never other elements.
TEXT_ELEMENTS = {
    "id", "requestdate", "year", "make", "model", "trim", "vin", "stock", "odometer", "price", "comments",
    "name", "email", "phone", "street", "apartment", "city", "regioncode", "postalcode", "country",
    "description", "earliestdate", "latestdate", "vendorname", "url", "service", "doors", "bodystyle",
    "transmission", "condition", "imagetag",
}  # fmt: skip


class _LenientTreeBuilder(HTMLParser):
    """Builds Elements from tag soup: unclosed tags close at their parent's end."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("document")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        if self.stack[-1].tag in TEXT_ELEMENTS:
            self.stack.pop()  # a value element left open: it ends where the next element starts
        element = Element(tag.lower(), {k.lower(): v or "" for k, v in attrs})
        element.text = ""
        self.stack[-1].append(element)
        self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.stack.pop()

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag.lower():
                del self.stack[depth:]
                return

    def handle_data(self, data):
        current = self.stack[-1]
        if len(current):
            current[-1].tail = (current[-1].tail or "") + data
        else:
            current.text = (current.text or "") + data


def _lenient_tree(document: str) -> Element | None:
    builder = _LenientTreeBuilder()
    builder.feed(document)
    builder.close()
    return next((e for e in builder.root.iter() if e.tag == "adf"), None)


def _local_name(name: str) -> str:
    """An attribute's name without its namespace ({uri}part, adf:part → part), in lower case."""
    return name.rpartition("}")[2].rpartition(":")[2].lower()


def _lower_tags(root: Element) -> Element:
    for element in root.iter():
        if isinstance(element.tag, str):
            element.tag = element.tag.rpartition("}")[2].lower()
            element.attrib = {_local_name(k): v for k, v in element.attrib.items()}
    return root


# --- reading the elements --------------------------------------------------------------------------


def _text(element: Element | None) -> str:
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def _child(element: Element | None, tag: str) -> Element | None:
    return None if element is None else element.find(tag)


def _child_text(element: Element | None, tag: str) -> str:
    return _text(_child(element, tag))


def _attr(element: Element | None, name: str) -> str:
    return "" if element is None else (element.get(name) or "").strip()


def _int(value: str) -> int | None:
    digits = re.sub(r"[^\d]", "", value.split(".")[0])
    return int(digits) if digits and len(digits) <= 9 else None


def _year(value: str) -> int | None:
    match = re.search(r"\b(19[0-9]{2}|2[0-9]{3})\b", value)
    return int(match.group(1)) if match else None


# The first amount of a price, whose fees may follow ("24 995 $ + 599 $ de transport"): thousands
# grouped by a space, a no-break space, a comma or a period, then cents ("24 995,50 $", "$32,995.00").
AMOUNT = re.compile(r"([0-9]{1,3}(?:[ \u00a0\u202f,.][0-9]{3})+|[0-9]+)(?:[.,]([0-9]{1,2}))?(?![0-9])")
MAX_PRICE = Decimal("100000000")


def _price(value: str) -> Decimal | None:
    amount = AMOUNT.search(value)
    if not amount:
        return None
    whole, cents = amount.groups()
    price = Decimal(re.sub(r"[^0-9]", "", whole) + (f".{cents}" if cents else ""))
    return price if price < MAX_PRICE else None


def _interest(value: str) -> str:
    value = re.sub(r"[\s_]+", "-", value.strip().lower())
    value = {"tradein": "trade-in", "trade": "trade-in", "testdrive": "test-drive", "purchase": "buy"}.get(
        value, value
    )
    return value if value in VEHICLE_INTERESTS else "buy"


def _status(value: str) -> str:
    value = value.strip().lower()
    if value in ("new", "neuf", "neuve"):
        return "new"
    if value in ("used", "pre-owned", "preowned", "certified", "cpo", "occasion", "usagé", "usage"):
        return "used"
    return ""


def _vehicle(element: Element) -> AdfVehicle:
    odometer = _child(element, "odometer")
    price = _child(element, "price")
    return AdfVehicle(
        interest=_interest(_attr(element, "interest")),
        status=_status(_attr(element, "status")),
        year=_year(_child_text(element, "year")),
        make=_child_text(element, "make"),
        model=_child_text(element, "model"),
        trim=_child_text(element, "trim"),
        vin=_child_text(element, "vin").upper()[:17],
        stock=_child_text(element, "stock"),
        odometer=_int(_text(odometer)),
        odometer_units=_attr(odometer, "units").lower(),
        price=_price(_text(price)),
        price_currency=_attr(price, "currency").upper(),
        comments=_child_text(element, "comments"),
    )


def _contact(element: Element | None) -> AdfContact | None:
    if element is None:
        return None
    names = {"first": "", "middle": "", "last": "", "full": ""}
    for name in element.findall("name"):
        part = _attr(name, "part").lower() or "full"
        if part in names and not names[part]:
            names[part] = _text(name)
    address = _child(element, "address")
    return AdfContact(
        first_name=names["first"],
        middle_name=names["middle"],
        last_name=names["last"],
        full_name=names["full"],
        email=_child_text(element, "email").lower(),
        phones=[
            AdfPhone(
                number=_text(phone), type=_attr(phone, "type").lower() or "voice", time=_attr(phone, "time")
            )
            for phone in element.findall("phone")
            if _text(phone)
        ],
        address=None
        if address is None
        else AdfAddress(
            street=[_text(s) for s in address.findall("street") if _text(s)],
            apartment=_child_text(address, "apartment"),
            city=_child_text(address, "city"),
            region=_child_text(address, "regioncode"),
            postal_code=_child_text(address, "postalcode"),
            country=_child_text(address, "country"),
        ),
    )


def _primary_contact(customer: Element | None) -> Element | None:
    contacts = [] if customer is None else customer.findall("contact")
    return next((c for c in contacts if _attr(c, "primarycontact") == "1"), contacts[0] if contacts else None)


def _prospect(element: Element) -> AdfProspect:
    customer = _child(element, "customer")
    timeframe = _child(customer, "timeframe")
    vendor = _child(element, "vendor")
    provider = _child(element, "provider")
    return AdfProspect(
        request_date=_child_text(element, "requestdate"),
        ids=[(_attr(i, "source"), _text(i)) for i in element.findall("id")],
        vehicles=[_vehicle(v) for v in element.findall("vehicle")],
        contact=_contact(_primary_contact(customer)),
        comments=_child_text(customer, "comments"),
        timeframe=None
        if timeframe is None
        else AdfTimeframe(
            description=_child_text(timeframe, "description"),
            earliest_date=_child_text(timeframe, "earliestdate"),
            latest_date=_child_text(timeframe, "latestdate"),
        ),
        vendor=None
        if vendor is None
        else AdfVendor(
            name=_child_text(vendor, "vendorname"),
            url=_child_text(vendor, "url"),
            contact=_contact(_child(vendor, "contact")),
        ),
        provider=None
        if provider is None
        else AdfProvider(
            name=_child_text(provider, "name"),
            service=_child_text(provider, "service"),
            url=_child_text(provider, "url"),
            email=_child_text(provider, "email"),
            phone=_child_text(provider, "phone"),
            contact=_contact(_child(provider, "contact")),
        ),
    )


def parse_adf(text: str | bytes) -> AdfLead | None:
    """The ADF lead in this text (a whole mail body will do), or None when there is none or it
    cannot be read. Never raises; never expands an entity."""
    try:
        if isinstance(text, bytes | bytearray):
            text = decode_adf_bytes(bytes(text))
        if not isinstance(text, str) or len(text) > MAX_ADF_CHARS:
            return None
        if ENTITY_DECLARATION.search(text):
            return None  # entity declarations: refused, never expanded (billion laughs)
        document = clean_adf(text)
        if document is None:
            return None
        try:
            root = SafeET.fromstring(document, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except Exception:  # noqa: BLE001 - defusedxml refusals and parse errors alike
            root = _lenient_tree(document)
        if root is None:
            return None
        root = _lower_tags(root)
        if root.tag != "adf":
            return None
        prospects = [_prospect(p) for p in root.iter("prospect")]
        return AdfLead(prospects=prospects) if prospects else None
    except Exception:  # noqa: BLE001 - unreadable is "no ADF", never a crash
        return None
