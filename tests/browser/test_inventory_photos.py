"""In Chromium: the supervisor uploads photos from a vehicle's page and sees them appear, then
reorders them, with the page's own script (upload progress, XMLHttpRequest) and htmx."""

import pytest

from inventory.models import PhotoStatus
from inventory.services.photos import photos_upload
from tests import factories
from tests.inventory import images

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_photos_uploaded_from_the_vehicle_page_appear_and_reorder(login, live_server, page, eager_celery):
    page.set_default_timeout(15_000)
    member = factories.staff("supervisor", username="photographer")
    vehicle = factories.vehicle(make="Toyota", model="RAV4")
    csp_errors = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text
            # htmx's own indicator stylesheet (base.html) is not this page's doing.
            and "django_htmx" not in message.location.get("url", "")
            and csp_errors.append(message.text)
        ),
    )

    login(member.user.username, factories.PASSWORD)
    page.goto(f"{live_server.url}/inventory/{vehicle.pk}/")

    file_input = page.locator("input[type=file][name=photos]")
    assert file_input.get_attribute("accept") == "image/*"
    assert file_input.get_attribute("multiple") is not None
    file_input.set_input_files(
        [
            {"name": "front.jpg", "mimeType": "image/jpeg", "buffer": images.phone_jpeg()},
            {"name": "side.png", "mimeType": "image/png", "buffer": images.encoded("PNG")},
            {"name": "brochure.jpg", "mimeType": "image/jpeg", "buffer": images.PDF},
        ]
    )
    url_before = page.url
    page.get_by_role("button", name="Upload photos").click()

    cards = page.locator("#photo-grid .photo-card[data-status=ready]")
    cards.nth(1).wait_for()
    assert page.url == url_before  # sent by the page's script, no page load
    assert cards.count() == 2
    assert page.locator("#photos picture img").count() == 2
    assert "brochure.jpg" in page.locator("#photos .alert-danger").inner_text()
    assert "2 photos received" in page.locator("#photos .alert-success").inner_text()
    assert page.locator("#upload-progress").is_hidden()
    assert list(vehicle.photos.values_list("status", flat=True)) == [PhotoStatus.READY, PhotoStatus.READY]

    first, second = vehicle.photos.all()
    assert page.locator("#photo-grid .photo-card").first.get_attribute("data-photo-id") == str(first.pk)
    page.locator(f'.photo-card[data-photo-id="{second.pk}"]').get_by_role("button", name="Main").click()
    page.wait_for_function(
        "id => document.querySelector('#photo-grid .photo-card').dataset.photoId === id", arg=str(second.pk)
    )
    assert list(vehicle.photos.values_list("pk", flat=True)) == [second.pk, first.pk]
    page.reload()
    assert page.locator("#photo-grid .photo-card").first.get_attribute("data-photo-id") == str(second.pk)

    # Drag the last photo onto the first: it becomes the main photo.
    page.drag_and_drop(
        f'.photo-card[data-photo-id="{first.pk}"]', f'.photo-card[data-photo-id="{second.pk}"]'
    )
    page.wait_for_function(
        "id => document.querySelector('#photo-grid .photo-card .badge')?.closest('.photo-card').dataset.photoId === id",
        arg=str(first.pk),
    )
    assert list(vehicle.photos.values_list("pk", flat=True)) == [first.pk, second.pk]
    assert csp_errors == [], "\n".join(csp_errors)


def test_photos_sent_after_the_session_ran_out_are_kept_with_a_message(login, live_server, page, eager_celery):
    page.set_default_timeout(15_000)
    member = factories.staff("supervisor", username="latecomer")
    vehicle = factories.vehicle()
    login(member.user.username, factories.PASSWORD)
    page.goto(f"{live_server.url}/inventory/{vehicle.pk}/")
    file_input = page.locator("input[type=file][name=photos]")
    file_input.set_input_files([{"name": "front.jpg", "mimeType": "image/jpeg", "buffer": images.phone_jpeg()}])
    page.context.clear_cookies()  # the session ran out while the page stayed open

    page.get_by_role("button", name="Upload photos").click()
    page.locator("#upload-status", has_text="The upload failed; try again.").wait_for()
    assert page.evaluate("document.querySelector('input[type=file][name=photos]').files.length") == 1
    assert not vehicle.photos.exists()


def test_a_photo_moved_made_main_or_deleted_by_keyboard_keeps_the_focus_on_that_photo(
    login, live_server, page
):
    page.set_default_timeout(15_000)
    member = factories.staff("manager", username="keyboarder")
    vehicle = factories.vehicle()
    photos_upload(
        vehicle=vehicle, files=[images.upload(f"{n}.png", images.shot(n)) for n in range(4)], process_now=True
    )
    first, second, third, fourth = vehicle.photos.all()
    login(member.user.username, factories.PASSWORD)
    page.goto(f"{live_server.url}/inventory/{vehicle.pk}/")
    page.evaluate("window.samePage = true")  # gone if a button posted the whole page instead

    def press(button_name: str, *, then_order: list) -> dict:
        """Enter on a button of the grid; what has the focus once the grid is redrawn and settled."""
        page.get_by_role("button", name=button_name, exact=True).focus()
        page.keyboard.press("Enter")
        page.wait_for_function(
            "order => [...document.querySelectorAll('#photo-grid .photo-card')].map(c => +c.dataset.photoId)"
            ".join() === order.join() && !document.querySelector('.htmx-added, .htmx-settling')",
            arg=[photo.pk for photo in then_order],
        )
        assert page.evaluate("window.samePage")
        return page.evaluate(
            """() => ({tag: document.activeElement.tagName,
                       photo: +document.activeElement.closest('.photo-card')?.dataset.photoId,
                       name: document.activeElement.id})"""
        )

    # Each button says which photo it acts on, by its place in the grid.
    for name in ("Move down Photo 1", "Delete Photo 1", "Move up Photo 2", "Main Photo 2", "Delete Photo 4"):
        assert page.get_by_role("button", name=name, exact=True).count() == 1, name

    # The same button of the same photo, now one place further down: Enter again moves it again.
    focus = press("Move down Photo 1", then_order=[second, first, third, fourth])
    assert focus == {"tag": "BUTTON", "photo": first.pk, "name": f"photo-{first.pk}-down"}
    # Moved to the end it has no "Move down" any more: focus stays on one of its own buttons.
    press("Move down Photo 2", then_order=[second, third, first, fourth])
    focus = press("Move down Photo 3", then_order=[second, third, fourth, first])
    assert (focus["tag"], focus["photo"]) == ("BUTTON", first.pk)
    # Made the main photo, it is first and has no "Main" button: focus stays with it.
    focus = press("Main Photo 3", then_order=[fourth, second, third, first])
    assert (focus["tag"], focus["photo"]) == ("BUTTON", fourth.pk)
    # Deleted, it is gone: focus goes to the photo that took its place, not back to the top of the page.
    page.once("dialog", lambda dialog: dialog.accept())
    focus = press("Delete Photo 2", then_order=[fourth, third, first])
    assert (focus["tag"], focus["photo"]) == ("BUTTON", third.pk)
