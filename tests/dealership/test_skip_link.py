"""Every staff page starts with a way past the menu, for those who move by keyboard."""

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/leads/", "/leads/tasks/mine/", "/store/directory/"])
def test_the_first_link_of_a_staff_page_skips_the_menu_to_the_page_itself(supervisor_client, url):
    page = supervisor_client.get(url).content.decode()
    attributes, text = re.search(r"<a ([^>]*)>([^<]*)</a>", page.split("<body", 1)[1]).groups()
    assert text == "Skip to content" and 'href="#main"' in attributes
    assert "visually-hidden-focusable" in attributes  # shown once the keyboard reaches it
    assert re.search(r'<main [^>]*\bid="main"', page)
