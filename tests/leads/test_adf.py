from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.mail.adf import parse_adf
from leads.mail.parsing import parse_message
from tests import factories
from tests.leads.mail_checks import assert_storable

SPEC_ADF = """<?xml version="1.0" encoding="UTF-8"?>
<?adf version="1.0"?>
<adf>
 <prospect status="new">
  <id sequence="1" source="Cars.com">CC-1001</id>
  <requestdate>2026-11-30T09:30:00-05:00</requestdate>
  <vehicle interest="buy" status="new">
   <year>2026</year><make>Toyota</make><model>RAV4</model><trim>XLE Hybrid</trim>
   <vin>2T3RWRFV0SW000001</vin><stock>N2601</stock>
   <odometer status="original" units="km">12</odometer>
   <price type="quote" currency="CAD">41,250.50</price>
   <comments>Blue if possible</comments>
  </vehicle>
  <vehicle interest="trade-in" status="used">
   <year>2018</year><make>Mazda</make><model>CX-5</model><odometer units="mi">50000</odometer>
  </vehicle>
  <customer>
   <contact primarycontact="1">
    <name part="first">Mary</name><name part="middle">Ann</name><name part="last">O'Brien</name>
    <email>Mary.OBrien@Example.com</email>
    <phone type="voice" time="morning">416-555-0111</phone>
    <phone type="cellphone">647-555-0199</phone>
    <address type="home"><street line="1">1 Main St</street><street line="2">Unit 4</street>
     <city>Toronto</city><regioncode>ON</regioncode><postalcode>M5V 1A1</postalcode><country>CA</country></address>
   </contact>
   <timeframe><description>This month</description><earliestdate>2026-12-01</earliestdate></timeframe>
   <comments>What is my trade worth?</comments>
  </customer>
  <vendor><vendorname>Maple Motors</vendorname><contact><name part="full">Internet Desk</name></contact></vendor>
  <provider><name part="full">Cars.com</name><service>New car leads</service><url>https://www.cars.com</url></provider>
 </prospect>
</adf>"""


def test_every_part_of_a_spec_document_is_read():
    lead = parse_adf(SPEC_ADF)
    [prospect] = lead.prospects
    assert prospect.ids == [("Cars.com", "CC-1001")]
    assert prospect.request_date == "2026-11-30T09:30:00-05:00"
    wanted, trade = prospect.vehicles
    assert (wanted.interest, wanted.status, wanted.year, wanted.make, wanted.model, wanted.trim) == (
        "buy", "new", 2026, "Toyota", "RAV4", "XLE Hybrid",
    )  # fmt: skip
    assert (wanted.vin, wanted.stock, wanted.odometer, wanted.odometer_units) == (
        "2T3RWRFV0SW000001",
        "N2601",
        12,
        "km",
    )
    assert (wanted.price, wanted.price_currency, wanted.comments) == (
        Decimal("41250.50"),
        "CAD",
        "Blue if possible",
    )
    assert (trade.interest, trade.status, trade.year, trade.odometer, trade.odometer_units) == (
        "trade-in", "used", 2018, 50000, "mi",
    )  # fmt: skip
    contact = prospect.contact
    assert (contact.first_name, contact.middle_name, contact.last_name) == ("Mary", "Ann", "O'Brien")
    assert contact.name == "Mary Ann O'Brien" and contact.email == "mary.obrien@example.com"
    assert [(p.number, p.type, p.time) for p in contact.phones] == [
        ("416-555-0111", "voice", "morning"),
        ("647-555-0199", "cellphone", ""),
    ]
    assert contact.address.street == ["1 Main St", "Unit 4"]
    assert (contact.address.city, contact.address.region, contact.address.postal_code) == (
        "Toronto",
        "ON",
        "M5V 1A1",
    )
    assert prospect.comments == "What is my trade worth?"
    assert prospect.timeframe.description == "This month" and prospect.timeframe.earliest_date == "2026-12-01"
    assert prospect.vendor.name == "Maple Motors" and prospect.vendor.contact.full_name == "Internet Desk"
    assert (prospect.provider.name, prospect.provider.service, prospect.provider.url) == (
        "Cars.com", "New car leads", "https://www.cars.com",
    )  # fmt: skip
    assert lead.source == "Cars.com"


def test_several_prospects_are_all_kept():
    document = (
        "<adf>"
        + "".join(
            f'<prospect><id source="S{n}">{n}</id><vehicle><make>M{n}</make></vehicle></prospect>'
            for n in range(3)
        )
        + "</adf>"
    )
    lead = parse_adf(document)
    assert [p.ids[0][1] for p in lead.prospects] == ["0", "1", "2"]
    assert [v.make for v in lead.vehicles] == ["M0", "M1", "M2"]


def test_sloppy_autotrader_document_is_read():
    """Unquoted attributes, <?ADF VERSION "1.0"?>, a wrong encoding declaration, HTML entities."""
    lead = parse_adf(factories.sample_mail("autotrader_adf.eml").partition(b"\n\n")[2])
    [prospect] = lead.prospects
    assert prospect.ids == [("AutoTrader.ca", "AT-998")]
    assert [(v.interest, v.year, v.make, v.model) for v in prospect.vehicles] == [
        ("buy", 2022, "Ford", "F-150"),
        ("trade-in", 2015, "Honda", "Civic"),
    ]
    assert prospect.vehicles[0].price == Decimal("42995.00")
    assert prospect.vehicles[0].odometer == 45000
    assert prospect.contact.phones[0].type == "cell"  # outside the spec, kept as written
    assert prospect.comments == "Is it still available? Best price & trade value? Café ok"
    assert lead.source == "AutoTrader.ca"


@pytest.mark.parametrize(
    ("written", "price"),
    [
        ("24 995 $ + 599 $ de transport", Decimal("24995")),
        ("$32,995 + $1,899 freight", Decimal("32995")),
        ("24\u202f995,50 $ + 599 $ de transport", Decimal("24995.50")),
    ],
)
def test_a_price_with_fees_written_after_it_is_the_vehicles_price(written, price):
    lead = parse_adf(
        "<adf><prospect><vehicle><year>2024</year><make>Toyota</make><model>Corolla</model>"
        f"<price type='asking' currency='CAD'>{written}</price></vehicle></prospect></adf>"
    )
    [vehicle] = lead.vehicles
    assert vehicle.price == price


def test_the_primary_contact_is_the_customer():
    lead = parse_adf(
        "<adf><prospect><customer><contact><name part='full'>Assistant</name></contact>"
        "<contact primarycontact='1'><name part='full'>Buyer</name></contact></customer></prospect></adf>"
    )
    assert lead.contact.full_name == "Buyer"


def test_source_falls_back_to_the_id_source_without_a_provider():
    lead = parse_adf('<adf><prospect><id source="Kijiji">9</id></prospect></adf>')
    assert lead.source == "Kijiji"


def test_uppercase_tags_latin1_bytes_and_a_lying_declaration():
    document = (
        '<?xml version="1.0" encoding="UTF-16"?><ADF><PROSPECT><VEHICLE INTEREST="Test Drive" STATUS="Pre-Owned">'
        '<YEAR>MY 2024</YEAR><MAKE>Kia</MAKE></VEHICLE><CUSTOMER><CONTACT><NAME PART="full">Ren\xe9e C\xf4t\xe9</NAME>'
        "</CONTACT></CUSTOMER></PROSPECT></ADF>"
    ).encode("latin-1")
    lead = parse_adf(document)
    vehicle = lead.vehicles[0]
    assert (vehicle.interest, vehicle.status, vehicle.year, vehicle.make) == (
        "test-drive",
        "used",
        2024,
        "Kia",
    )
    assert lead.contact.full_name == "Renée Côté"


def test_a_namespace_prefix_on_every_tag_is_read_as_plain_adf():
    document = (
        '<?xml version="1.0"?><adf:adf xmlns:adf="urn:adf"><adf:prospect><adf:vehicle adf:interest="buy">'
        "<adf:year>2025</adf:year><adf:make>Honda</adf:make><adf:model>CR-V</adf:model></adf:vehicle>"
        '<adf:customer><adf:contact><adf:name adf:part="first">Léa</adf:name><adf:name part="last">Roy</adf:name>'
        "<adf:email>lea@example.com</adf:email></adf:contact></adf:customer></adf:prospect></adf:adf>"
    )
    for text in (document, "<p>" + document.replace("<", "&lt;").replace(">", "&gt;") + "</p>"):
        lead = parse_adf(text)
        assert (lead.vehicles[0].interest, lead.vehicles[0].make, lead.vehicles[0].model) == (
            "buy",
            "Honda",
            "CR-V",
        )
        assert (lead.contact.first_name, lead.contact.last_name, lead.contact.email) == (
            "Léa",
            "Roy",
            "lea@example.com",
        )


def test_html_escaped_adf_in_a_body_is_found():
    parsed = parse_message(factories.sample_mail("carscom_html_adf.eml"))
    lead = parse_adf(parsed.html)
    assert lead.contact.full_name == "Emma Johnson"
    assert lead.vehicles[0].interest == "test-drive"


def test_html_page_with_a_doctype_around_escaped_adf_is_read():
    page = (
        "<!DOCTYPE html><html><body><pre>&lt;adf&gt;&lt;prospect&gt;&lt;customer&gt;&lt;contact&gt;"
        "&lt;email&gt;kim@example.com&lt;/email&gt;&lt;/contact&gt;&lt;/customer&gt;&lt;/prospect&gt;&lt;/adf&gt;"
        "</pre></body></html>"
    )
    assert parse_adf(page).contact.email == "kim@example.com"


def test_escaped_entity_declarations_are_refused_too():
    escaped = "&lt;!DOCTYPE a [&lt;!ENTITY x 'y'&gt;]&gt;&lt;adf&gt;&lt;prospect&gt;&amp;x;&lt;/prospect&gt;&lt;/adf&gt;"
    assert parse_adf(escaped) is None


def test_tag_soup_falls_back_to_the_lenient_reader():
    soup = (
        "<adf><prospect><customer><contact><name part=full>Sam Lee<email>sam@example.com</contact></customer>"
    )
    lead = parse_adf(soup)
    assert lead.contact.email == "sam@example.com"
    assert lead.contact.full_name.startswith("Sam Lee")


def test_text_without_adf_is_none():
    assert parse_adf("Hello, is the RAV4 available?") is None
    assert parse_adf(b"") is None
    assert parse_adf("<adf></adf>") is None  # no prospect: nothing to make a lead of


def test_entity_bomb_is_refused_quickly():
    bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    previous = "lol"
    for level in range(1, 10):
        bomb += f'<!ENTITY lol{level} "{("&" + previous + ";") * 10}">'
        previous = f"lol{level}"
    bomb += f"]><adf><prospect><customer><comments>&{previous};</comments></customer></prospect></adf>"
    # Refused before any parser sees it (bench/mail_triage.py measures how fast).
    assert parse_adf(bomb) is None
    assert parse_adf(bomb.encode()) is None


def test_external_entities_are_refused():
    xxe = '<!DOCTYPE adf [<!ENTITY x SYSTEM "file:///etc/passwd">]><adf><prospect><customer><comments>&x;</comments></customer></prospect></adf>'
    assert parse_adf(xxe) is None


def test_undeclared_entities_stay_literal_text():
    lead = parse_adf(
        "<adf><prospect><customer><comments>Tom &jerry; & co</comments></customer></prospect></adf>"
    )
    assert lead.comments == "Tom &jerry; & co"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=3000), st.binary(max_size=3000)))
def test_parse_adf_never_raises(value):
    assert_storable(parse_adf(value))


ADF_PIECES = st.sampled_from(
    ["<adf>", "</adf>", "<prospect>", "</prospect>", "<vehicle interest=buy>", "</vehicle>", "<year>", "</year>",
     "2026", "<customer>", "<contact>", "<name part='first'>", "</name>", "&amp;", "&", "<", ">", "<?ADF 1?>",
     "<!--", "-->", "<![CDATA[", "]]>", '"', "é", "\x00"]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ADF_PIECES, max_size=40))
def test_parse_adf_never_raises_on_near_adf_soup(pieces):
    assert_storable(parse_adf("".join(pieces)))


def test_mismatched_case_bare_attributes_stray_angle_brackets_and_cdata():
    document = (
        "<ADF><Prospect><Vehicle Interest=Buy Status=New><Year>2026</year><Make>Ford</MAKE>"
        "<Model>Bronco</model></Vehicle><Customer><Contact PrimaryContact><Name Part=Full>Zoé Roy</name>"
        "<Phone Type=Mobile>5145550123</phone></Contact>"
        "<Comments>Budget < 60k, want it > soon <![CDATA[& fast]]></Comments></Customer></Prospect></ADF>"
    )
    lead = parse_adf(document)
    vehicle = lead.vehicles[0]
    assert (vehicle.interest, vehicle.status, vehicle.year, vehicle.make, vehicle.model) == (
        "buy", "new", 2026, "Ford", "Bronco",
    )  # fmt: skip
    assert lead.contact.full_name == "Zoé Roy"
    assert lead.contact.phones[0].type == "mobile"
    assert lead.comments.startswith("Budget < 60k, want it > soon")


def test_cdata_in_well_formed_adf():
    lead = parse_adf(
        "<adf><prospect><customer><comments><![CDATA[Price <= $30k & AWD]]></comments></customer></prospect></adf>"
    )
    assert lead.comments == "Price <= $30k & AWD"
