import pytest

from promotions.pricing import all_in_price_problems, offer_lines, price_terms

FEES_OUT = {
    "freight_pdi": {"amount": "2100", "included": False},
    "admin": {"amount": "499", "included": True},
}
FEES_IN = {"freight_pdi": {"amount": "2100", "included": True}, "admin": {"amount": "499", "included": True}}


@pytest.mark.parametrize("province", ["ON", "QC", "on"])
def test_ontario_and_quebec_refuse_a_price_that_leaves_out_a_fee(province):
    problems = all_in_price_problems(province=province, advertised_price="32999", fees=FEES_OUT)
    assert len(problems) == 1
    assert "Freight and PDI ($2,100.00) must be included" in problems[0]


@pytest.mark.parametrize("province", ["ON", "QC"])
def test_ontario_and_quebec_accept_an_all_in_price(province):
    assert all_in_price_problems(province=province, advertised_price="32999", fees=FEES_IN) == []


@pytest.mark.parametrize("province", ["ON", "QC"])
def test_taxes_and_licensing_may_be_added_on_top(province):
    fees = {**FEES_IN, "hst": {"amount": "4290", "included": False}, "licensing": {"amount": "120"}}
    fees["qst"] = {"amount": "3291", "included": False}
    assert all_in_price_problems(province=province, advertised_price="32999", fees=fees) == []


@pytest.mark.parametrize("province", ["AB", "BC", "NS", ""])
def test_other_provinces_have_no_all_in_rule(province):
    assert all_in_price_problems(province=province, advertised_price="32999", fees=FEES_OUT) == []


def test_without_an_advertised_price_there_is_nothing_to_check():
    assert all_in_price_problems(province="ON", advertised_price=None, fees=FEES_OUT) == []


def test_nonsense_amounts_are_reported_everywhere():
    problems = all_in_price_problems(
        province="AB", advertised_price="-5", fees={"admin": {"amount": "abc", "included": True}}
    )
    assert problems == [
        "The advertised price must be an amount above zero.",
        "Administration fee: the amount must be zero or more.",
    ]


def test_price_terms_name_the_fees_added_in_english_or_in_french():
    fees = {
        "freight_pdi": {"amount": "2100", "included": False},
        "admin": {"amount": "499", "included": False},
    }
    assert price_terms(fees) == "plus freight and PDI, administration fee, taxes and licensing"
    assert price_terms(fees, language="fr") == (
        "transport et préparation, frais d’administration, taxes et immatriculation en sus"
    )
    assert price_terms({}, language="fr") == "tous frais inclus, taxes et immatriculation en sus"


def test_a_rebate_reads_as_its_amount_off_not_as_an_all_in_price():
    lines = offer_lines(offer_kind="rebate", advertised_price="2500", rate=None, fees=FEES_OUT)
    assert lines == ["Rebate: $2,500.00", "Rabais\u00a0: 2\u00a0500,00\u00a0$"]
    assert (
        all_in_price_problems(province="ON", advertised_price="2500", fees=FEES_OUT, offer_kind="rebate")
        == []
    )
    price = offer_lines(offer_kind="price", advertised_price="32999", rate=None, fees=FEES_IN)
    assert price[0] == "$32,999.00 — all fees included, plus taxes and licensing"


@pytest.mark.parametrize(
    ("offer_kind", "rate_en", "rate_fr"),
    [
        ("financing", "Financing rate: 1.9%", "Taux de financement\u00a0: 1,9\u00a0%"),
        ("lease", "Lease rate: 1.9%", "Taux de location\u00a0: 1,9\u00a0%"),
    ],
)
def test_a_financing_or_lease_offer_with_a_price_shows_its_rate_after_the_price(offer_kind, rate_en, rate_fr):
    lines = offer_lines(offer_kind=offer_kind, advertised_price="34995", rate="1.90", fees=FEES_IN)
    assert lines == [
        f"$34,995.00 — all fees included, plus taxes and licensing · {rate_en}",
        f"34\u00a0995,00\u00a0$ — tous frais inclus, taxes et immatriculation en sus · {rate_fr}",
    ]


@pytest.mark.parametrize("province", ["ON", "QC"])
def test_a_levy_named_like_a_tax_is_a_fee_the_all_in_price_must_include(province):
    fees = {
        **FEES_IN,
        "tire_tax": {"amount": "30.00", "included": False},
        # Real sales taxes and licensing, however an import spells their names, may still be added.
        "HST": {"amount": "4290", "included": False},
        "tvq": {"amount": "3291", "included": False},
        "Licensing": {"amount": "120", "included": False},
    }
    problems = all_in_price_problems(province=province, advertised_price="34995", fees=fees)
    assert len(problems) == 1 and "Tire tax ($30.00) must be included" in problems[0]
    assert price_terms(fees) == "plus tire tax, taxes and licensing"
