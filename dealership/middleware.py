"""Request handling every page shares."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect


def htmx_fragments(get_response):
    """Pages that answer htmx with a fragment of themselves:
    - the answer varies with HX-Request, so the browser's cache never shows a fragment as the page
      (Back after a refresh);
    - a fragment asked for once the session has ended (an inbox left open overnight) sends the
      whole page to the login page, and back to that page afterwards, instead of the login page
      being swapped in where the fragment goes and the refresh stopping."""

    def middleware(request):
        response = get_response(request)
        if (
            request.htmx
            and response.status_code == 302
            and response["Location"].startswith(resolve_url(settings.LOGIN_URL))
        ):
            page = request.htmx.current_url_abs_path or request.get_full_path()
            response = HttpResponseClientRedirect(redirect_to_login(page)["Location"])
        patch_vary_headers(response, ("HX-Request",))
        return response

    return middleware
