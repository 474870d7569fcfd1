from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.mail.parsing import parse_message
from leads.mail.triage import detect_language, triage
from leads.models import RoutingRule
from leads.services.routing import routing_rule_create, routing_rules_ensure_defaults
from leads.threading import reply_address
from tests import factories
from tests.leads.mail_checks import assert_storable


def person(first: str, last: str, email: str, phone: str, extension: str | None = None) -> dict:
    return {
        "first_name": first,
        "last_name": last,
        "name": f"{first} {last}",
        "email": email,
        "phone": phone,
        "phone_extension": extension,
    }


def triaged(raw: bytes, rules=()):
    return triage(parse_message(raw), rules=rules)


def customer_mail(text: str, subject: str = "Question", **fields) -> bytes:
    return factories.mail(text=text, subject=subject, **fields)


# --- leads from providers -----------------------------------------------------------------------


def test_autotrader_adf_is_a_sales_lead_despite_its_bulk_headers():
    result = triaged(factories.sample_mail("autotrader_adf.eml"))
    assert (result.kind, result.department, result.rule, result.language) == ("lead", "sales", "adf", "en")
    assert result.contact == person("Jean", "Tremblay", "jean.tremblay@example.com", "+15145550199")
    assert result.source == "AutoTrader.ca"
    wanted, trade = result.vehicles
    # The ADF lead's first vehicle, with what the JSON of triage_mail leaves out (see test_triage_command).
    assert (wanted["interest"], wanted["vin"], wanted["stock"], wanted["odometer"]) == (
        "buy", "1FTFW1E50NFA00001", "U1234", 45000,
    )  # fmt: skip
    assert str(wanted["price"]) == "42995.00"
    assert (trade["interest"], trade["year"], trade["make"], trade["odometer"]) == (
        "trade-in",
        2015,
        "Honda",
        160934,
    )
    assert "Best price & trade value?" in result.comments
    assert result.acknowledge


def test_html_escaped_adf_from_cars_com_is_a_test_drive_lead():
    result = triaged(factories.sample_mail("carscom_html_adf.eml"))
    assert (result.kind, result.department, result.source) == ("lead", "sales", "Cars.com")
    assert result.contact["name"] == "Emma Johnson" and result.contact["phone"] == "+16475550133"
    assert result.inquiry_type == "test_drive"


def test_oem_adf_attachment_in_french_is_a_lease_lead():
    result = triaged(factories.sample_mail("oem_attachment.eml"))
    assert (result.kind, result.department, result.language, result.source) == (
        "lead",
        "sales",
        "fr",
        "Toyota.ca",
    )
    assert result.contact["first_name"] == "Renée" and result.contact["last_name"] == "Côté"
    assert result.vehicles[0]["interest"] == "lease" and result.vehicles[0]["model"] == "Corolla"
    assert result.inquiry_type == "financing"


def test_an_adf_lead_without_comments_is_in_its_subjects_and_customers_language_not_its_tags():
    french = factories.sample_mail("autohebdo_adf_no_comments.eml")
    english = (
        french.replace(b"Nouveau client potentiel AutoHebdo", b"New lead from AutoTrader.ca")
        .replace("Jean-François".encode(), b"John")
        .replace("Québec</city><regioncode>QC".encode(), b"Toronto</city><regioncode>ON")
    )
    assert (triaged(french).language, triaged(english).language) == ("fr", "en")


def test_unreadable_adf_still_becomes_a_lead_with_the_raw_text_as_comment():
    bomb = '<!DOCTYPE a [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><adf><prospect>&b;</prospect></adf>'
    result = triaged(customer_mail(bomb, sender="Leads <leads@provider.example>"))
    assert (result.kind, result.department, result.rule) == ("lead", "sales", "adf-unreadable")
    assert "<!ENTITY b" in result.comments  # the raw text, never expanded
    assert "aaaaaaaaaaaaaaaaaaaa" not in result.comments


# --- website forms -------------------------------------------------------------------------------


def test_english_contact_form_customer_is_the_person_in_the_form():
    form = (
        "You have a new website inquiry.\n\n"
        "Name: Noah Williams\nEmail: NOAH.W@example.com\nPhone: (647) 555-0133\n"
        "Vehicle: 2026 Hyundai Tucson Preferred\nStock #: H2611\nTrade-in: 2017 Nissan Rogue\n"
        "Message: Is this still available?\nWhat is your best price?\n\n"
        "--\nThis message was sent from www.maplemotors.example\n"
    )
    result = triaged(customer_mail(form, sender="Maple Motors Website <no-reply@maplemotors.example>"))
    assert (result.kind, result.department) == ("lead", "sales")
    assert result.rule.startswith("web-form")
    assert result.contact == person("Noah", "Williams", "noah.w@example.com", "+16475550133")
    assert result.source == "maplemotors.example"
    assert result.vehicles[0] == {
        "interest": "buy",
        "status": None,
        "year": 2026,
        "make": "Hyundai",
        "model": "Tucson",
        "trim": "Preferred",
        "vin": None,
        "stock": "H2611",
    }
    assert result.vehicles[1]["interest"] == "trade-in" and result.vehicles[1]["model"] == "Rogue"
    assert result.comments == "Is this still available?\nWhat is your best price?"
    assert result.inquiry_type == "price"  # the words ask for a price; the trade-in is a form field


def test_french_contact_form_with_a_source_field():
    result = triaged(factories.sample_mail("form_fr.eml"))
    assert (result.kind, result.department, result.language) == ("lead", "sales", "fr")
    assert result.contact["name"] == "Léa Morin" and result.contact["email"] == "lea.morin@example.com"
    assert result.contact["phone"] == "+18195550166"
    assert result.source == "maplemotors.example/fr/inventaire"
    assert result.vehicles[0]["make"] == "Honda" and result.vehicles[0]["year"] == 2025
    assert result.inquiry_type == "test_drive"


def test_customer_signature_with_labels_is_not_a_web_form():
    text = "Is the Tucson still for sale?\n\nName: Omar Haddad\nEmail: omar@example.com\nPhone: 416 555 0177"
    result = triaged(customer_mail(text, sender="Omar Haddad <omar@example.com>"))
    assert result.source is None and not result.rule.startswith("web-form")
    assert result.contact["email"] == "omar@example.com" and result.contact["phone"] == "+14165550177"


def test_form_asking_for_service_goes_to_service():
    form = "Nom : Luc Roy\nCourriel : luc@example.com\nMessage : Je voudrais un rendez-vous pour une vidange."
    result = triaged(customer_mail(form, sender="Formulaire <web@maplemotors.example>"))
    assert (result.kind, result.department) == ("forward", "service")
    assert result.contact["email"] == "luc@example.com"


@pytest.mark.parametrize(
    ("form", "department", "comments"),
    [
        (
            "Name: Tom Reid\nEmail: tom@example.com\nYear: 2018\nMake: Toyota\nModel: Corolla\n"
            "Comments: I need an oil change next Tuesday morning.",
            "service", "I need an oil change next Tuesday morning.",
        ),
        (
            "Name: Tom Reid\nEmail: tom@example.com\nVehicle: 2018 Mazda Mazda3 GS\n"
            "Comments: Price for a cabin air filter and wiper blades?",
            "parts", "Price for a cabin air filter and wiper blades?",
        ),
        (
            "Your Name: Tom Reid\nYour Email: tom@example.com\n"
            "Your Message: My brakes are grinding and the check engine light is on.",
            "service", "My brakes are grinding and the check engine light is on.",
        ),
        (
            "Name: Tom Reid\nEmail: tom@example.com\nVehicle: 2024 Toyota RAV4\nStock #: N2601\n"
            "Comments: Does it come with winter tires?",
            "sales", "Does it come with winter tires?",
        ),
    ],
)  # fmt: skip
def test_a_forms_vehicle_is_a_buyers_only_when_it_is_one_of_the_stock(form, department, comments):
    result = triaged(customer_mail(form, sender="Website <forms@maplemotors-site.example>"))
    assert (result.department, result.comments) == (department, comments)


# --- departments --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "department"),
    [
        ("I'd like to buy the 2026 RAV4 you have in stock. Does it come with a service plan?", "sales"),
        ("What would my monthly payments be on the Civic Sport if I lease it for 48 months?", "sales"),
        ("Can I book an oil change and a tire rotation next Tuesday?", "service"),
        ("My check engine light is on, can you look at it?", "service"),
        ("I received a recall notice for my airbag.", "service"),
        ("I'd like to order floor mats and a roof rack for my Tucson. Part number 12345?", "parts"),
        ("Could you send me the payoff amount for my loan?", "finance"),
        ("I'd like to fill out a credit application.", "finance"),
        ("My car was in a collision and I have an insurance claim. Can you fix the dent?", "body_shop"),
        ("J'aimerais acheter le RAV4 2026. Quel est votre meilleur prix?", "sales"),
        (
            "Je voudrais prendre rendez-vous pour une vidange d'huile et l'entretien de mon véhicule.",
            "service",
        ),
        ("Est-ce que vous pouvez installer mes pneus d'hiver?", "service"),
        ("Je voudrais commander des pièces et des accessoires pour mon Civic.", "parts"),
        ("Avez-vous des pièces pour ma Corolla 2019 : un filtre à huile et un filtre à air?", "parts"),
        ("Do you have an oil filter and wiper blades for a 2019 Civic?", "parts"),
        ("Can I book an oil change? You can use a new oil filter.", "service"),
        ("Je voudrais une vidange d'huile avec changement du filtre à huile.", "service"),
        ("Quel est le solde de mon prêt? Je voudrais faire le rachat de ma location.", "finance"),
        ("J'ai eu un accident, j'ai une réclamation d'assurance pour la carrosserie.", "body_shop"),
        ("Je voudrais faire un essai routier du Tucson et connaître les options de location.", "sales"),
        ("Je voudrais acheter le Civic, est-ce qu'il y a un plan d'entretien inclus?", "sales"),
        ("Hi, is the 2022 F-150 still available?", "sales"),
        ("I want to buy the RAV4. Does it have new tires?", "sales"),
        ("I'm interested in winter tires, what's the price?", "service"),
        ("Can you give me a quote for replacing my bumper?", "body_shop"),
        ("What is the payoff amount on my lease?", "finance"),
        ("Do you have this part in stock?", "parts"),
        ("Is a service appointment available Tuesday?", "service"),
        ("Combien pour une soumission de carrosserie?", "body_shop"),
        # A buyer's question about a listed vehicle, whatever else it mentions.
        (
            "Le Tucson Preferred 2023 est-il encore disponible? Est-ce qu'il vient avec des pneus d'hiver?",
            "sales",
        ),
        ("Is the 2021 Elantra still under warranty and have the brakes and tires been replaced?", "sales"),
        ("The 2019 Camry SE listed at $21,995: has it ever been in an accident? Carfax?", "sales"),
        ("Do you offer financing on the 2024 Civic Sport?", "sales"),
        ("Quelle est l'autonomie de la batterie du Ioniq 5? L'avez-vous en inventaire?", "sales"),
        ("Petit rappel : j'attends toujours votre prix pour le Tucson.", "sales"),
        ("Les Civic 2024 sont encore en solde? Quel serait le prix?", "sales"),
        ("Vous trouverez en pièce jointe la photo du Tucson que j'ai vu. L'avez-vous?", "sales"),
        ("I have bad credit. Could I be approved for a used SUV around $20k?", "sales"),
        # …and a customer's own car, or parts bought over the counter, stay where they belong.
        ("My 2018 Corolla needs new brakes, can I book it in?", "service"),
        ("I'd like to buy all-weather floor mats for my 2021 Civic.", "parts"),
        ("Je voudrais acheter des tapis d'hiver et des balais d'essuie-glace pour ma Corolla.", "parts"),
        ("I want to buy the RAV4 you have. Does it come with floor mats?", "sales"),
        (
            "Suite à notre échange téléphonique, je confirme mon rendez-vous pour un changement d'huile.",
            "service",
        ),
    ],
)
def test_department_from_the_words(text, department):
    result = triaged(customer_mail(text))
    assert result.department == department
    assert result.kind == ("lead" if department == "sales" else "forward")


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("Test drive this weekend?", "Hi there,\n\nI'd like to test drive a new Camry hybrid this weekend. My 2018 "
         "Camry just had its 120,000 km service with you last month (brakes and tires done too) and I'm thinking "
         "it's time to move on.\n\nPriya\n416-555-0109"),
        ("Nouveau RAV4 hybride", "Bonjour,\n\nJ'aimerais venir essayer le nouveau RAV4 hybride samedi. Mon Corolla "
         "2019 a eu son entretien chez vous le mois passé (changement d'huile et pneus d'hiver) et je pense la "
         "changer au printemps.\n\nMerci,\nNathalie Roy\n450 555-0181"),
        ("Tacoma", "Hey, I'd like to test drive a new Tacoma. My 2016 Tacoma needs brakes and tires and the check "
         "engine light is on again, so I'm ready to move on.\n\nDave\n289-555-0126"),
        ("Looking for a replacement vehicle", "Hi,\n\nMy 2019 Civic was written off after an accident last week and "
         "the insurance is paying out. I need a replacement, ideally a Corolla or a Civic, around $25k. What do you "
         "have right now?\n\nEmily Clarke\n647-555-0185"),
        ("Recherche d'un VUS", "Bonjour,\n\nMon auto a été déclarée perte totale suite à un accident et l'assurance "
         "va me rembourser. Je cherche un VUS d'occasion autour de 25 000 $, idéalement un RAV4 ou un CR-V. "
         "Qu'est-ce que vous avez en ce moment?\n\nValérie Bouchard\n514 555-0124"),
        ("Financing rates on a new RAV4", "Hi, what financing rate can I get on a new RAV4 Hybrid XLE? My credit is "
         "good, thinking 60 months with $5,000 down.\n\nJordan\n416-555-0172"),
        ("Taux de financement Corolla neuve", "Bonjour, quel taux de financement offrez-vous présentement sur une "
         "Corolla LE neuve? Mon crédit est bon. Je pensais à 72 mois.\n\nKarine Dion\n819 555-0147"),
        ("Achetez-vous des autos?", "Bonjour, je voudrais vendre mon Civic 2018, 95 000 km, jamais accidenté, pneus "
         "d'hiver sur jantes inclus. Combien m'offrez-vous?\n\nGuy Lemieux\n450 555-0161"),
    ],
)  # fmt: skip
def test_a_sales_inquiry_that_mentions_the_customers_own_car_stays_a_sales_lead(subject, text):
    """Driving or selling a vehicle, a new one's financing, the next car after a write-off: the service,
    the tires, the accident and the loan are said in passing."""
    result = triaged(customer_mail(text, subject=subject))
    assert (result.kind, result.department, result.acknowledge) == ("lead", "sales", True)


@pytest.mark.parametrize(
    ("subject", "text", "department"),
    [
        ("Report de paiement", "Bonjour,\n\nJ'ai perdu mon emploi la semaine passée. Est-ce possible de reporter mon "
         "paiement de décembre sur mon RAV4?\n\nSophie Morin\n514 555-0114", "finance"),
        ("My interest rate", "Hi, I bought my Camry from you in 2024 and I can't remember what interest rate I'm "
         "paying. Can you check and tell me if I can pay it off early without penalty?\n\nPaul Grant\n905-555-0133",
         "finance"),
        ("Climatisation", "Bonjour, la climatisation de ma Corolla 2020 ne fonctionne plus, ça souffle de l'air chaud. "
         "Quand pourriez-vous la vérifier?\n\nMartine\n450 555-0192", "service"),
        ("Car won't start", "Hi, my 2019 RAV4 won't start this morning, it just clicks. Can you tow it in and take a "
         "look today?\n\nAhmed\n416-555-0145", "service"),
        ("Égratignure sur la portière", "Bonjour, quelqu'un a égratigné la portière de mon Highlander dans un "
         "stationnement. Pouvez-vous me donner une estimation pour la réparer?\n\nJulie Caron\n418 555-0121",
         "body_shop"),
        ("Gas cap", "Hey, I lost the gas cap for my 2017 Corolla. Do you have an OEM one at the counter? How much?"
         "\n\nChris\n403-555-0108", "parts"),
        ("Do you have these in stock?", "Hi, looking for PT908-42200 all-weather floor liners and a cargo tray for a "
         "2022 Corolla hatchback. How much and can I pick them up this week?\n\nJason\n647-555-0115", "parts"),
        ("Price check", "Hi, can you give me a price on part number 04465-02220 (front brake pads) for a 2018 Corolla? "
         "I'll install them myself.\n\nMark\n905-555-0111", "parts"),
        # A buyer's questions about a vehicle's features stay with the sales desk.
        ("2024 Tacoma", "Does the 2024 Tacoma have a tow package? Call me at 514-555-0199.", "sales"),
    ],
)  # fmt: skip
def test_department_mail_in_everyday_words_reaches_its_department(subject, text, department):
    result = triaged(customer_mail(text, subject=subject))
    assert (result.department, result.acknowledge) == (department, department == "sales")


@pytest.mark.parametrize(
    ("subject", "text", "department"),
    [
        ("Winter tires", "Hi, do you sell winter tires with wheels? Price for a set of 4 on rims for my 2021 RAV4?"
         "\n\nKevin\n416-555-0131", "parts"),
        ("Pneus d'hiver", "Bonjour, avez-vous des pneus d'hiver avec jantes pour ma Corolla 2020? Quel est le prix "
         "pour un ensemble de 4 pneus sur jantes?\n\nSylvie\n450 555-0138", "parts"),
        ("Tire swap", "Hi, can I book my winter tire swap for next week? They're already on rims.\n\nKevin",
         "service"),
        ("Installation", "Can you install my winter tires and wheels on my 2021 RAV4 Saturday?", "service"),
        ("Pneus d'hiver", "Bonjour, je voudrais un rendez-vous pour poser mes pneus d'hiver sur jantes.\n\nSylvie",
         "service"),
    ],
)  # fmt: skip
def test_tires_bought_on_their_wheels_go_to_parts_and_fitting_tires_stays_with_service(
    subject, text, department
):
    result = triaged(customer_mail(text, subject=subject))
    assert (result.kind, result.department, result.acknowledge) == ("forward", department, False)


@pytest.mark.parametrize(
    ("subject", "text", "kind", "department"),
    [
        ("Battery", "Hi, I need to buy a new battery for my 2019 Civic, it won't start in the cold.", "forward",
         "service"),
        ("Winter tires", "Hi, I want to buy 4 winter tires on rims for my 2022 CR-V. How much?", "forward", "parts"),
        ("Pneus d'hiver", "Bonjour, je voudrais acheter des pneus d'hiver avec jantes pour mon CR-V 2022. Combien?",
         "forward", "parts"),
        ("Remote starter", "I'd like to buy a remote starter for my 2019 Civic. Can your mechanic put it in?",
         "forward", "service"),
        # Buying a vehicle stays a sales lead, whatever it comes with or replaces.
        ("RAV4", "I want to buy a 2024 RAV4", "lead", "sales"),
        ("CR-V", "Bonjour, je veux acheter un CR-V", "lead", "sales"),
        ("RAV4", "I want to buy a RAV4 with winter tires on rims. What is your best price?", "lead", "sales"),
        ("RAV4", "I'd like to buy a 2026 RAV4 for my 2019 Corolla. It needs new brakes anyway.", "lead", "sales"),
    ],
)  # fmt: skip
def test_buying_something_for_the_customers_own_car_goes_to_that_department_not_to_sales(
    subject, text, kind, department
):
    result = triaged(customer_mail(text, subject=subject))
    assert (result.kind, result.department, result.acknowledge) == (kind, department, kind == "lead")


@pytest.mark.parametrize(
    "text",
    [
        "I want to buy the RAV4 if the brakes are new.",
        "Je veux acheter le RAV4 si les pneus sont neufs.",
        "Hi I want to buy your red Mazda3 winter tires included?",
        "I'd buy the car when the brakes are done.",
        "Je veux acheter la Civic quand les freins seront faits.",
        "I want to buy the Civic if the battery is new.",
    ],
)
def test_buying_a_vehicle_with_its_tires_or_brakes_in_view_stays_a_sales_lead(text):
    """A vehicle or a condition between the purchase verb and the part word: the vehicle is bought."""
    result = triaged(customer_mail(text))
    assert (result.kind, result.department, result.acknowledge) == ("lead", "sales", True)


@pytest.mark.parametrize(
    ("text", "department"),
    [
        (
            "My car was in an accident. The insurance wants your body shop's estimate for the bumper.",
            "body_shop",
        ),
        ("What interest rate is on my loan? I'd like to pay it off early.", "finance"),
        ("Can you send my credit application status? I financed a new Corolla last year.", "finance"),
    ],
)
def test_the_customers_own_car_still_goes_to_its_department(text, department):
    assert triaged(customer_mail(text)).department == department


@pytest.mark.parametrize(
    ("text", "department"),
    [
        (
            "My lease on the 2022 RAV4 ends in March. What are my options for a new one?",
            "sales",
        ),
        (
            "Bonjour, ma location se termine en avril. J'aimerais voir les options pour un nouveau "
            "véhicule, peut-être un Tucson 2026.",
            "sales",
        ),
        ("My lease ends next month. I want to renew my lease with another RAV4.", "sales"),
        ("My lease ends next month and I want to buy out my car. What is the buyout amount?", "finance"),
        ("C'est la fin de ma location : je voudrais faire le rachat de mon véhicule.", "finance"),
    ],
)
def test_a_lease_that_ends_is_sales_when_the_customer_wants_the_next_vehicle(text, department):
    assert triaged(customer_mail(text)).department == department


@pytest.mark.parametrize(
    "text",
    [
        "Hello, what time are you open on Saturday? I'd like to come see the new Civic.\n\nRegards,\n"
        "Sarah Klein\nClaims adjuster | Intact Insurance\nAuto insurance claims and collision repairs\n"
        "T 514-555-0199",
        "Bonjour, êtes-vous ouverts samedi? J'aimerais voir le nouveau Civic.\n\nCordialement,\n"
        "Sarah Klein\nExperte en sinistres | Intact Assurance\nRéclamations d'assurance et carrosserie",
    ],
)
def test_the_writers_job_in_their_signature_does_not_choose_the_department(text):
    result = triaged(customer_mail(text))
    assert (result.kind, result.department) == ("lead", "sales")
    assert result.contact["phone"] == ("+15145550199" if "T 514" in text else None)


def test_a_signature_under_a_closing_line_is_set_aside_also_with_crlf_line_endings():
    """Mail fetched over IMAP ends its lines with CRLF: the adjuster's title still says nothing."""
    text = (
        "Hello, I'd like a quote on a new 2026 Camry XSE in white. Can you send me your best price?\n\n"
        "Thanks,\nJohn Miller\nSenior Adjuster, Collision Claims\nIntact Insurance | 416-555-0177\n"
    )
    raw = customer_mail(text, subject="Camry XSE quote").replace(b"\n", b"\r\n")
    result = triaged(raw)
    assert (result.kind, result.department, result.acknowledge) == ("lead", "sales", True)
    assert "\r" not in result.comments


def test_words_after_a_closing_line_that_ask_something_still_count():
    text = (
        "Thanks!\nOne more thing: my bumper was scratched in a collision last week.\n"
        "Can your body shop repair it?"
    )
    assert triaged(customer_mail(text)).department == "body_shop"


@pytest.mark.parametrize(
    "footer",
    [
        "AVIS DE CONFIDENTIALITÉ : Ce courriel et les pièces jointes sont confidentiels et destinés "
        "uniquement à la personne à qui ils sont adressés. Si vous avez reçu ce courriel par erreur, "
        "veuillez en aviser l'expéditeur et le supprimer. Toute diffusion est interdite par la loi.",
        "Ce courriel est confidentiel et peut contenir des renseignements privilégiés. S'il vous est "
        "parvenu par erreur, veuillez nous en aviser et le détruire.",
    ],
)
def test_a_french_legal_footer_leaves_an_english_mail_english(footer):
    text = f"Hi, is the 2022 Tacoma SR5 still available? What would be your best price?\n\nThanks,\nMark\n\n{footer}"
    parsed = parse_message(customer_mail(text))
    result = triage(parsed, rules=())
    assert (result.language, result.department) == ("en", "sales")
    # The customer's words on the lead are theirs, without their employer's footer.
    assert "confidenti" not in parsed.new_text
    assert parsed.new_text.startswith("Hi, is the 2022 Tacoma SR5 still available?")


@pytest.mark.parametrize(
    ("subject", "text", "only"),
    [
        ("Re: your RAV4 quote", "Please remove me from your mailing list.", True),
        ("Unsubscribe", "", True),
        ("Re: Civic days", "STOP", True),
        ("Re: Offre Tucson", "Veuillez me désabonner, je ne veux plus recevoir vos courriels.", True),
        ("Re: offer", "Stop emailing me, I bought a truck elsewhere.", True),
        ("Newsletter", "Unsubscribe me from the newsletter. But what is your best price on the RAV4?", False),
    ],
)
def test_a_request_for_no_more_mail_is_recognised_and_never_acknowledged(subject, text, only):
    result = triaged(customer_mail(text, subject=subject))
    assert (result.unsubscribe, result.unsubscribe_only) == (True, only)
    assert not result.acknowledge


def test_a_reply_with_nothing_written_above_the_quoted_offer_is_no_request_for_no_more_mail():
    quoted = (
        "Le lun. 30 nov. 2026 à 10:00, Maple Motors <internet@maplemotors.example> a écrit :\n"
        "> Bonjour Léa, les pneus d'hiver sont en solde.\n"
        "> Vous recevez ce message de Maple Motors. Pour ne plus recevoir nos messages : https://x.example/u/abc\n"
    )
    assert not triaged(customer_mail(quoted, subject="RE: Pneus d'hiver")).unsubscribe


@pytest.mark.parametrize(
    "text",
    [
        "Can I stop by Saturday to see the Civic?",
        "Does the RAV4 have a stop-start system?",
        "I'd like to opt out of the extended warranty on the Tucson.",
    ],
)
def test_everyday_words_are_no_request_for_no_more_mail(text):
    result = triaged(customer_mail(text))
    assert not result.unsubscribe and result.acknowledge


def test_mail_with_no_telling_words_is_a_sales_lead_by_default():
    result = triaged(customer_mail("Hello"))
    assert (result.kind, result.department, result.rule) == ("lead", "sales", "default")


def test_plain_customer_mail_contact_comes_from_the_sender_and_the_body():
    text = "Is the RAV4 still available? Call me at 416.555.0111 after 5.\n\n-- \nMarc Gagnon"
    result = triaged(customer_mail(text, sender="Marc Gagnon <MARC@Example.com>"))
    assert result.contact == person("Marc", "Gagnon", "marc@example.com", "+14165550111")
    assert result.comments == "Is the RAV4 still available? Call me at 416.555.0111 after 5."
    assert result.source is None
    assert result.inquiry_type == "price"


@pytest.mark.parametrize(
    ("text", "inquiry"),
    [
        ("Can I come in for a test drive Saturday?", "test_drive"),
        ("What is my 2015 Civic worth as a trade-in?", "trade_in"),
        ("What are the monthly payments with financing?", "financing"),
        ("What is your best price on the Tucson?", "price"),
        ("Quel est votre meilleur prix?", "price"),
        ("Bonjour, je vous écris au sujet du Tucson.", "general"),
    ],
)
def test_inquiry_type_from_the_text(text, inquiry):
    assert triaged(customer_mail(text)).inquiry_type == inquiry


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hello, I would like to know the price of the RAV4.", "en"),
        ("Bonjour, je voudrais connaître le prix du RAV4.", "fr"),
        ("Allo, c'est pour le Civic usagé. Merci!", "fr"),
        ("", "en"),
    ],
)
def test_language_detection(text, language):
    assert detect_language(text) == language


# --- bounces and automatic replies ------------------------------------------------------------------


def test_delivery_status_notification_is_a_permanent_bounce():
    result = triaged(factories.sample_mail("dsn_bounce.eml"))
    assert (result.kind, result.department, result.rule) == ("bounce", None, "bounce-report")
    assert result.bounce_recipients == ["gone@example.com"]
    assert result.bounce_permanent
    assert "<lead12.0123abcd@maplemotors.example>" in result.in_reply_to_ids  # the message that failed


def test_plain_mailer_daemon_bounce_names_the_failed_address():
    result = triaged(factories.sample_mail("plain_bounce.eml"))
    assert (result.kind, result.department, result.rule) == ("bounce", None, "bounce-sender")
    assert result.bounce_recipients == ["nobody@example.org"]
    assert result.bounce_permanent


def test_bounce_quoting_the_failed_message_inline_names_its_message_id():
    text = (
        "Your message to lost@example.net could not be delivered: 550 5.1.1 user unknown.\n\n"
        "------ Original message ------\nMessage-ID: <lead3.ff00@maplemotors.example>\nSubject: Your Civic\n"
    )
    result = triaged(
        customer_mail(text, subject="Undeliverable: Your Civic", sender="Mail <notices@isp.example>")
    )
    assert (result.kind, result.rule, result.bounce_recipients) == (
        "bounce",
        "bounce-subject",
        ["lost@example.net"],
    )
    assert result.in_reply_to_ids == ["<lead3.ff00@maplemotors.example>"]


def test_delay_notice_is_a_temporary_bounce():
    text = "Delivery to the following recipient has been delayed:\n\n    slow@example.net\n\nStatus: 4.4.1"
    result = triaged(
        customer_mail(text, subject="Delivery Status Notification (Delay)", sender="postmaster@mx.example")
    )
    assert result.kind == "bounce"
    assert result.bounce_recipients == ["slow@example.net"] and not result.bounce_permanent


def test_french_non_delivery_subject_is_a_bounce():
    text = "Votre message n'a pas pu être remis à : absent@example.fr\nLe destinataire n'existe pas."
    result = triaged(
        customer_mail(text, subject="Non remis : Votre RAV4", sender="Outlook <outlook@example.fr>")
    )
    assert (
        result.kind == "bounce"
        and result.bounce_recipients == ["absent@example.fr"]
        and result.bounce_permanent
    )


@pytest.mark.parametrize(
    ("subject", "headers", "rule"),
    [
        ("Out of Office: Your RAV4", {}, "out-of-office-subject"),
        ("Automatic reply: Your RAV4", {}, "out-of-office-subject"),
        ("Absence du bureau : Votre RAV4", {}, "out-of-office-subject"),
        ("Re: Your RAV4", {"Auto-Submitted": "auto-replied"}, "auto-submitted"),
        ("Re: Your RAV4", {"X-Autoreply": "yes"}, "x-autoreply"),
        ("Re: Your RAV4", {"Precedence": "auto_reply"}, "precedence"),
        ("Newsletter", {"Precedence": "bulk"}, "precedence"),
        ("Re: Your RAV4", {"Auto-Submitted": "auto-generated"}, "auto-submitted"),
        ("December deals", {"List-Unsubscribe": "<mailto:unsub@oem.example>"}, "mailing-list"),
        ("[owners] meetup", {"List-Id": "<owners.lists.example>"}, "mailing-list"),
    ],
)
def test_automatic_replies(subject, headers, rule):
    # A body that is no absence notice by itself: the subject or the header alone gives it away.
    result = triaged(customer_mail("Thank you for your message.", subject=subject, headers=headers))
    assert (result.kind, result.department, result.rule) == ("auto_reply", None, rule)


def test_french_out_of_office_from_a_file():
    result = triaged(factories.sample_mail("ooo_fr.eml"))
    assert (result.kind, result.department, result.language) == ("auto_reply", None, "fr")


def test_a_long_corporate_absence_notice_fetched_with_crlf_line_endings_is_an_automatic_reply():
    result = triaged(factories.sample_mail("ooo_en_crlf.eml"))
    assert (result.kind, result.acknowledge) == ("auto_reply", False)


@pytest.mark.parametrize(
    "subject", ["Going on vacation, can you service my car first?", "Absence of a spare tire", "Reply please"]
)
def test_customer_subjects_with_everyday_words_are_not_automatic_replies(subject):
    assert triaged(customer_mail("Thanks", subject=subject)).kind != "auto_reply"


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("Maple Motors <internet@maplemotors.example>", {}),
        ("Pat <pat@example.com>", {"X-Loop": "internet@maplemotors.example"}),
    ],
)
def test_the_stores_own_mail_coming_back_is_ignored(sender, headers):
    result = triaged(customer_mail("I want to buy a RAV4", sender=sender, headers=headers))
    assert (result.kind, result.department, result.rule) == ("auto_reply", None, "own-mail")


def test_auto_submitted_no_is_a_person():
    result = triaged(customer_mail("I want the RAV4", headers={"Auto-Submitted": "no"}))
    assert result.kind == "lead"


# --- replies ---------------------------------------------------------------------------------------


def test_reply_token_in_a_recipient_makes_a_reply_on_that_lead():
    result = triaged(customer_mail("Saturday works.", to=f"Maple Motors <{reply_address(42)}>"))
    assert (result.kind, result.department, result.rule, result.reply_lead_id) == (
        "reply",
        "sales",
        "reply-token",
        42,
    )


def test_reply_token_in_delivered_to_counts_too():
    raw = customer_mail("ok", headers={"Delivered-To": reply_address(7)})
    assert triaged(raw).reply_lead_id == 7


def test_forged_reply_token_is_not_a_reply():
    forged = reply_address(42).replace("+L42-", "+L43-")
    result = triaged(customer_mail("I want the RAV4", to=forged))
    assert result.kind == "lead" and result.reply_lead_id is None


def test_in_reply_to_our_message_id_is_a_reply():
    raw = customer_mail(
        "Yes please.\n\nOn Mon, Nov 30, 2026 Maple Motors wrote:\n> Test drive?",
        headers={"In-Reply-To": "<lead5.abc@maplemotors.example>", "References": "<x@other.example>"},
    )
    result = triaged(raw)
    assert (result.kind, result.rule) == ("reply", "in-reply-to")
    assert result.in_reply_to_ids == ["<lead5.abc@maplemotors.example>", "<x@other.example>"]
    assert result.comments == "Yes please."


def test_in_reply_to_someone_else_is_not_a_reply_but_the_ids_are_passed_on():
    result = triaged(customer_mail("I want a RAV4", headers={"In-Reply-To": "<abc@gmail.example>"}))
    assert result.kind == "lead"
    assert result.in_reply_to_ids == ["<abc@gmail.example>"]


# --- the supervisor's rules ------------------------------------------------------------------------


def rule(**fields) -> RoutingRule:
    fields.setdefault("name", "rule")
    return RoutingRule(**fields)


def test_a_matching_rule_decides_before_the_built_in_signals():
    rules = [rule(name="Fleet desk", subject_contains="fleet, flotte", kind="forward", department="finance")]
    result = triaged(customer_mail("I want to buy 12 pickups", subject="Fleet purchase"), rules=rules)
    assert (result.kind, result.department, result.rule) == ("forward", "finance", "rule:Fleet desk")


def test_rules_apply_in_order_and_every_filled_condition_must_match():
    rules = [
        rule(
            name="needs both",
            sender_contains="example.com",
            subject_contains="nomatch",
            kind="forward",
            department="parts",
        ),
        rule(
            name="inactive", sender_contains="example.com", kind="forward", department="parts", active=False
        ),
        rule(name="sender regex", sender_regex=r"^pat@example\.com$", kind="lead", acknowledge=True),
        rule(name="later", sender_contains="example.com", kind="forward", department="service"),
    ]
    result = triaged(customer_mail("Oil change please"), rules=rules)
    assert (result.kind, result.department, result.rule) == ("lead", "sales", "rule:sender regex")
    assert result.acknowledge


def test_rules_given_in_any_order_are_tried_by_their_order():
    rules = [
        rule(name="late", order=50, sender_contains="pat", kind="forward", department="parts"),
        rule(name="early", order=5, sender_contains="pat", kind="forward", department="service"),
    ]
    assert triaged(customer_mail("hi"), rules=rules).rule == "rule:early"


def test_rule_keywords_ignore_case_and_accents():
    rules = [rule(name="fr", text_contains="pièces\ncarrosserie", kind="forward", department="body_shop")]
    assert triaged(customer_mail("Avez-vous des PIECES?"), rules=rules).rule == "rule:fr"
    rules = [rule(name="to", recipient_contains="parts@", kind="forward", department="parts")]
    assert triaged(customer_mail("hi", to="parts@maplemotors.example"), rules=rules).department == "parts"


def test_forward_rule_without_department_uses_the_words():
    rules = [rule(name="mailbox", recipient_contains="help@", kind="forward")]
    result = triaged(customer_mail("I need new brakes", to="help@maplemotors.example"), rules=rules)
    assert (result.kind, result.department) == ("forward", "service")


def test_auto_reply_rule_has_no_department():
    rules = [rule(name="vendor noise", sender_contains="newsletter", kind="auto_reply")]
    result = triaged(customer_mail("deals", sender="newsletter@vendor.example"), rules=rules)
    assert (result.kind, result.department) == ("auto_reply", None)


@pytest.mark.django_db
def test_rules_none_loads_the_active_rules_from_the_database():
    routing_rule_create(
        name="Parts mailbox", recipient_contains="parts@", kind="forward", department="parts", order=1
    )
    routing_rule_create(name="Off", sender_contains="pat@", kind="auto_reply", active=False, order=0)
    result = triage(parse_message(customer_mail("hello", to="parts@maplemotors.example")))
    assert result.rule == "rule:Parts mailbox"


@pytest.mark.django_db
def test_default_rules_are_created_once_and_route_provider_mail():
    created = routing_rules_ensure_defaults()
    assert len(created) >= 5
    assert routing_rules_ensure_defaults() == []
    rules = list(RoutingRule.objects.all())
    result = triage(parse_message(factories.sample_mail("autotrader_adf.eml")), rules=rules)
    assert (result.kind, result.department, result.acknowledge) == ("lead", "sales", True)
    assert result.rule.startswith("rule:Lead providers")
    assert result.contact["email"] == "jean.tremblay@example.com"
    claim = triage(parse_message(customer_mail("Voici mon numéro de réclamation: 123")), rules=rules)
    assert claim.department == "body_shop"
    recall = triage(
        parse_message(customer_mail("Service", subject="Avis de rappel - coussin gonflable")), rules=rules
    )
    assert recall.department == "service"
    buyer = customer_mail("I'd like to buy the used F-150. Was its safety recall done? Any payoff owing?")
    assert triage(parse_message(buyer), rules=rules).department == "sales"


@pytest.mark.django_db
def test_a_lespac_buyers_message_is_a_lead_for_the_buyer_despite_its_list_headers():
    routing_rules_ensure_defaults()
    raw = customer_mail(
        "Marc Roy vous a envoyé un message au sujet de votre annonce :\n"
        "Est-ce que le Civic est encore disponible? Je peux passer samedi.",
        subject="Nouveau message : Honda Civic 2021",
        sender="LesPAC <notifications@lespac.com>",
        headers={
            "Reply-To": "Marc Roy <marc.roy@example.com>",
            "List-Unsubscribe": "<https://www.lespac.com/desabonnement>",
        },
    )
    result = triage(parse_message(raw), rules=list(RoutingRule.objects.all()))
    assert (result.kind, result.department, result.language) == ("lead", "sales", "fr")
    assert result.rule.startswith("rule:Lead providers")
    assert result.contact["email"] == "marc.roy@example.com"


def test_adf_sent_as_unescaped_tags_in_an_html_body_is_read_before_the_html_is_cleaned():
    html = (
        "<html><body><adf><prospect><vehicle interest='buy'><year>2025</year><make>Honda</make>"
        "<model>Civic</model></vehicle><customer><contact><name part='full'>Sam Lee</name>"
        "<email>sam@example.com</email></contact></customer></prospect></adf></body></html>"
    )
    result = triaged(factories.mail(text=None, html=html, sender="leads@dealer-site.example"))
    assert (result.kind, result.rule) == ("lead", "adf")
    assert result.contact["name"] == "Sam Lee" and result.vehicles[0]["model"] == "Civic"


def test_xml_attachment_that_is_not_adf_is_ignored():
    raw = factories.mail(
        text="Invoice attached, thanks", attachments=[("invoice.xml", "application/xml", b"<invoice/>")]
    )
    result = triaged(raw)
    assert result.rule != "adf-unreadable" and result.comments == "Invoice attached, thanks"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_triage_never_raises_on_arbitrary_bytes(raw):
    result = triage(parse_message(raw), rules=[])
    assert_storable(result)
    assert result.kind in {"lead", "reply", "forward", "auto_reply", "bounce"}
    assert result.language in {"en", "fr"}
    assert (result.department is None) == (result.kind in {"auto_reply", "bounce"})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject=st.text(max_size=200), body=st.text(max_size=2000))
def test_triage_never_raises_on_arbitrary_text(subject, body):
    raw = f"From: Pat <pat@example.com>\r\nSubject: {subject}\r\n\r\n{body}".encode("utf-8", "surrogatepass")
    result = triage(parse_message(raw), rules=[])
    assert_storable(result)
    assert result.contact.keys() == {"first_name", "last_name", "name", "email", "phone", "phone_extension"}


def test_french_form_with_prenom_and_nom_reads_nom_as_the_family_name():
    form = "Prénom : Chloé\nNom : Gauthier\nCourriel : Chloé G. <chloe@example.com>\nTéléphone : 438 555 0144 poste 2"
    result = triaged(customer_mail(form, sender="web@concession.example"))
    assert result.contact == person("Chloé", "Gauthier", "chloe@example.com", "+14385550144", "2")
    assert result.source == "concession.example"


def test_html_table_form_notification_is_read():
    html = (
        "<table><tr><td>Name:</td><td>Liam Brown</td></tr><tr><td>Email:</td><td>"
        "<a href='mailto:liam@example.com'>liam@example.com</a></td></tr><tr><td>Phone:</td><td>905-555-0155</td></tr>"
        "<tr><td>Comments:</td><td>Do you have the Tucson in grey?</td></tr></table>"
    )
    result = triaged(factories.mail(text=None, html=html, sender="forms@dealer-websites.example"))
    assert result.contact["name"] == "Liam Brown" and result.contact["email"] == "liam@example.com"
    assert result.contact["phone"] == "+19055550155"
    assert result.comments == "Do you have the Tucson in grey?"
    assert result.source == "dealer-websites.example"


def test_a_gravity_forms_table_with_each_label_above_its_value_is_the_visitors_lead():
    """The default {all_fields} notification, sent From the store's own domain: no colon after a label."""
    result = triaged(factories.sample_mail("gravityforms_table.eml"))
    assert (result.kind, result.department, result.acknowledge) == ("lead", "sales", True)
    assert result.contact == person("Olivier", "Roy", "olivier.roy@gmail.com", "+14505550123")
    assert result.comments.startswith("Is the 2022 Kia Sportage LX (stock U2204) still available?")


def test_a_value_under_its_label_is_read_even_when_it_reads_like_a_label():
    form = "Name\n\nAva Singh\n\nPhone\n\n905-555-0155\n\nSource\n\nWebsite\n\nMessage\n\nIs the Tucson grey?"
    result = triaged(customer_mail(form, sender="WPForms <forms@dealer-websites.example>"))
    assert (result.contact["name"], result.source, result.comments) == (
        "Ava Singh",
        "Website",
        "Is the Tucson grey?",
    )


def test_a_form_sent_from_the_visitors_own_address_keeps_its_vehicle_trade_in_and_source():
    result = triaged(factories.sample_mail("form_from_the_visitor.eml"))
    assert result.contact == person("Ryan", "Patel", "ryan.patel@gmail.com", "+14165550187")
    wanted, trade = result.vehicles
    assert (wanted["year"], wanted["make"], wanted["model"], wanted["stock"]) == (
        2024,
        "Toyota",
        "Camry",
        "T2281",
    )
    assert (trade["interest"], trade["make"], trade["model"]) == ("trade-in", "Mazda", "3")
    assert result.source == "maplemotors.example/inventory/T2281"
    assert result.comments == "Hi, is this one still available?"


def test_adf_in_an_attachment_of_any_name_is_found():
    adf = b"<adf><prospect><customer><contact><name part='full'>Ann Lee</name></contact></customer></prospect></adf>"
    raw = factories.mail(text="New lead", attachments=[("lead.txt", "text/plain", adf)])
    result = triaged(raw)
    assert (result.rule, result.contact["name"]) == ("adf", "Ann Lee")


def test_unreadable_adf_attachment_becomes_a_storable_comment():
    broken = b'<!DOCTYPE adf [<!ENTITY x "y">]>\x00<adf><prospect>&x;</prospect></adf>'
    result = triaged(
        factories.mail(text="lead attached", attachments=[("lead.xml", "application/xml", broken)])
    )
    assert (result.kind, result.rule) == ("lead", "adf-unreadable")
    assert "<adf><prospect>&x;" in result.comments
    assert_storable(result)


# --- a customer's mail forwarded by staff -------------------------------------------------------

GMAIL_FORWARD = """Can you take this one? He came in on Saturday.

---------- Forwarded message ---------
From: John Smith <John.Smith@Example.com>
Date: Sat, 28 Nov 2026 at 14:02
Subject: RAV4
To: Bob Advisor <bob@maplemotors.example>

Is the 2026 RAV4 still available? What would the monthly payments be?
Call me at 416-555-0142.
"""
OUTLOOK_FRENCH_FORWARD = """Pour toi.

De : Léa Roy [mailto:lea.roy@example.com]
Envoyé : 28 novembre 2026 14:02
À : Bob Conseiller
Objet : Civic

Bonjour, je voudrais faire un essai routier de la Civic samedi.
"""


@pytest.mark.parametrize(
    ("subject", "text", "contact", "inquiry", "language"),
    [
        ("Fwd: RAV4", GMAIL_FORWARD, person("John", "Smith", "john.smith@example.com", "+14165550142"),
         "financing", "en"),
        ("TR: Civic", OUTLOOK_FRENCH_FORWARD, person("Léa", "Roy", "lea.roy@example.com", None), "test_drive", "fr"),
    ],
)  # fmt: skip
def test_a_customer_mail_forwarded_inline_by_staff_is_the_customers_lead(
    subject, text, contact, inquiry, language
):
    result = triaged(customer_mail(text, subject=subject, sender="Bob Advisor <bob@maplemotors.example>"))
    assert (result.kind, result.department, result.contact) == ("lead", "sales", contact)
    assert (result.inquiry_type, result.language) == (inquiry, language)
    assert result.comments.startswith(("Is the 2026 RAV4", "Bonjour, je voudrais"))
    assert "Can you take this one" not in result.comments and "Pour toi" not in result.comments


def test_a_customer_mail_forwarded_as_an_attachment_by_staff_is_the_customers_lead():
    original = EmailMessage()
    original["From"], original["Subject"] = "Ann Lee <ann@example.com>", "Tucson"
    original.set_content("Do you have a 2025 Tucson in grey? I'd like to trade in my Elantra.")
    outer = EmailMessage()
    outer["From"], outer["To"] = "bob@maplemotors.example", "internet@maplemotors.example"
    outer["Subject"], outer["Message-ID"] = "Fw: Tucson", "<fw-1@maplemotors.example>"
    outer.set_content("See attached.")
    outer.add_attachment(original)
    result = triaged(outer.as_bytes())
    assert (result.kind, result.contact["email"], result.contact["name"]) == (
        "lead",
        "ann@example.com",
        "Ann Lee",
    )
    assert (result.inquiry_type, result.comments) == ("trade_in", original.get_content().strip())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sender", "text"),
    [
        # A customer forwarding a friend's mail is still the customer.
        ("Pat Customer <pat@example.com>", GMAIL_FORWARD),
        # Staff forwarding the store's own mail (an offer) is no customer's inquiry.
        (
            "bob@maplemotors.example",
            GMAIL_FORWARD.replace("John.Smith@Example.com", "offers@maplemotors.example"),
        ),
    ],
)
def test_only_a_customers_mail_forwarded_by_staff_changes_who_the_lead_is(sender, text):
    factories.staff("advisor", email="bob@maplemotors.example")
    result = triaged(customer_mail(text, subject="Fwd: RAV4", sender=sender))
    assert result.contact["email"] == sender.rpartition("<")[2].rstrip(">")


def test_a_forward_from_an_iphone_that_quotes_the_customers_mail_keeps_their_words():
    text = (
        "Sent from my iPhone\n\nBegin forwarded message:\n\n"
        "> From: Olivia Martin <olivia.martin@example.com>\n> Date: 28 November 2026 at 14:02\n"
        "> Subject: Santa Fe\n> \n"
        "> Hi Marc, my check engine light is on again and I need the brakes looked at. Can I bring it in "
        "Friday? 514-555-0161\n"
    )
    result = triaged(customer_mail(text, subject="Fwd: Santa Fe", sender="marc@maplemotors.example"))
    assert (result.kind, result.department) == ("forward", "service")
    assert result.contact == person("Olivia", "Martin", "olivia.martin@example.com", "+15145550161")
    assert result.comments.startswith("Hi Marc, my check engine light is on again")


WORDPRESS_NOTICE = (
    "From: Nathalie Simard <nathalie.simard@example.com>\nSubject: Essai Kona\n\nMessage Body:\n"
    "Bonjour, j'aimerais faire l'essai du Kona électrique samedi.\n\n-- \n"
    "Ce courriel a été envoyé depuis un formulaire de contact sur Maple Motors"
)


@pytest.mark.parametrize(
    "sender", ["Maple Motors <internet@maplemotors.example>", "WordPress <wordpress@maplemotors.example>"]
)
def test_a_website_notice_sent_in_the_stores_name_is_the_customers_lead_by_its_reply_to(sender):
    raw = customer_mail(
        WORDPRESS_NOTICE, subject="Nouveau message du site", sender=sender,
        headers={"Reply-To": "Nathalie Simard <Nathalie.Simard@example.com>"},
    )  # fmt: skip
    result = triaged(raw)
    assert (result.kind, result.department, result.acknowledge) == ("lead", "sales", True)
    assert (result.contact["name"], result.contact["email"]) == (
        "Nathalie Simard",
        "nathalie.simard@example.com",
    )
    assert (result.inquiry_type, result.language) == ("test_drive", "fr")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("headers", "text"),
    [
        (
            {"Cc": "internet@maplemotors.example"},
            "Bonjour M. Côté, je vous confirme votre essai routier samedi.",
        ),
        ({}, "Peux-tu réassigner la demande d'Olivia Martin à Marc?"),
    ],
)
def test_a_salespersons_own_mail_is_no_lead_and_is_not_acknowledged(headers, text):
    factories.staff("advisor", email="Marc.Gagnon@maplemotors.example")
    raw = customer_mail(
        text, subject="Essai", sender="Marc Gagnon <marc.gagnon@maplemotors.example>", headers=headers
    )
    result = triaged(raw)
    assert (result.kind, result.rule, result.acknowledge) == ("auto_reply", "staff-mail", False)


@pytest.mark.django_db
def test_a_departments_own_mailbox_writing_is_staff_mail():
    service = factories.department("service")
    service.forward_email = "service@maplemotors.example"
    service.save(update_fields=["forward_email"])
    raw = customer_mail(
        "Le client du Civic passe mardi pour sa vidange d'huile.",
        sender="Service <service@maplemotors.example>",
    )
    assert triaged(raw).rule == "staff-mail"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sender", "text", "kind", "department"),
    [
        # A website form that sends the visitor's words as they are, from the store's noreply address.
        ("Maple Motors <noreply@maplemotors.example>", "Is the 2025 Sienna XSE still available? Call me at "
         "647-555-0162.", "lead", "sales"),
        # A staff address mistyped by the customer's mail program or by a colleague.
        ("Marc Gagnon <marc.gagon@maplemotors.example>", "My brakes are grinding, can you look at my 2018 Corolla?",
         "forward", "service"),
    ],
)  # fmt: skip
def test_mail_from_the_stores_domain_that_no_staff_member_has_is_an_ordinary_message(
    sender, text, kind, department
):
    factories.staff("advisor", email="marc.gagnon@maplemotors.example")
    result = triaged(customer_mail(text, subject="Question", sender=sender))
    assert (result.kind, result.department) == (kind, department)
    assert result.rule != "staff-mail"


def test_a_calendar_accepting_an_invitation_is_an_automatic_reply():
    reply = b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nSUMMARY:Test drive\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    raw = customer_mail(
        "Pat Customer has accepted this invitation.", subject="Accepted: Test drive, Sat 10:00",
        attachments=[("invite.ics", "text/calendar", reply)],
    )  # fmt: skip
    result = triaged(raw)
    assert (result.kind, result.rule, result.acknowledge) == ("auto_reply", "calendar-reply", False)
    invitation = reply.replace(b"METHOD:REPLY", b"METHOD:REQUEST")
    raw = customer_mail(
        "Can we meet then?", subject="Meeting", attachments=[("invite.ics", "text/calendar", invitation)]
    )
    assert triaged(raw).kind == "lead"


def test_a_calendar_declining_the_stores_invitation_is_the_customers_reply_on_the_lead():
    declined = (
        b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nSUMMARY:Test drive\r\n"
        b"ATTENDEE;PARTSTAT=DECLINED;CN=Pat Customer:mailto:pat@example.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    raw = customer_mail(
        "Pat Customer has declined this invitation.", subject="Declined: Test drive, Sat 10:00",
        to=reply_address(42), attachments=[("invite.ics", "text/calendar", declined)],
    )  # fmt: skip
    result = triaged(raw)
    assert (result.kind, result.reply_lead_id) == ("reply", 42)


def test_a_phone_in_the_signature_is_the_customers_and_a_quoted_one_is_not():
    text = (
        "Is the 2024 RAV4 still available?\n\n-- \nPaul Tremblay\nCell: 514-555-0177\n\n"
        "On Mon, Nov 30, 2026, Maple Motors <internet@maplemotors.example> wrote:\n> Call us at 416-555-0100"
    )
    assert (
        triaged(customer_mail(text, sender="Paul Tremblay <paul@example.com>")).contact["phone"]
        == "+15145550177"
    )
    quoted_only = "Thanks!\n\nOn Mon, Nov 30, 2026, Maple Motors <internet@maplemotors.example> wrote:\n> Call 416-555-0100"
    assert triaged(customer_mail(quoted_only, sender="Paul <paul@example.com>")).contact["phone"] is None


@pytest.mark.parametrize(
    "text",
    [
        "Appelez-moi au bureau, 514-555-0177 poste 204, après 18 h.\n\nMarie",
        "Merci!\n\n-- \nMarie Lavoie\nBureau : (514) 555-0177, Poste. 204\nCell. : 438 555-0144",
        "Please call me at work, 514-555-0177 ext. 204, after 6.\n\nMarie",
    ],
)
def test_an_extension_written_in_french_or_english_in_a_customers_mail_is_read_with_the_number(text):
    result = triaged(customer_mail(text, sender="Marie Lavoie <marie.lavoie@videotron.ca>"))
    assert (result.contact["phone"], result.contact["phone_extension"]) == ("+15145550177", "204")


@pytest.mark.parametrize(
    "text",
    [
        "Hi, I called the store at 416-555-0100 this morning about the 2025 Sienna XSE but nobody picked up. "
        "Is it still available? You can reach me at 647-555-0162.\n\nOlivia",
        "Bonjour, j'ai appelé au (416) 555-0100 mais personne n'a répondu. Le Corolla Cross est-il toujours "
        "disponible? Rejoignez-moi au 647 555-0162.\n\nOlivia",
    ],
)
def test_the_stores_own_number_named_by_the_customer_is_not_their_phone(text):
    result = triaged(
        customer_mail(text, subject="2025 Sienna XSE", sender="Olivia Brown <olivia@example.com>")
    )
    assert result.contact["phone"] == "+16475550162"


def test_the_stores_number_is_read_from_the_settings(settings):
    settings.STORE = {**settings.STORE, "phone": "514 555-0199"}
    text = "I tried 514-555-0199 twice. Is the 2025 Sienna still there? Call me at 416-555-0100."
    assert triaged(customer_mail(text)).contact["phone"] == "+14165550100"


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Is the 2025 Sienna still available?\n\nOlivia\n\nSent from my phone. Toyota Roadside Assistance: "
         "1-800-555-0199", None),
        ("I saw your ad (call 1 (888) 555-0142 for the Sienna event). Is it still on? Call me at 647-555-0162.",
         "+16475550162"),
        ("Bonjour, votre pub disait de composer le 1-855-555-0190. Le Sienna est-il toujours disponible? "
         "Mon cellulaire : 514 555-0177.", "+15145550177"),
        ("Thanks!\n\nOlivia\nMaple Leasing Group | 833-555-0111 | 844.555.0122 | 866 555 0133 | 877-555-0144",
         None),
        # Outside North America too: a UK freephone (0800) number.
        ("Thanks!\n\nOlivia\nMaple Leasing UK, free from the UK: +44 800 028 5858", None),
    ],
)  # fmt: skip
def test_a_toll_free_number_in_a_customers_mail_is_never_their_phone(text, phone):
    """Customers have no toll-free lines: those are a business's, quoted from a signature or an ad."""
    result = triaged(customer_mail(text, subject="2025 Sienna", sender="Olivia Brown <olivia@example.com>"))
    assert result.contact["phone"] == phone


def test_a_french_form_without_comments_is_french():
    form = (
        "Prénom : Léa\nNom : Morin\nAdresse de courriel : lea.morin@example.com\nVéhicule : 2025 Honda CR-V"
    )
    result = triaged(customer_mail(form, subject="Demande d'information", sender="Site <forms@site.example>"))
    assert (result.contact["email"], result.language) == ("lea.morin@example.com", "fr")
