"""The default price, financing and test-drive templates, where a store still has them as they came:
each says what the stock says ({{ availability }}), which now carries the invitation to come and see
the vehicle, so that a sold or held vehicle is never said "ready for your test drive" nor offered for
a viewing: a similar one is, instead. French ones written before French typography (a plain "?")
are updated too. Edited templates are left as they are."""

from django.db import migrations

_PRICE_EN = (
    "Hello {{ first_name }},\n\nThank you for your interest in the {{ vehicle }}. {{ availability }}\n"
    "{{ photo_links }}\n\n{{ signature }}"
)
_PRICE_FR = (
    "Bonjour {{ first_name }},\n\nMerci de votre intérêt pour le {{ vehicle }}. {{ availability }}\n"
    "{{ photo_links }}\n\n{{ signature }}"
)
_FINANCING_EN = (
    "Hello {{ first_name }},\n\nThank you for asking about financing the {{ vehicle }}. {{ availability }}\n"
    "Tell me your preferred term and down payment and I will send you the exact finance and lease "
    "payments.\n\n{{ signature }}"
)
_FINANCING_FR = (
    "Bonjour {{ first_name }},\n\nMerci de votre demande de financement pour le {{ vehicle }}. "
    "{{ availability }}\nIndiquez-moi la durée et le comptant souhaités et je vous enverrai les "
    "paiements exacts, en financement et en location.\n\n{{ signature }}"
)
_TEST_DRIVE_EN = (
    "Hello {{ first_name }},\n\nThank you for asking to test drive the {{ vehicle }}. {{ availability }}\n"
    "We are at {{ store_address }}, {{ store_phone }}.\n\n{{ signature }}"
)
_TEST_DRIVE_FR = (
    "Bonjour {{ first_name }},\n\nMerci de votre demande d'essai routier du {{ vehicle }}. "
    "{{ availability }}\nNous sommes au {{ store_address }}, {{ store_phone }}.\n\n{{ signature }}"
)

OLD_TO_NEW = {
    "Hello {{ first_name }},\n\nThank you for your interest in the {{ vehicle }}. {{ availability }}\n"
    "{{ photo_links }}\nWhen would you like to come and see it?\n\n{{ signature }}": _PRICE_EN,
    "Bonjour {{ first_name }},\n\nMerci de votre intérêt pour le {{ vehicle }}. {{ availability }}\n"
    "{{ photo_links }}\nQuand aimeriez-vous venir le voir\u00a0?\n\n{{ signature }}": _PRICE_FR,
    "Bonjour {{ first_name }},\n\nMerci de votre intérêt pour le {{ vehicle }}. {{ availability }}\n"
    "{{ photo_links }}\nQuand aimeriez-vous venir le voir?\n\n{{ signature }}": _PRICE_FR,
    "Hello {{ first_name }},\n\nThank you for asking about financing the {{ vehicle }}. Tell me your "
    "preferred term and down payment and I will send you the exact finance and lease payments.\n\n"
    "{{ signature }}": _FINANCING_EN,
    "Bonjour {{ first_name }},\n\nMerci de votre demande de financement pour le {{ vehicle }}. "
    "Indiquez-moi la durée et le comptant souhaités et je vous enverrai les paiements exacts, en "
    "financement et en location.\n\n{{ signature }}": _FINANCING_FR,
    "Hello {{ first_name }},\n\nThe {{ vehicle }} is ready for your test drive. Which day and time "
    "suit you? We are at {{ store_address }}, {{ store_phone }}.\n\n{{ signature }}": _TEST_DRIVE_EN,
    "Bonjour {{ first_name }},\n\nLe {{ vehicle }} est prêt pour votre essai routier. Quel jour et "
    "quelle heure vous conviennent\u00a0? Nous sommes au {{ store_address }}, {{ store_phone }}."
    "\n\n{{ signature }}": _TEST_DRIVE_FR,
    "Bonjour {{ first_name }},\n\nLe {{ vehicle }} est prêt pour votre essai routier. Quel jour et "
    "quelle heure vous conviennent? Nous sommes au {{ store_address }}, {{ store_phone }}."
    "\n\n{{ signature }}": _TEST_DRIVE_FR,
}


def update_unedited_defaults(apps, schema_editor):
    ReplyTemplate = apps.get_model("leads", "ReplyTemplate")
    for old, new in OLD_TO_NEW.items():
        ReplyTemplate.objects.filter(body=old).update(body=new)


class Migration(migrations.Migration):
    dependencies = [("leads", "0029_inbox_search_vin_ends_and_extra_contacts")]

    operations = [migrations.RunPython(update_unedited_defaults, migrations.RunPython.noop)]
