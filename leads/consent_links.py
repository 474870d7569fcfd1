from django.core import signing
from django.urls import reverse


def unsubscribe_url(customer) -> str:
    token = signing.dumps({"c": customer.pk}, salt="unsubscribe")
    return reverse("unsubscribe", args=[token])
