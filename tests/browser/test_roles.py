import pytest

from dealership.models import Role
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("role", "path", "heading"),
    [
        (Role.SUPERVISOR, "/leads/", "Lead inbox"),
        (Role.ADVISOR, "/leads/appointments/mine/", "My appointments"),
        (Role.MANAGER, "/store/dashboard/", "Internet department"),
        (Role.DEPARTMENT, "/leads/department-mail/", "Mail forwarded to your department"),
        (Role.ADMIN, "/admin/", "Site administration"),
    ],
)
def test_each_role_logs_in_in_the_browser_and_lands_on_its_page(login, live_server, role, path, heading):
    member = factories.staff(role, username=f"browser-{role}")
    page = login(member.user.username, factories.PASSWORD)
    assert page.url == f"{live_server.url}{path}"
    assert heading.lower() in page.locator("h1").first.inner_text().lower()
