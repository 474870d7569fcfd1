import hashlib
import html
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.mail.parsing import MAX_PARTS, parse_message, safe_filename
from tests import factories
from tests.leads.mail_checks import assert_storable


def test_plain_message_headers_and_text():
    raw = factories.mail(
        sender='"Tremblay, Jean" <Jean.Tremblay@Example.COM>',
        to="Internet <internet@maplemotors.example>, sales@maplemotors.example",
        subject="=?utf-8?q?Prix_du_v=C3=A9hicule?=",
        text="Bonjour,\nquel est votre meilleur prix?\n",
        headers={
            "Cc": "Spouse <spouse@example.com>",
            "Delivered-To": "leads@maplemotors.example",
            "X-Original-To": "internet+L5-abc@maplemotors.example",
            "In-Reply-To": "<out-1@maplemotors.example>",
            "References": "<first@maplemotors.example> <out-1@maplemotors.example>",
            "Auto-Submitted": "no",
        },
    )
    parsed = parse_message(raw)
    assert parsed.from_name == "Tremblay, Jean"
    assert parsed.from_address == "jean.tremblay@example.com"
    assert parsed.to == ["internet@maplemotors.example", "sales@maplemotors.example"]
    assert parsed.cc == ["spouse@example.com"]
    assert parsed.delivered_to == ["leads@maplemotors.example", "internet+l5-abc@maplemotors.example"]
    assert set(parsed.recipients) == {*parsed.to, *parsed.cc, *parsed.delivered_to}
    assert parsed.subject == "Prix du véhicule"
    assert parsed.text.strip() == "Bonjour,\nquel est votre meilleur prix?"
    assert parsed.in_reply_to == "<out-1@maplemotors.example>"
    assert parsed.references == ["<first@maplemotors.example>", "<out-1@maplemotors.example>"]
    assert parsed.date == datetime(2026, 11, 30, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert parsed.headers["auto-submitted"] == "no"
    assert parsed.message_id.startswith("<test-") and parsed.content_hash == hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize(
    ("sender", "name", "address"),
    [
        # An encoded display name that reads as an address never replaces the real one.
        (
            b"=?utf-8?q?victim=40example=2Ecom?= <attacker@evil.example>",
            "victim@example.com",
            "attacker@evil.example",
        ),
        # An encoded comma stays in the name: "Last, First".
        (
            b"=?utf-8?q?C=C3=B4t=C3=A9=2C_H=C3=A9l=C3=A8ne?= <h@example.ca>",
            "C\u00f4t\u00e9, H\u00e9l\u00e8ne",
            "h@example.ca",
        ),
    ],
)
def test_the_sender_address_is_taken_from_the_address_never_the_encoded_name(sender, name, address):
    raw = (
        b"From: " + sender + b"\r\nTo: internet@maplemotors.example\r\nSubject: Hi\r\n\r\nCancel my deal.\r\n"
    )
    parsed = parse_message(raw)
    assert (parsed.from_name, parsed.from_address) == (name, address)


def test_a_subject_folded_after_an_encoded_word_keeps_its_space():
    """As Gmail or Outlook fold a reply to the French acknowledgement's long subject."""
    raw = (
        b"From: Marie <marie@example.com>\r\nTo: internet@maplemotors.example\r\n"
        b"Subject: Re: Nous avons bien =?utf-8?q?re=C3=A7u_votre_demande_=E2=80=94?=\r\n Maple Motors\r\n"
        b"Message-ID: <fold@example.com>\r\n\r\nMerci!\r\n"
    )
    assert parse_message(raw).subject == "Re: Nous avons bien reçu votre demande — Maple Motors"


def test_html_nested_deeper_than_any_mail_is_shown_as_text_and_read_at_once():
    """Cleaning deeply nested HTML takes time growing with the square of the depth."""
    parsed = parse_message(factories.mail(text=None, html="<div><p>hi</p>" * 20_000))
    assert parsed.html == "" and parsed.text.startswith("hi")
    normal = parse_message(factories.mail(text=None, html="<div>" * 50 + "<p>Hello</p>" + "</div>" * 50))
    assert "Hello" in normal.html


def test_missing_message_id_and_from_get_a_stable_content_hash_id():
    raw = b"Subject: anonymous\r\n\r\nwho sent this?"
    first, second = parse_message(raw), parse_message(raw)
    digest = hashlib.sha256(raw).hexdigest()
    assert first.message_id == second.message_id == f"<{digest}@missing>"
    assert first.from_address == "" and first.from_name == ""
    assert first.text == "who sent this?"


def test_html_only_mail_is_converted_to_text_and_sanitised():
    html = (
        "<html><head><style>p{color:red}</style><script>steal()</script></head><body>"
        '<p onclick="steal()">I want the <b>RAV4</b>.</p><p>Call me at 416&nbsp;555&nbsp;0111</p>'
        '<a href="javascript:alert(1)">click</a> <a href="https://example.com/x">site</a>'
        '<img src="cid:logo@x" onerror="steal()"><iframe src="https://evil.example"></iframe>'
        '<svg><script>alert(2)</script></svg><form action="https://evil.example"><input></form>'
        "</body></html>"
    )
    parsed = parse_message(factories.mail(text=None, html=html))
    assert "I want the RAV4." in parsed.text and "Call me at 416 555 0111" in parsed.text
    assert "steal" not in parsed.text and "color:red" not in parsed.text
    lowered = parsed.html.lower()
    for dangerous in ("<script", "onclick", "onerror", "javascript:", "<iframe", "alert(", "<form", "<style"):
        assert dangerous not in lowered
    assert 'src="cid:logo@x"' in parsed.html  # kept for the viewer to rewrite
    assert 'href="https://example.com/x"' in parsed.html


@pytest.mark.parametrize(
    "attack",
    [
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href=" &#106;avascript:alert(1)">x</a>',
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)></svg>",
        "<body onload=alert(1)>",
        '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
        '<object data="javascript:alert(1)"></object>',
        "<scr<script>ipt>alert(1)</script>",
        '<div style="background:url(javascript:alert(1))">x</div>',
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
        '<form><button formaction="javascript:alert(1)">x</button></form>',
    ],
)
def test_no_script_event_handler_or_javascript_url_survives_sanitising(attack):
    cleaned = parse_message(factories.mail(text=None, html=f"<p>hello</p>{attack}")).html
    unescaped = html.unescape(cleaned).lower().replace("\t", "").replace(" ", "")
    assert "<script" not in unescaped
    assert "javascript:" not in unescaped and "data:text/html" not in unescaped
    assert not re.search(r"<[^>]*\son\w+\s*=", html.unescape(cleaned).lower())
    assert "<iframe" not in cleaned and "<object" not in cleaned and "<meta" not in cleaned
    assert "<p>hello</p>" in cleaned


def test_alternative_keeps_the_plain_text_and_the_html():
    parsed = parse_message(factories.mail(text="plain words", html="<p>html words</p>"))
    assert parsed.text.strip() == "plain words"
    assert "<p>html words</p>" in parsed.html


def test_quoted_english_reply_is_separated_from_new_text():
    text = (
        "Saturday at 10 works for me.\n\nThanks,\nPat\n\n"
        "On Mon, Nov 30, 2026 at 9:14 AM Maple Motors <internet@maplemotors.example> wrote:\n"
        "> Would you like to come in for a test drive?\n> Alex\n"
    )
    parsed = parse_message(factories.mail(text=text))
    assert parsed.new_text == "Saturday at 10 works for me.\n\nThanks,\nPat"
    assert "test drive" in parsed.text


def test_quoted_french_reply_and_signature_are_separated():
    text = (
        "Samedi à 10 h me convient.\n\n-- \nLéa Morin\n819 555-0166\n\n"
        "Le lun. 30 nov. 2026, à 09 h 14, Maple Motors <internet@maplemotors.example> a écrit :\n"
        "> Voulez-vous faire un essai routier?\n"
    )
    assert parse_message(factories.mail(text=text)).new_text == "Samedi à 10 h me convient."


def test_wrapped_attribution_and_outlook_blocks_are_quoted_text():
    wrapped = "Yes please.\n\nOn Mon, Nov 30, 2026 at 9:14 AM Maple Motors\n<internet@maplemotors.example> wrote:\nold"
    assert parse_message(factories.mail(text=wrapped)).new_text == "Yes please."
    outlook = (
        "Oui.\n\nDe : Maple Motors <internet@maplemotors.example>\nEnvoyé : 30 novembre 2026\nObjet : RAV4"
    )
    assert parse_message(factories.mail(text=outlook)).new_text == "Oui."
    mobile = "Sounds good\n\nSent from my iPhone"
    assert parse_message(factories.mail(text=mobile)).new_text == "Sounds good"


@pytest.mark.parametrize(
    "quote_header",
    [
        # Outlook for Mac and iOS: no Sent line.
        "De : Maple Motors <internet@maplemotors.example>\nDate : lundi 30 novembre 2026 à 10:00\n"
        "À : Léa Morin <lea@videotron.ca>\nObjet : Votre RAV4 2024",
        "From: Maple Motors <internet@maplemotors.example>\nDate: Monday, November 30, 2026 at 10:00 AM\n"
        "To: Lea Morin <lea@videotron.ca>\nSubject: Your RAV4 2024",
        # French Zimbra webmail, with its rule and without it.
        '----- Mail original -----\nDe: "Maple Motors" <internet@maplemotors.example>\n'
        'À: "Léa Morin" <lea@videotron.ca>\nEnvoyé: Lundi 30 Novembre 2026 10:00:00\nObjet: Votre RAV4 2024',
        'De: "Maple Motors" <internet@maplemotors.example>\nÀ: "Léa Morin" <lea@videotron.ca>\n'
        "Envoyé: Lundi 30 Novembre 2026 10:00:00\nObjet: Votre RAV4 2024",
    ],
)
def test_outlook_for_mac_and_zimbra_quote_headers_start_the_quoted_text(quote_header):
    text = f"Oui, samedi matin me convient.\n\nLéa\n\n{quote_header}\n\nBonjour Léa, le RAV4 est arrivé."
    assert parse_message(factories.mail(text=text)).new_text == "Oui, samedi matin me convient.\n\nLéa"
    # A customer's own line opening with "De :" is no header block: all of it is what they wrote.
    own = "Bonjour,\nDe : mon côté, samedi me convient.\nDate : à confirmer avec Marc.\n\nLéa"
    assert parse_message(factories.mail(text=own)).new_text == own


def test_a_customers_own_from_to_date_lines_are_not_a_quote_header():
    """No address on the "De :" line: the customer's availability, not Outlook for Mac's or Zimbra's header."""
    own = (
        "Bonjour, je voudrais faire un essai routier du RAV4 2024. Mes disponibilités :\n"
        "De : 9 h\nÀ : 17 h\nDate : samedi 5 décembre\nMon cellulaire : 514 555-0177. Merci!"
    )
    assert parse_message(factories.mail(text=own)).new_text == own


def test_a_reply_written_below_the_quote_keeps_what_was_written():
    bottom = "On Mon, Nov 30, 2026 Maple Motors wrote:\n> Hello Pat,\n> Maple Motors\n\nGreat, can I come Saturday?"
    assert parse_message(factories.mail(text=bottom)).new_text == "Great, can I come Saturday?"


def test_attachments_are_kept_with_safe_names_and_content_ids():
    raw = factories.mail(
        text="see attached",
        attachments=[
            ("../../etc/passwd", "text/plain", b"root:x"),
            ("photo\x07\u202e.jpg", "image/jpeg", b"\xff\xd8\xff"),
            ("x" * 300 + ".pdf", "application/pdf", b"%PDF"),
        ],
    )
    parsed = parse_message(raw)
    names = [a.filename for a in parsed.attachments]
    assert names[0] == "passwd"
    assert names[1] == "photo.jpg"
    assert len(names[2]) <= 120 and names[2].endswith(".pdf")
    assert parsed.attachments[0].data == b"root:x"
    assert parsed.text.strip() == "see attached"


def test_inline_image_keeps_its_content_id():
    raw = (
        b'Content-Type: multipart/related; boundary="R"\r\n\r\n--R\r\nContent-Type: text/html\r\n\r\n'
        b'<img src="cid:car@1">\r\n--R\r\nContent-Type: image/png\r\nContent-ID: <car@1>\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--R--\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.attachments[0].content_id == "car@1"
    assert parsed.attachments[0].data.startswith(b"\x89PNG")
    assert 'src="cid:car@1"' in parsed.html


def test_oversized_attachment_is_recorded_without_its_data(settings):
    settings.MAIL_ATTACHMENT_MAX_BYTES = 1000
    parsed = parse_message(
        factories.mail(
            attachments=[
                ("big.bin", "application/octet-stream", b"A" * 5000),
                ("ok.txt", "text/plain", b"ok"),
            ]
        )
    )
    big, ok = parsed.attachments
    assert (big.filename, big.data, big.size, big.oversized) == ("big.bin", b"", 5000, True)
    assert (ok.data, ok.oversized) == (b"ok", False)


def test_safe_filename_fallback_uses_the_type():
    assert safe_filename("", "application/pdf") == "attachment.pdf"
    assert safe_filename("....", "image/png") == "attachment.png"
    assert safe_filename("C:\\Users\\me\\lead.xml") == "lead.xml"


# --- the malformed corpus -----------------------------------------------------------------------


def test_unknown_charset_falls_back_without_crashing():
    raw = (
        b"Subject: =?x-klingon?q?Qapla=E9?=\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\ncaf\xc3\xa9"
    )
    parsed = parse_message(raw)
    assert parsed.text == "café"
    assert parsed.subject.startswith("Qapla")


def test_lying_charsets_are_read_as_what_they_really_are():
    ascii_claim = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nd\xc3\xa9j\xc3\xa0 vu"
    assert parse_message(ascii_claim).text == "déjà vu"
    utf8_claim = b"Content-Type: text/plain; charset=utf-8\r\n\r\nd\xe9j\xe0 vu"
    assert parse_message(utf8_claim).text == "déjà vu"
    not_a_text_codec = b"Content-Type: text/plain; charset=rot13\r\n\r\nhello"
    assert parse_message(not_a_text_codec).text == "hello"


def test_windows_1252_declared_as_iso_8859_1_reads_as_written_and_no_byte_is_lost():
    raw = (
        b"From: =?iso-8859-1?Q?Fran=E7ois_O=92Neil?= <fo@example.ca>\r\n"
        b"Subject: =?iso-8859-1?Q?Essai_routier_=96_l=92Accord_2024?=\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\n"
        b"Bonjour, j\x92aimerais essayer l\x92Accord 2024 affich\xe9 \xe0 32 995 \x80."
    )
    parsed = parse_message(raw)
    assert parsed.from_name == "François O’Neil"
    assert parsed.subject == "Essai routier – l’Accord 2024"
    assert parsed.text == "Bonjour, j’aimerais essayer l’Accord 2024 affiché à 32 995 €."
    # The five bytes Windows-1252 leaves undefined are read as Latin-1 does, the rest as Windows-1252.
    undefined = b"Content-Type: text/plain; charset=latin-1\r\n\r\nR\x81\x8d\x8f\x90\x9d\x92s"
    assert parse_message(undefined).text == "R\x81\x8d\x8f\x90\x9d’s"


def test_nul_bytes_never_reach_the_fields():
    raw = b"From: Pat <pat@exa\x00mple.com>\r\nSubject: hi\x00 there\r\n\r\nbody\x00 text\x00"
    parsed = parse_message(raw)
    assert parsed.subject == "hi there" and parsed.text == "body text"
    assert_storable(parsed)


def test_broken_mime_still_yields_the_text():
    no_boundary = b"Content-Type: multipart/mixed\r\n\r\nplease call me"
    assert parse_message(no_boundary).text == "please call me"
    unclosed = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhalf a message'
    assert "half a message" in parse_message(unclosed).text
    bad_base64 = b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64==="
    assert parse_message(bad_base64).text == "!!!not base64==="  # kept as it came
    garbage_headers = b"Content-Type: ;;;==\r\nDate: yesterday-ish\r\nFrom: <<<@@@>>>\r\n\r\nbody"
    parsed = parse_message(garbage_headers)
    assert parsed.date is None and parsed.text == "body"


def test_huge_headers_are_capped():
    huge_subject = b"Subject: " + b"x" * 2_000_000 + b"\r\n"
    many_to = b"To: " + b", ".join(b"u%d@example.com" % i for i in range(50_000)) + b"\r\n"
    parsed = parse_message(huge_subject + many_to + b"\r\nbody")
    assert len(parsed.subject) <= 998
    assert 0 < len(parsed.to) <= 200
    assert parsed.text == "body"


def test_deep_nesting_is_capped_not_a_crash():
    depth = 2000
    raw = b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
    for level in range(depth):
        raw += b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (level, level + 1)
    raw += b"--b%d\r\nContent-Type: text/plain\r\n\r\nburied\r\n" % depth
    assert "buried" not in parse_message(raw).text  # read no deeper than the cap
    shallow = b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
    for level in range(5):
        shallow += b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (level, level + 1)
    shallow += b"--b5\r\nContent-Type: text/plain\r\n\r\nfound\r\n"
    assert "found" in parse_message(shallow).text


def test_date_without_zone_is_made_aware():
    parsed = parse_message(b"Date: Mon, 30 Nov 2026 10:00:00 -0000\r\n\r\nx")
    assert parsed.date == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_delivery_status_report_is_read():
    parsed = parse_message(factories.sample_mail("dsn_bounce.eml"))
    assert parsed.is_bounce_report
    [status] = parsed.delivery_status
    assert (status.recipient, status.action, status.status) == ("gone@example.com", "failed", "5.1.1")
    assert "<lead12.0123abcd@maplemotors.example>" in parsed.returned_message_ids


# --- properties -----------------------------------------------------------------------------------


def test_raw_8bit_headers_and_surrogate_producing_charsets_are_decoded():
    raw = (
        b"Subject: Caf\xc3\xa9 =?utf-8?q?=C3=A9t=C3=A9?=\r\nFrom: J\xc3\xa9r\xc3\xb4me <j@example.com>\r\n"
        b"Content-Type: text/plain; charset=unicode_escape\r\n\r\nbody \\ud800"
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Café été" and parsed.from_name == "Jérôme"
    assert_storable(parsed)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_parse_message_never_raises_on_arbitrary_bytes(raw):
    parsed = parse_message(raw)
    assert parsed.content_hash == hashlib.sha256(raw).hexdigest()
    assert parsed.message_id
    assert_storable(parsed)


HEADER_NAMES = st.sampled_from(
    ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Content-Type",
     "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted", "Delivered-To", "X-Weird"]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(st.tuples(HEADER_NAMES, st.text(max_size=200)), max_size=12),
    body=st.text(max_size=2000),
)
def test_parse_message_never_raises_on_arbitrary_header_and_body_text(headers, body):
    raw = "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n" + body
    assert_storable(parse_message(raw.encode("utf-8", "surrogatepass")))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header_bytes=st.lists(st.tuples(HEADER_NAMES, st.binary(max_size=120)), max_size=10),
    charset=st.sampled_from(
        ["utf-8", "us-ascii", "latin-1", "x-unknown", "unicode_escape", "utf-16", "rot13", ""]
    ),
    body=st.binary(max_size=1500),
)
def test_parse_message_output_is_always_storable(header_bytes, charset, body):
    raw = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in header_bytes)
    raw += f"Content-Type: text/plain; charset={charset}\r\n\r\n".encode() + body
    assert_storable(parse_message(raw))


def test_html_only_reply_keeps_only_the_new_words():
    html = (
        '<div dir="ltr">Saturday is perfect.</div><br><div class="gmail_quote"><div dir="ltr">'
        "On Mon, Nov 30, 2026 at 9:14 AM Maple Motors &lt;internet@maplemotors.example&gt; wrote:<br></div>"
        "<blockquote>Would you like a test drive?</blockquote></div>"
    )
    parsed = parse_message(factories.mail(text=None, html=html))
    assert parsed.new_text == "Saturday is perfect."
    assert "Would you like a test drive?" in parsed.text


def test_a_flood_of_tiny_parts_is_read_in_bounded_work():
    parts = b"--a\r\nContent-Type: text/plain\r\n\r\nx\r\n" * 20_000
    raw = b"Subject: flood\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" + parts + b"--a--"
    parsed = parse_message(raw)
    assert parsed.subject == "flood"
    assert parsed.text.count("x") == MAX_PARTS - 1  # the container is a part too; the rest is not read
    assert_storable(parsed)
