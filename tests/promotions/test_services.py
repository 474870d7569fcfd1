from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from leads.models import LeadStatus
from leads.services.leads import lead_transition
from promotions.models import PromotionStatus
from promotions.selectors import (
    campaign_overlaps,
    campaigns_between,
    model_overlaps,
    promotion_for_text,
    promotions_between,
)
from promotions.services.promotions import (
    PromotionError,
    lead_promotion_attribute_from_text,
    promotion_transition,
    promotion_update,
    promotions_advance,
    public_lead_submit,
)
from tests import factories

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)


def _on(make, model="", year=None):
    return {"make": make, "model": model, "year": year}


# --- status machine -------------------------------------------------------------------------


def test_each_status_change_is_recorded_with_its_actor():
    member = factories.staff("manager")
    promotion = factories.promotion()
    promotion_transition(promotion=promotion, to_status=PromotionStatus.SCHEDULED, actor=member.user)
    promotion_transition(promotion=promotion, to_status=PromotionStatus.RUNNING, actor=member.user)
    event = promotion.events.filter(type="status_changed").last()
    assert (event.actor, event.params["from_status"], event.params["to_status"]) == (
        member.user,
        "scheduled",
        "running",
    )


def test_an_ended_promotion_cannot_run_again():
    promotion = factories.promotion()
    promotion_transition(promotion=promotion, to_status=PromotionStatus.RUNNING)
    promotion_transition(promotion=promotion, to_status=PromotionStatus.ENDED)
    with pytest.raises(PromotionError, match="A promotion that is ended cannot become running"):
        promotion_transition(promotion=promotion, to_status=PromotionStatus.RUNNING)
    promotion.refresh_from_db()
    assert promotion.status == PromotionStatus.ENDED


@pytest.mark.parametrize(("province", "published"), [("ON", False), ("QC", False), ("AB", True)])
def test_publishing_checks_the_all_in_price_of_the_store_province(settings, province, published):
    settings.STORE = {**settings.STORE, "province": province}
    promotion = factories.promotion(
        advertised_price="29999", fees={"freight_pdi": {"amount": "1995", "included": False}}
    )
    if published:
        promotion_transition(promotion=promotion, to_status=PromotionStatus.SCHEDULED)
    else:
        with pytest.raises(
            PromotionError, match=r"cannot be published: Freight and PDI \(\$1,995.00\) must be"
        ):
            promotion_transition(promotion=promotion, to_status=PromotionStatus.SCHEDULED)
    promotion.refresh_from_db()
    assert promotion.status == (PromotionStatus.SCHEDULED if published else PromotionStatus.DRAFT)


def test_the_daily_move_starts_and_ends_promotions_by_their_dates():
    starting = factories.promotion(starts_on=MONDAY, ends_on=MONDAY + timedelta(days=10))
    finished = factories.promotion(starts_on=MONDAY - timedelta(days=10), ends_on=MONDAY - timedelta(days=1))
    future = factories.promotion(starts_on=MONDAY + timedelta(days=1), ends_on=MONDAY + timedelta(days=5))
    draft = factories.promotion(starts_on=MONDAY, ends_on=MONDAY)
    for promotion in (starting, future):
        promotion_transition(promotion=promotion, to_status=PromotionStatus.SCHEDULED, today=MONDAY)
    promotion_transition(promotion=finished, to_status=PromotionStatus.RUNNING, today=finished.starts_on)

    assert promotions_advance(today=MONDAY) == {"started": 1, "ended": 1}
    assert promotions_advance(today=MONDAY) == {"started": 0, "ended": 0}  # nothing twice
    statuses = {p.name: p.status for p in (starting, finished, future, draft) if not p.refresh_from_db()}
    assert statuses == {
        starting.name: "running",
        finished.name: "ended",
        future.name: "scheduled",
        draft.name: "draft",
    }


def test_a_promotion_runs_only_between_its_dates_and_an_ended_one_is_not_scheduled():
    past = factories.promotion(starts_on=MONDAY - timedelta(days=30), ends_on=MONDAY - timedelta(days=10))
    future = factories.promotion(starts_on=MONDAY + timedelta(days=10), ends_on=MONDAY + timedelta(days=20))
    for status in (PromotionStatus.RUNNING, PromotionStatus.SCHEDULED):
        with pytest.raises(PromotionError, match="ended on Feb. 20, 2026: it can no longer be published"):
            promotion_transition(promotion=past, to_status=status, today=MONDAY)
    with pytest.raises(PromotionError, match="starts on March 12, 2026: choose Scheduled"):
        promotion_transition(promotion=future, to_status=PromotionStatus.RUNNING, today=MONDAY)
    promotion_transition(promotion=future, to_status=PromotionStatus.SCHEDULED, today=MONDAY)
    assert [p.status for p in (past, future) if not p.refresh_from_db()] == ["draft", "scheduled"]
    assert promotions_advance(today=MONDAY + timedelta(days=10)) == {"started": 1, "ended": 0}


def test_an_edit_runs_again_only_a_promotion_an_edit_of_its_dates_scheduled():
    today = timezone.localdate()
    by_hand = factories.promotion(starts_on=today + timedelta(days=3), ends_on=today + timedelta(days=9))
    promotion_transition(promotion=by_hand, to_status=PromotionStatus.SCHEDULED)
    promotion_update(promotion=by_hand, starts_on=today, ends_on=today + timedelta(days=9))
    by_hand.refresh_from_db()
    assert by_hand.status == PromotionStatus.SCHEDULED  # the store chose it; the daily move starts it


def test_a_promotion_cannot_end_before_it_starts():
    with pytest.raises(ValidationError, match="cannot end before it starts"):
        factories.promotion(starts_on=MONDAY, ends_on=MONDAY - timedelta(days=1))


@pytest.mark.parametrize("field", ["budget", "advertised_price", "rate"])
def test_a_promotion_refuses_a_negative_budget_price_or_rate(field):
    with pytest.raises(ValidationError) as refused:
        factories.promotion(**{field: -500})
    assert refused.value.message_dict[field] == ["This cannot be negative."]
    factories.promotion(**{field: 0})  # a free gift, a 0 % rate, no budget spent


def test_tracking_codes_are_short_unique_and_unambiguous():
    codes = {factories.promotion().tracking_code for _ in range(30)}
    assert len(codes) == 30
    assert all(len(code) == 6 and not set(code) & set("ILOU") for code in codes)


# --- overlaps -------------------------------------------------------------------------------


def test_same_model_in_overlapping_periods_from_two_departments_is_flagged():
    showroom = factories.promotion(
        name="Showroom RAV4",
        starts_on=MONDAY,
        ends_on=MONDAY + timedelta(days=13),
        models=[_on("Toyota", "RAV4")],
    )
    internet = factories.promotion(
        name="Web RAV4 rate",
        starts_on=MONDAY + timedelta(days=7),
        ends_on=MONDAY + timedelta(days=20),
        department_code="finance",
        models=[_on("toyota", "rav4", 2026)],
    )
    overlaps = model_overlaps(list(promotions_between(start=MONDAY, end=MONDAY + timedelta(days=30))))
    assert [(o.first, o.second) for o in overlaps] == [(showroom, internet)]
    assert overlaps[0].detail == "2026 toyota rav4"


def test_a_whole_make_overlaps_each_of_its_models():
    factories.promotion(starts_on=MONDAY, ends_on=MONDAY, models=[_on("Honda")])
    factories.promotion(starts_on=MONDAY, ends_on=MONDAY, models=[_on("Honda", "Civic")])
    assert len(model_overlaps(list(promotions_between(start=MONDAY, end=MONDAY)))) == 1


@pytest.mark.parametrize(
    ("second_period", "second_models"),
    [
        ((MONDAY + timedelta(days=14), MONDAY + timedelta(days=20)), [_on("Toyota", "RAV4")]),  # after
        ((MONDAY, MONDAY + timedelta(days=13)), [_on("Toyota", "Corolla")]),  # other model
        ((MONDAY, MONDAY + timedelta(days=13)), [_on("Toyota", "RAV4", 2025)]),  # other year
        ((MONDAY, MONDAY + timedelta(days=13)), []),  # service offer, no model
    ],
)
def test_no_flag_when_periods_or_models_differ(second_period, second_models):
    factories.promotion(
        starts_on=MONDAY, ends_on=MONDAY + timedelta(days=13), models=[_on("Toyota", "RAV4", 2026)]
    )
    factories.promotion(starts_on=second_period[0], ends_on=second_period[1], models=second_models)
    assert model_overlaps(list(promotions_between(start=MONDAY, end=MONDAY + timedelta(days=30)))) == []


def _campaign(promotion, send_on, **audience):
    return factories.campaign(promotion, send_on=send_on, audience=audience)


def _month_long(**fields):
    """A promotion running the month from MONDAY: its campaigns go out while it runs."""
    return factories.promotion(starts_on=MONDAY, ends_on=MONDAY + timedelta(days=30), **fields)


def test_two_email_campaigns_to_the_same_customers_in_one_week_are_flagged():
    factories.customer(language="fr")
    factories.customer(language="en")
    a = _campaign(_month_long(), MONDAY)
    b = _campaign(_month_long(department_code="service"), MONDAY + timedelta(days=3), language="fr")
    _campaign(_month_long(), MONDAY + timedelta(days=7))  # next week: fine
    overlaps = campaign_overlaps(list(campaigns_between(start=MONDAY, end=MONDAY + timedelta(days=7))))
    assert [(o.first, o.second, o.detail) for o in overlaps] == [(a, b, "1 customer(s) in both audiences")]


def test_campaigns_to_separate_audiences_in_one_week_are_not_flagged():
    factories.customer(language="fr")
    factories.customer(language="en")
    _campaign(_month_long(), MONDAY, language="en")
    _campaign(_month_long(), MONDAY + timedelta(days=1), language="fr")
    assert campaign_overlaps(list(campaigns_between(start=MONDAY, end=MONDAY + timedelta(days=6)))) == []


# --- attribution ----------------------------------------------------------------------------


def test_a_landing_page_lead_belongs_to_its_promotion_with_its_source():
    promotion = factories.promotion(models=[_on("Mazda", "CX-5")])
    lead = public_lead_submit(
        promotion=promotion,
        first_name="Léa",
        last_name="Roy",
        email="LEA@example.com",
        phone="",
        language="fr",
        comments="Disponible ?",
        vehicle={"make": "Mazda", "model": "CX-5", "year": None},
        src="leaflet-" + promotion.tracking_code,
    )
    assert lead.promotion == promotion
    assert lead.source == f"Offer {promotion.tracking_code} (leaflet-{promotion.tracking_code})"
    assert lead.customer.email == "lea@example.com" and lead.language == "fr"
    assert str(lead.vehicles.get()) == "Mazda CX-5"
    assert lead.events.get(type="public_form").params["src"] == f"leaflet-{promotion.tracking_code}"


def test_a_code_quoted_in_a_subject_attributes_the_lead():
    promotion = factories.promotion()
    other = factories.promotion()
    lead = factories.lead(comments="hi")
    quoted = f"Re: your offer, code {promotion.tracking_code.lower()} please"
    assert promotion_for_text(quoted) == promotion
    assert lead_promotion_attribute_from_text(lead=lead, text=quoted) == promotion
    lead.refresh_from_db()
    assert lead.promotion == promotion
    # The first promotion keeps the lead.
    lead_promotion_attribute_from_text(lead=lead, text=f"code {other.tracking_code}")
    lead.refresh_from_db()
    assert lead.promotion == promotion
    assert lead.events.filter(type="promotion_attributed").count() == 1


def test_text_without_a_code_attributes_nothing():
    factories.promotion()
    assert promotion_for_text("Is the Toyota still available? Please call me.") is None
    assert promotion_for_text("") is None


def test_a_general_contact_form_quoting_a_code_is_attributed():
    promotion = factories.promotion()
    lead = public_lead_submit(
        promotion=None,
        first_name="Sam",
        last_name="",
        email="",
        phone="416 555 0134",
        language="en",
        comments=f"I saw code {promotion.tracking_code} on the radio",
        src="card-advisor1",
    )
    assert lead.promotion == promotion
    assert lead.source == "Website contact form (card-advisor1)"


def test_sales_of_a_promotion_are_its_sold_leads():
    from promotions.selectors import promotion_results

    promotion = factories.promotion()
    sold = factories.lead(promotion=promotion)
    factories.lead(promotion=promotion)
    lead_transition(lead=sold, to_status=LeadStatus.CONTACTED)
    lead_transition(lead=sold, to_status=LeadStatus.SOLD)
    manager = factories.staff("manager").user
    results = promotion_results(promotion=promotion, user=manager)
    assert results["leads"].count() == 2 and list(results["sales"]) == [sold]
    # The deal fell through: the promotion brought a lead, no sale.
    lead_transition(lead=sold, to_status=LeadStatus.LOST, actor=manager, reason="Financing refused")
    results = promotion_results(promotion=promotion, user=manager)
    assert results["leads"].count() == 2 and list(results["sales"]) == []


def test_an_inquiry_closed_as_not_a_lead_is_no_lead_of_the_promotion():
    from promotions.selectors import promotion_results

    promotion = factories.promotion()
    real = factories.lead(promotion=promotion)
    spam = factories.lead(promotion=promotion, comments="Cheap watches, click here")
    supervisor = factories.staff("supervisor").user
    lead_transition(lead=spam, to_status=LeadStatus.NOT_A_LEAD, actor=supervisor, reason="Spam")
    assert list(promotion_results(promotion=promotion, user=supervisor)["leads"]) == [real]


def test_a_stock_vehicle_in_one_promotion_overlaps_its_model_in_another():
    rav4 = factories.vehicle(make="Toyota", model="RAV4", year=2024)
    factories.promotion(name="Used RAV4 clearance", starts_on=MONDAY, ends_on=MONDAY, vehicles=[rav4])
    factories.promotion(name="RAV4 rate", starts_on=MONDAY, ends_on=MONDAY, models=[_on("Toyota", "RAV4")])
    (overlap,) = model_overlaps(list(promotions_between(start=MONDAY, end=MONDAY)))
    assert overlap.detail == "2024 Toyota RAV4"
