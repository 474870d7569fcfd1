"""The default price and financing templates, where a store still has them as they came: the price
template says whether the vehicle is available ({{ availability }}) instead of "It is available, at
{{ price }}." whatever the stock says and even with no price; the financing one no longer puts an
empty "()" where a price is missing. Edited templates are left as they are."""

from django.db import migrations

OLD_TO_NEW = {
    "Hello {{ first_name }},\n\nThank you for your interest in the {{ vehicle }}. It is available, "
    "at {{ price }}.\n{{ photo_links }}\nWhen would you like to come and see it? I can hold it for "
    "you.\n\n{{ signature }}": "Hello {{ first_name }},\n\nThank you for your interest in the {{ vehicle }}. "
    "{{ availability }}\n{{ photo_links }}\nWhen would you like to come and see it?\n\n{{ signature }}",
    "Bonjour {{ first_name }},\n\nMerci de votre intérêt pour le {{ vehicle }}. Il est disponible, "
    "au prix de {{ price }}.\n{{ photo_links }}\nQuand aimeriez-vous venir le voir? Je peux le "
    "réserver pour vous.\n\n{{ signature }}": "Bonjour {{ first_name }},\n\nMerci de votre intérêt pour le "
    "{{ vehicle }}. {{ availability }}\n{{ photo_links }}\nQuand aimeriez-vous venir le voir?\n\n{{ signature }}",
    "Hello {{ first_name }},\n\nThank you for asking about financing the {{ vehicle }} ({{ price }}). "
    "Tell me your preferred term and down payment and I will send you the exact finance and lease "
    "payments.\n\n{{ signature }}": "Hello {{ first_name }},\n\nThank you for asking about financing the "
    "{{ vehicle }}. Tell me your preferred term and down payment and I will send you the exact finance "
    "and lease payments.\n\n{{ signature }}",
    "Bonjour {{ first_name }},\n\nMerci de votre demande de financement pour le {{ vehicle }} "
    "({{ price }}). Indiquez-moi la durée et le comptant souhaités et je vous enverrai les "
    "paiements exacts, en financement et en location.\n\n{{ signature }}": "Bonjour {{ first_name }},\n\n"
    "Merci de votre demande de financement pour le {{ vehicle }}. Indiquez-moi la durée et le comptant "
    "souhaités et je vous enverrai les paiements exacts, en financement et en location.\n\n{{ signature }}",
}


def update_unedited_defaults(apps, schema_editor):
    ReplyTemplate = apps.get_model("leads", "ReplyTemplate")
    for old, new in OLD_TO_NEW.items():
        ReplyTemplate.objects.filter(body=old).update(body=new)


class Migration(migrations.Migration):
    dependencies = [("leads", "0016_attachments_private_storage")]

    operations = [migrations.RunPython(update_unedited_defaults, migrations.RunPython.noop)]
