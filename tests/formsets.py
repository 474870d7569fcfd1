"""Posting a page's forms as a browser would: a formset with its management form and every form
as shown; the lead page's reply composer as filled in."""

import html
import re


def formset_data(formset) -> dict:
    """The fields a browser sends for this formset, each form with the values it was shown with."""
    prefix = formset.prefix
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(formset.forms)),
        f"{prefix}-INITIAL_FORMS": str(formset.initial_form_count()),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, form in enumerate(formset.forms):
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if value is not None and value is not False:
                data[f"{prefix}-{index}-{name}"] = value
    return data


def composer_fields(page: str) -> dict:
    """The lead page's reply form as the page fills it in."""
    return {
        name: html.unescape(re.search(pattern, page, re.S).group(1))
        for name, pattern in (
            ("subject", r'name="subject"[^>]*value="([^"]*)"'),
            ("body", r'name="body"[^>]*>(.*?)</textarea>'),
            ("language", r'name="language" value="(\w+)"'),
            ("shown_answer", r'name="shown_answer" value="(\d+)"'),
            ("unavailable_shown", r'name="unavailable_shown" value="([\d,]*)"'),
        )
    }
