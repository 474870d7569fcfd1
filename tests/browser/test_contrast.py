"""In Chromium: words shown in colour on a tint read at WCAG AA contrast (4.5:1 for small text), as
the browser paints them: the language button of the public pages, the period a dashboard shows, the
promotions on the calendar, the outcome buttons of an advisor's appointment."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dealership.models import Role
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AA = 4.5

# The contrast of an element's text with what is painted behind it: the backgrounds of the element
# and of its ancestors, and an opacity (Bootstrap's .disabled) that fades them over what is beneath.
CONTRAST = """el => {
  const rgba = s => { const [r, g, b, a = 1] = s.match(/[\\d.]+/g).map(Number); return [r, g, b, a]; };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
  const mix = (color, under, opacity) => over([...color.slice(0, 3), opacity], under);
  const chain = [];
  for (let e = el; e; e = e.parentElement) chain.unshift(e);
  let backdrop = [255, 255, 255, 1], beneathFade = null, opacity = 1;
  for (const e of chain) {
    const style = getComputedStyle(e);
    if (+style.opacity < 1 && beneathFade === null) beneathFade = backdrop;
    opacity *= +style.opacity;
    backdrop = over(rgba(style.backgroundColor), backdrop);
  }
  let text = over(rgba(getComputedStyle(el).color), backdrop);
  if (beneathFade) { text = mix(text, beneathFade, opacity); backdrop = mix(backdrop, beneathFade, opacity); }
  const luminance = c => {
    const [r, g, b] = c.slice(0, 3).map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(text), luminance(backdrop)].sort((a, b) => b - a);
  return Math.round(((light + 0.05) / (dark + 0.05)) * 100) / 100;
}"""


def _contrasts(page, selector: str) -> list[tuple[str, float]]:
    elements = page.locator(selector)
    assert elements.count(), selector
    return [
        (" ".join(element.text_content().split()), element.evaluate(CONTRAST)) for element in elements.all()
    ]


def _below_aa(contrasts: list[tuple[str, float]]) -> list[tuple[str, float]]:
    return [(text, ratio) for text, ratio in contrasts if ratio < AA]


def test_the_public_pages_language_button_reads_at_aa_contrast(live_server, page):
    factories.vehicle()
    page.goto(f"{live_server.url}/vehicles/")
    assert _below_aa(_contrasts(page, "#language-switch button")) == []


@pytest.mark.parametrize("path", ["/store/dashboard/", "/store/objectives/"])
def test_the_period_shown_reads_at_aa_contrast(login, live_server, page, path):
    member = factories.staff(Role.MANAGER, username="periodreader")
    login(member.user.username, factories.PASSWORD)
    page.goto(f"{live_server.url}{path}?period=month&date=2026-11-15")
    shown = _contrasts(page, "[role=group][aria-label=Period] > span")
    assert [text for text, _ in shown] == ["November 2026"]
    assert _below_aa(shown) == []


def test_the_promotions_and_days_of_the_calendar_read_at_aa_contrast(login, live_server, page):
    today = timezone.localdate()
    first_shown = today.replace(day=1) - timedelta(days=today.replace(day=1).weekday())
    # From the days of the month before that the calendar shows, into this month.
    factories.promotion(name="Draft event", starts_on=first_shown, ends_on=today.replace(day=1))
    factories.running_promotion(name="Running event")
    factories.campaign(name="Spring mailing")
    member = factories.staff(Role.SUPERVISOR, username="calendarreader")
    login(member.user.username, factories.PASSWORD)
    page.goto(f"{live_server.url}/promotions/calendar/?view=month")
    chips = _contrasts(page, ".promo-chip")
    shown = {text for text, _ in chips}
    assert {"Draft event (Draft)", "Running event (Running)", "✉ Spring mailing"} <= shown
    assert _below_aa(chips + _contrasts(page, ".promo-calendar td > div")) == []


def test_the_outcome_buttons_of_an_appointment_read_at_aa_contrast(login, live_server, page):
    advisor = factories.advisor(username="showroomfloor")
    appointment = factories.appointment_unrecorded(advisor, days_ago=1)
    login(advisor.user.username, factories.PASSWORD)
    page.goto(f"{live_server.url}/leads/appointments/mine/")
    buttons = _contrasts(page, f"#appointment-{appointment.pk} .appointment-actions :is(button, a)")
    assert [text for text, _ in buttons] == ["Shown", "No-show", "Sold", "Cancel", "Reschedule"]
    assert _below_aa(buttons) == []
