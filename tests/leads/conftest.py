import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_cache():
    """Counts cached by one test must not show up in the next."""
    cache.clear()
    yield
    cache.clear()
