"""What the tests of the French pages share: a browser asking for French or English, and a page's text."""

FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9"}
ENGLISH = {"Accept-Language": "en-CA,en;q=0.9"}
NBSP = "\u00a0"  # French typography: before : ; and inside « »


def page_text(client, url, headers=None, status=200) -> str:
    response = client.get(url, headers=headers or {})
    assert response.status_code == status
    return response.content.decode()


def flash_text(response) -> str:
    """The messages a response shows (messages.success, .error)."""
    return " ".join(str(message) for message in response.context["messages"])
