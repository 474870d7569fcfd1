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
