"""Request handling every page shares."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django.utils.cache import add_never_cache_headers, patch_vary_headers
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


def personal_pages_not_stored(get_response):
    """Nothing shown to someone logged in is kept by the browser:
    - pages: htmx changes them in place (a call logged, the inbox refreshed, a search typed), and
      Back would bring the copy as first loaded;
    - files (attachments, exports, original mail, business cards): showroom computers are shared,
      and the next person would find them in the browser's cache.
    What visitors see (public offers and vehicles, feeds, published photos) keeps its caching; the
    session is read only where the page read it already, so no page gains a Vary: Cookie from this."""

    def middleware(request):
        response = get_response(request)
        if (
            not response.has_header("Cache-Control")
            and request.session.accessed
            and request.user.is_authenticated
        ):
            add_never_cache_headers(response)
        return response

    return middleware
