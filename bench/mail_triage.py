"""Speed of reading and triaging inbound mail, as a ratio to the standard library's own parse.

    DJANGO_SETTINGS_MODULE=dealership.settings.test .venv/bin/python bench/mail_triage.py

The baseline (email.parser with policy.default, then the body's content) is measured in the same
run on the same messages, so the ratio holds from one machine to another.
"""

import os
import sys
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealership.settings.test")

import django  # noqa: E402

django.setup()

from leads.mail.adf import parse_adf  # noqa: E402
from leads.mail.parsing import parse_message  # noqa: E402
from leads.mail.triage import triage  # noqa: E402
from tests import factories  # noqa: E402


def corpus() -> list[bytes]:
    messages = [path.read_bytes() for path in sorted(factories.MAIL_SAMPLES.glob("*.eml"))]
    messages += [
        factories.mail(text="Is the 2026 RAV4 still available? What is your best price? 416-555-0111"),
        factories.mail(text=None, html="<p>Bonjour, je voudrais une <b>vidange</b> svp.</p>" * 20),
        factories.mail(text="See attached", attachments=[("photo.jpg", "image/jpeg", os.urandom(200_000))]),
    ]
    return messages


def baseline(raw: bytes) -> None:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    body = message.get_body(("plain", "html"))
    if body is not None:
        body.get_content()


def ours(raw: bytes) -> None:
    triage(parse_message(raw), rules=[])


def best_of(function, messages, rounds=5, repeat=20) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeat):
            for raw in messages:
                function(raw)
        timings.append(time.perf_counter() - started)
    return min(timings) / (repeat * len(messages))


def billion_laughs() -> str:
    bomb, previous = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">', "lol"
    for level in range(1, 10):
        bomb += f'<!ENTITY lol{level} "{("&" + previous + ";") * 10}">'
        previous = f"lol{level}"
    return bomb + f"]><adf><prospect><customer><comments>&{previous};</comments></customer></prospect></adf>"


if __name__ == "__main__":
    messages = corpus()
    base, mine = best_of(baseline, messages), best_of(ours, messages)
    print(f"messages: {len(messages)}")
    print(f"stdlib parse: {base * 1000:.2f} ms/message")
    print(f"parse_message + triage: {mine * 1000:.2f} ms/message")
    print(f"ratio: {mine / base:.1f}x the standard library's parse")
    adf = factories.sample_mail("autotrader_adf.eml").partition(b"\n\n")[2].decode()
    normal, bomb = best_of(parse_adf, [adf]), best_of(parse_adf, [billion_laughs()])
    print(f"parse_adf, a real lead: {normal * 1e6:.0f} µs; an entity bomb refused in {bomb * 1e6:.0f} µs")
    print(f"ratio: the bomb costs {bomb / normal:.4f}x a real lead")
