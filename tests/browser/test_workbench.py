"""The supervisor answers an overdue French lead from the browser; the customer gets the mail."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dealership.models import Role
from leads.business_hours import business_moment_before
from leads.mail.polling import poll_source
from leads.mail.sources import parse_mailbox_url
from leads.models import InboundMail, InboundStatus, LeadStatus, ReplyTemplate
from leads.services.mail import inbound_process
from leads.services.replies import reply_templates_ensure_defaults
from leads.threading import lead_id_from_address
from tests import factories

pytestmark = pytest.mark.browser


def test_supervisor_answers_an_overdue_french_lead(
    login, live_server, page, smtp_sink, eager_celery, dovecot
):
    reply_templates_ensure_defaults()
    supervisor = factories.staff(
        Role.SUPERVISOR, username="sophie", first_name="Sophie", last_name="Tremblay"
    )
    customer = factories.customer(first_name="Olivier", last_name="Côté", email="olivier@example.com")
    lead = factories.lead(
        customer_obj=customer,
        inquiry_type="price",
        received_at=business_moment_before(timezone.now(), 90),
        vehicles=[{"year": 2026, "make": "Toyota", "model": "RAV4", "price": "38995"}],
    )
    factories.inbound_email(
        lead=lead,
        message_id="<question@client.example>",
        subject="RAV4 disponible?",
        body="Bonjour, est-ce que le RAV4 est encore disponible? Quel est votre meilleur prix?",
    )
    on_time = factories.lead(customer_obj=factories.customer(first_name="Emma", last_name="Johnson"))

    login("sophie", factories.PASSWORD)
    page.wait_for_url(f"{live_server.url}/leads/")
    assert page.locator("tr.lead-row").count() == 2
    # The tab's title counts the leads waiting for an answer, for when she works in another window.
    expect(page).to_have_title(re.compile(r"^\(2\) Lead inbox"))

    page.click("a[data-filter=overdue]")
    page.wait_for_url("**/leads/?overdue=on")
    assert page.locator("tr.lead-row").count() == 1
    assert page.locator(f"tr[data-lead='{on_time.pk}']").count() == 0

    page.click("text=Olivier Côté")
    page.wait_for_url(f"**/leads/{lead.pk}/")
    french = ReplyTemplate.objects.get(inquiry_type="price", language="fr")
    assert page.input_value("#id_template") == str(french.pk)
    # An answer under the customer's own subject, their words quoted below it.
    assert page.input_value("#id_subject") == "Re: RAV4 disponible?"
    assert "Bonjour Olivier" in page.input_value("#id_body")
    assert "> Bonjour, est-ce que le RAV4 est encore disponible?" in page.input_value("#id_body")

    page.click("#send-reply")
    page.wait_for_selector("text=is being sent")
    expect(page).to_have_title(re.compile(r"^\(1\) "))

    [received] = smtp_sink.parsed()
    assert received["To"] == "olivier@example.com"
    assert received["Subject"] == "Re: RAV4 disponible?"
    assert received["In-Reply-To"] == "<question@client.example>"
    assert received["References"] == "<question@client.example>"
    assert received["Message-ID"].startswith(f"<lead{lead.pk}.")
    assert lead_id_from_address(received["Reply-To"]) == lead.pk
    assert "Pour ne plus recevoir nos messages" in received.get_content()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED and lead.first_response_at is not None

    # The customer answers from their mail program; the mailbox is read and the answer joins the lead.
    dovecot.append(
        factories.raw_mail(
            from_address="olivier@example.com",
            from_name="Olivier Côté",
            to=received["Reply-To"],
            subject=f"Re: {received['Subject']}",
            body="Samedi à 10 h, ça me va. Merci!",
            headers={"In-Reply-To": received["Message-ID"], "References": received["Message-ID"]},
        )
    )
    poll_source(parse_mailbox_url(dovecot.url_for("INBOX")))
    for inbound in InboundMail.objects.filter(status=InboundStatus.PENDING):
        inbound_process(inbound_id=inbound.pk)
    page.reload()
    assert (
        page.locator("#timeline .timeline-message").filter(has_text="Samedi à 10 h, ça me va.").count() == 1
    )
    assert lead.events.filter(type="customer_replied").count() == 1
    expect(page.locator("#nav-leads .badge")).to_contain_text("2")  # Emma's, and Olivier's answer
    assert supervisor.user.get_full_name() in received.get_content()  # signed by the supervisor


def _open_lead(login, live_server, page, **customer):
    factories.staff(Role.SUPERVISOR, username="sophie")
    lead = factories.lead(customer_obj=factories.customer(**customer))
    login("sophie", factories.PASSWORD)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    return lead


def test_a_template_replaces_only_an_untouched_draft_without_asking(login, live_server, page):
    reply_templates_ensure_defaults()
    _open_lead(login, live_server, page, first_name="Emma", last_name="Johnson")
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    draft = page.input_value("#id_body")
    other = page.locator("#id_template option").nth(2).get_attribute("value")

    page.select_option("#id_template", other)
    page.get_by_role("button", name="Use template").click()  # the draft as the page wrote it: nothing to lose
    expect(page.locator("#id_body")).not_to_have_value(draft)
    assert asked == [] and page.input_value("#id_template") == other

    page.fill("#id_body", "My own words")
    page.select_option("#id_template", index=1)
    page.get_by_role("button", name="Use template").click()  # Cancel
    page.wait_for_timeout(300)
    assert len(asked) == 1
    assert page.input_value("#id_body") == "My own words"
    assert page.input_value("#id_template") == other  # the template in use, not the one refused


def test_the_template_picker_changes_nothing_until_use_template_is_pressed(login, live_server, page):
    reply_templates_ensure_defaults()
    _open_lead(login, live_server, page, first_name="Emma", last_name="Johnson")
    subject, draft = page.input_value("#id_subject"), page.input_value("#id_body")
    picker = page.get_by_role("combobox", name="Reply template")
    shown = picker.input_value()
    picker.focus()
    page.keyboard.press("ArrowDown")  # on to the next template, as one reads the list
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(500)
    assert picker.input_value() != shown
    assert page.input_value("#id_subject") == subject and page.input_value("#id_body") == draft
    expect(page.locator("#lead-announcement")).to_be_empty()

    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # "Use template"
    expect(page.locator("#id_body")).not_to_have_value(draft)
    name = page.locator("#id_template option:checked").text_content()
    announced = f"The subject and message are now the template “{name}”."
    expect(page.locator("#lead-announcement")).to_have_text(announced)
    assert page.evaluate("document.activeElement.id") == "use-template"


def test_with_js_the_picker_is_a_form_of_its_own_and_enter_in_the_subject_still_sends(
    login, live_server, page, smtp_sink, eager_celery
):
    reply_templates_ensure_defaults()
    _open_lead(login, live_server, page, first_name="Emma", last_name="Johnson")
    owners = "els => els.map((el) => el.form.id)"
    # Without JS the select and "Use template" are the reply form's; with htmx, the picker's again.
    assert page.locator("#id_template, #use-template").evaluate_all(owners) == ["template-picker"] * 2
    draft = page.input_value("#id_body")
    page.select_option("#id_template", index=2)
    page.get_by_role("button", name="Use template").click()
    expect(page.locator("#id_body")).not_to_have_value(draft)
    # ...and again in the composer the picker refilled.
    for control in ("#id_template", "#use-template"):
        expect(page.locator(control)).not_to_have_attribute("form", "reply-form")
    assert page.locator("#id_template, #use-template").evaluate_all(owners) == ["template-picker"] * 2
    page.fill("#id_subject", "Your visit")
    page.press("#id_subject", "Enter")
    page.wait_for_selector("text=is being sent")
    [received] = smtp_sink.parsed()
    assert received["Subject"] == "Your visit"


@pytest.mark.browser_context_args(java_script_enabled=False)
def test_without_js_enter_in_the_subject_sends_the_answer(login, live_server, page, smtp_sink, eager_celery):
    reply_templates_ensure_defaults()
    _open_lead(login, live_server, page, first_name="Emma", last_name="Johnson")
    page.fill("#id_subject", "Your visit")
    with page.expect_navigation():
        page.press("#id_subject", "Enter")
    assert "/reply/template/" not in page.url  # sent, not taken for "Use template"
    page.wait_for_selector("text=is being sent")
    [received] = smtp_sink.parsed()
    assert received["Subject"] == "Your visit"


@pytest.mark.browser_context_args(java_script_enabled=False)
def test_use_template_without_js_never_loses_what_was_written(login, live_server, page):
    reply_templates_ensure_defaults()
    _open_lead(login, live_server, page, first_name="Emma", last_name="Johnson")
    trade = ReplyTemplate.objects.get(inquiry_type="trade_in", language="en")
    use = page.get_by_role("button", name="Use template")

    page.select_option("#id_template", str(trade.pk))  # the draft as the page wrote it: replaced
    with page.expect_navigation():
        use.click()
    assert "asking about your trade-in" in page.input_value("#id_body")

    page.fill("#id_subject", "About your car")
    page.fill("#id_body", "My own words\nover two lines")
    page.select_option("#id_template", index=0)  # No template
    with page.expect_navigation():
        use.click()
    assert page.input_value("#id_subject") == "About your car"
    assert page.input_value("#id_body") == "My own words\nover two lines"
    assert page.input_value("#id_template") == ""  # the template asked for
    expect(page.locator("#words-kept")).to_contain_text("kept as you wrote them")

    with page.expect_navigation():
        page.get_by_role("button", name="Replace my text with the template").click()
    assert page.input_value("#id_subject") == "" and page.input_value("#id_body") == ""
    expect(page.locator("#words-kept")).to_have_count(0)


def test_back_shows_the_inbox_and_the_lead_as_they_are_now(login, live_server, page):
    factories.staff(Role.SUPERVISOR, username="sophie")
    factories.lead(customer_obj=factories.customer(first_name="Pat", last_name="Early"))
    page.clock.install()
    login("sophie", factories.PASSWORD)
    factories.lead(customer_obj=factories.customer(first_name="New", last_name="Arrival"))
    page.clock.run_for(16_000)  # the inbox refreshes itself
    page.get_by_role("link", name="New Arrival").wait_for()

    page.get_by_role("link", name="Pat Early").click()
    form = page.locator("#log-form")
    form.locator("select[name=channel]").select_option("note")
    form.locator("textarea[name=notes]").fill("Will call Friday")
    form.get_by_role("button", name="Add").click()
    page.locator("#timeline", has_text="Will call Friday").wait_for()
    page.click("#customer-link")
    page.wait_for_load_state()

    page.go_back()
    expect(page.locator("#timeline")).to_contain_text("Will call Friday")
    page.go_back()
    expect(page.get_by_role("link", name="New Arrival")).to_be_visible()


def test_keyboard_focus_stays_put_through_the_inbox_refresh_and_after_adding_to_the_conversation(
    login, live_server, page
):
    factories.staff(Role.SUPERVISOR, username="sophie")
    for n in range(5):
        factories.lead(customer_obj=factories.customer(first_name="Pat", last_name=f"Number{n}"))
    page.clock.install()
    login("sophie", factories.PASSWORD)
    page.get_by_role("link", name="Pat Number1").focus()
    factories.lead(customer_obj=factories.customer(first_name="New", last_name="Arrival"))
    page.clock.run_for(16_000)
    page.get_by_role("link", name="New Arrival").wait_for()
    assert page.evaluate("document.activeElement.textContent") == "Pat Number1"

    page.keyboard.press("Enter")
    page.wait_for_url("**/leads/*/")
    form = page.locator("#log-form")
    form.locator("select[name=channel]").select_option("note")
    form.locator("textarea[name=notes]").fill("A note")
    form.locator("textarea[name=notes]").press("Tab")
    page.keyboard.press("Enter")
    page.locator("#timeline", has_text="A note").wait_for()
    assert page.evaluate("document.activeElement.closest('#log-form') !== null")
    expect(page.locator("#lead-announcement")).to_have_text("Added to the conversation.")


def test_keyboard_focus_on_a_status_chip_stays_through_the_inbox_refresh(login, live_server, page):
    factories.staff(Role.SUPERVISOR, username="sophie")
    factories.lead(customer_obj=factories.customer(first_name="Pat", last_name="Early"))
    page.clock.install()
    login("sophie", factories.PASSWORD)
    chips = page.get_by_role("navigation", name="Status")
    chips.get_by_role("link", name="Contacted").focus()
    factories.lead(customer_obj=factories.customer(first_name="New", last_name="Arrival"))
    page.clock.run_for(16_000)
    page.get_by_role("link", name="New Arrival").wait_for()
    assert page.evaluate("document.activeElement.textContent").startswith("Contacted")
    page.keyboard.press("Tab")  # on along the chips, not back from the top of the page
    assert page.evaluate("document.activeElement.textContent").startswith("Appointment set")


def test_the_keyboard_skips_the_menu_and_sees_where_it_is_in_it(login, live_server, page):
    factories.staff(Role.SUPERVISOR, username="sophie")
    login("sophie", factories.PASSWORD)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the store's name, the menu's first link
    focused = "getComputedStyle(document.activeElement)"
    assert page.evaluate("document.activeElement.classList.contains('nav-link')")
    outline = page.evaluate(f"[{focused}.outlineStyle, {focused}.outlineColor]")
    assert outline == ["solid", "rgb(255, 255, 255)"]  # white on the dark menu

    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the page's first control, not the menu's
    assert page.evaluate("document.activeElement.closest('main') !== null")
