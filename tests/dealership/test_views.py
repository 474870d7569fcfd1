from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dealership.models import Role
from dealership.services import directory_vcard
from leads.models import Attachment
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.SUPERVISOR, "/leads/"),
        (Role.ADVISOR, "/leads/appointments/mine/"),
        (Role.MANAGER, "/store/dashboard/"),
        (Role.DEPARTMENT, "/leads/department-mail/"),
        (Role.ADMIN, "/admin/"),
    ],
)
def test_each_role_logs_in_and_lands_on_its_own_home(client, role, landing):
    member = factories.staff(role)
    response = client.post(
        reverse("login"), {"username": member.user.username, "password": factories.PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == landing
    assert response.status_code == 200


def test_pages_need_login(client):
    response = client.get(reverse("dealership:directory"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_directory_lists_every_active_staff_member(client):
    viewer = factories.staff(Role.ADVISOR, first_name="Alex", last_name="Chen")
    other = factories.staff(Role.DEPARTMENT, department_code="service", first_name="Dana", last_name="Roy")
    gone = factories.staff(Role.ADVISOR, first_name="Former", last_name="Employee")
    gone.user.is_active = False
    gone.user.save()
    client.force_login(viewer.user)
    page = client.get(reverse("dealership:directory")).content.decode()
    assert "Dana Roy" in page and other.email in page and "Service" in page
    assert "Former Employee" not in page
    assert "Send the directory" not in page  # advisors may not mail everyone


def test_supervisor_sends_directory_to_every_active_member_with_vcard(
    client, django_capture_on_commit_callbacks, settings, eager_celery
):
    supervisor = factories.staff(Role.SUPERVISOR, first_name="Sophie", last_name="Tremblay")
    factories.staff(
        Role.DEPARTMENT, department_code="parts", first_name="Omar", last_name="Haddad", phone="+14165550199"
    )
    gone = factories.staff(Role.ADVISOR)
    gone.user.is_active = False
    gone.user.save()
    client.force_login(supervisor.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dealership:directory_send"), follow=True)
    assert "being sent" in response.content.decode()
    recipients = {m.to[0] for m in mail.outbox}
    assert gone.email not in recipients and supervisor.email in recipients and len(recipients) == 2
    message = mail.outbox[0]
    assert "Omar Haddad" in message.body and "Parts" in message.body
    name, content, mimetype = message.attachments[0]
    assert name == "staff-directory.vcf" and mimetype == "text/vcard"
    assert "FN:Omar Haddad" in content and "TEL;TYPE=WORK,VOICE:+14165550199" in content


def test_advisor_cannot_send_the_directory(client):
    advisor = factories.staff(Role.ADVISOR)
    client.force_login(advisor.user)
    assert client.post(reverse("dealership:directory_send")).status_code == 403
    assert mail.outbox == []


def test_login_locks_after_repeated_failures_then_cools_off(client, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=45)
    member = factories.staff(Role.SUPERVISOR)
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": member.user.username, "password": "wrong"})
    locked = client.post(url, {"username": member.user.username, "password": factories.PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed log-in attempts" in locked.content.decode()
    assert "locked from this computer for 45 min after the last failed attempt" in locked.content.decode()
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    ok = client.post(url, {"username": member.user.username, "password": factories.PASSWORD})
    assert ok.status_code == 302


def test_pages_carry_a_content_security_policy(client):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self' 'nonce-" in policy


def test_a_website_visitors_dead_link_leads_to_the_stock_and_the_offers(client):
    response = client.get("/vehicles/999999-gone-civic/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Cette page est introuvable" in html
    assert f'href="{reverse("vehicles:list")}"' in html and f'href="{reverse("offers:index")}"' in html


def test_sending_the_directory_twice_in_a_row_mails_each_address_once(
    client, django_capture_on_commit_callbacks, eager_celery
):
    supervisor = factories.staff(Role.SUPERVISOR)
    factories.staff(Role.ADVISOR, email="sales@store.test")
    factories.staff(Role.ADVISOR, email="Sales@store.test")  # a mailbox two people share
    client.force_login(supervisor.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dealership:directory_send"))  # a double click, or a second tab
        again = client.post(reverse("dealership:directory_send"), follow=True)
    assert sorted(m.to[0].lower() for m in mail.outbox) == ["sales@store.test", supervisor.email]
    assert "already sent" in again.content.decode()


def test_the_directory_vcard_reads_back_whole_on_a_phone():
    """RFC 6350 and 2426: CRLF line ends, lines folded at 75 octets (never inside a character),
    text values escaped; a person without email gets no empty address."""
    long_name = factories.staff(
        Role.SUPERVISOR,
        first_name="Geneviève-Éléonore",
        last_name="Bélanger-Côté de la Montagne-Saint-Hilaire-des-Érables",
        title="Directrice des ventes, véhicules d'occasion; secteur nord\r\net sud",
        phone="+1 514 555-0199",
    )
    no_email = factories.staff(Role.ADVISOR, email="")
    card = directory_vcard(staff=[long_name, no_email])
    assert card.endswith("\r\n") and "\n" not in card.replace("\r\n", "")
    for line in card.encode().split(b"\r\n"):
        assert len(line) <= 75
        line.decode()  # each line is whole UTF-8
    lines = card.replace("\r\n ", "").split("\r\n")
    assert "FN:Geneviève-Éléonore Bélanger-Côté de la Montagne-Saint-Hilaire-des-Érables" in lines
    assert "TITLE:Directrice des ventes\\, véhicules d'occasion\\; secteur nord\\net sud" in lines
    assert [line for line in lines if line.startswith("EMAIL")] == [
        f"EMAIL;TYPE=INTERNET,WORK:{long_name.email}"
    ]


def test_someone_without_email_is_listed_without_an_empty_address(
    client, django_capture_on_commit_callbacks, eager_celery
):
    supervisor = factories.staff(Role.SUPERVISOR)
    factories.staff(Role.ADVISOR, first_name="Noé", last_name="Sansmail", email="")
    client.force_login(supervisor.user)
    assert 'href="mailto:"' not in client.get(reverse("dealership:directory")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("dealership:directory_send"))
    assert [m.to for m in mail.outbox] == [[supervisor.email]]
    assert "Noé Sansmail (Sales advisor): no email" in mail.outbox[0].body


def test_the_menu_speaks_the_pages_language_and_its_switch_changes_it_on_the_same_page(client):
    client.force_login(factories.staff(Role.SUPERVISOR).user)
    french = client.get(reverse("leads:inbox"), headers={"Accept-Language": "fr-CA,fr;q=0.9"}).content.decode()
    assert '<html lang="fr">' in french
    assert ">Demandes</a>" in french and ">Tableau de bord</a>" in french and "Se déconnecter" in french
    assert 'name="language" value="en"' in french  # the switch offers the other language
    english = client.get(reverse("leads:inbox")).content.decode()
    assert ">Leads</a>" in english and 'name="language" value="fr"' in english
    switch = english[english.index('id="language-switch"') :]
    assert f'name="next" value="{reverse("leads:inbox")}"' in switch[: switch.index("</form>")]
    response = client.post("/i18n/setlang/", {"language": "fr", "next": reverse("leads:inbox")})
    assert response["Location"] == reverse("leads:inbox")
    assert ">Demandes</a>" in client.get(response["Location"]).content.decode()


def test_staff_pages_are_not_kept_by_the_browser_and_public_pages_keep_their_caching(client):
    lead = factories.lead()
    staff_browser = Client()
    staff_browser.force_login(factories.staff(Role.SUPERVISOR).user)
    for url in [
        reverse("leads:inbox"),
        reverse("leads:lead_detail", args=[lead.pk]),
        reverse("leads:customer_list"),
    ]:
        assert "no-store" in staff_browser.get(url)["Cache-Control"]
    for url in [reverse("vehicles:list"), reverse("offers:index"), reverse("vehicles:feed_json")]:
        response = client.get(url)
        assert response.status_code == 200 and not response.has_header("Cache-Control")


def test_files_of_customers_and_staff_are_not_kept_by_the_browser_and_public_files_keep_their_caching(
    settings, tmp_path
):
    """A showroom computer is shared: a downloaded attachment, export or original mail must not be
    found in its browser cache by the next person."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    inbound = factories.inbound_mail()
    attachment = Attachment.objects.create(
        message=factories.inbound_email(lead=inbound.lead),
        filename="licence.jpg",
        content_type="image/jpeg",
        size=4,
        file=ContentFile(b"jpeg", "licence.jpg"),
    )
    manager = factories.staff(Role.MANAGER)
    staff_browser = Client()
    staff_browser.force_login(manager.user)
    for url in [
        reverse("leads:attachment_download", args=[attachment.pk]),
        reverse("leads:inbound_mail_original", args=[inbound.pk]),
        reverse("leads:customer_export_json", args=[inbound.lead.customer_id]),
        reverse("leads:customers_export_csv"),
        f"{reverse('dealership:dashboard')}?export=funnel_source",
        reverse("promotions:business_card", args=[manager.pk]),
    ]:
        response = staff_browser.get(url)
        assert response.status_code == 200, url
        assert not response["Content-Type"].startswith("text/html"), url
        assert "no-store" in response.get("Cache-Control", ""), url

    photo = Path(settings.MEDIA_ROOT) / "inventory" / "7" / "abc-large.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8\xff\xe0 a published photo")
    published = staff_browser.get(f"{settings.MEDIA_URL}inventory/7/abc-large.jpg")
    assert published.status_code == 200 and "no-store" not in published["Cache-Control"]
    for url in [reverse("vehicles:feed_json"), reverse("vehicles:feed_csv")]:
        response = staff_browser.get(url)
        assert response.status_code == 200 and not response.has_header("Cache-Control")
