"""Keep leads_leadhourstats in step with leads_lead on PostgreSQL (the dashboard's summary table).

Each row of leads_lead counts once in the stats row of its (hour received, source, owner): an insert
adds it, a delete takes it away, an update of a counted column moves it. On other databases the
dashboard counts the leads directly and this migration does nothing.
"""

from django.db import migrations

EDGES = [5, 15, 30, 60, 240, 1440]
COLUMNS = ["leads", "contacted", "appointment_set", "shown", "sold", "answered"] + [
    f"answered_within_{edge}" for edge in EDGES
]


# The summary row a lead counts in, by when it was received (`{}`: the received_at column).
HOUR_BUCKET = "date_trunc('hour', {})"


def _values(row: str, sign: str, bucket: str = HOUR_BUCKET) -> str:
    minutes = f"{row}.first_response_business_minutes"
    counts = [
        "1",
        f"({row}.contacted_at IS NOT NULL)::int",
        f"({row}.appointment_set_at IS NOT NULL)::int",
        f"({row}.shown_at IS NOT NULL)::int",
        f"({row}.sold_at IS NOT NULL)::int",
        f"({minutes} IS NOT NULL)::int",
    ] + [f"(COALESCE({minutes} <= {edge}, false))::int" for edge in EDGES]
    return (
        f"INSERT INTO leads_leadhourstats (hour, source, owner_key, {', '.join(COLUMNS)}) "
        f"VALUES ({bucket.format(f'{row}.received_at')}, {row}.source, COALESCE({row}.owner_id, 0), "
        + ", ".join(f"{sign}{count}" for count in counts)
        + ") ON CONFLICT (hour, source, owner_key) DO UPDATE SET "
        + ", ".join(f"{column} = leads_leadhourstats.{column} + EXCLUDED.{column}" for column in COLUMNS)
        + ";"
    )


TRIGGER_SQL = f"""
CREATE OR REPLACE FUNCTION leads_lead_hour_stats() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_values("OLD", "-")}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {_values("NEW", "")}
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER leads_lead_hour_stats_insert_delete AFTER INSERT OR DELETE ON leads_lead
    FOR EACH ROW EXECUTE FUNCTION leads_lead_hour_stats();
CREATE TRIGGER leads_lead_hour_stats_update
    AFTER UPDATE OF received_at, source, owner_id, contacted_at, appointment_set_at, shown_at, sold_at,
        first_response_business_minutes ON leads_lead
    FOR EACH ROW EXECUTE FUNCTION leads_lead_hour_stats();

INSERT INTO leads_leadhourstats (hour, source, owner_key, {", ".join(COLUMNS)})
SELECT date_trunc('hour', received_at), source, COALESCE(owner_id, 0), count(*), count(contacted_at),
       count(appointment_set_at), count(shown_at), count(sold_at), count(first_response_business_minutes),
       {", ".join(f"count(*) FILTER (WHERE first_response_business_minutes <= {edge})" for edge in EDGES)}
FROM leads_lead GROUP BY 1, 2, 3;
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS leads_lead_hour_stats_insert_delete ON leads_lead;
DROP TRIGGER IF EXISTS leads_lead_hour_stats_update ON leads_lead;
DROP FUNCTION IF EXISTS leads_lead_hour_stats();
DELETE FROM leads_leadhourstats;
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("leads", "0003_lead_hour_stats")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
