"""
Database triggers for the figure rules a CHECK constraint cannot express, because they
depend on the indicator's row: a figure's indicator belongs to its report's item, a count is
never negative, a rate stays within 0–100. The rules also hold when an indicator or report is
changed after figures exist.

On SQLite, Django rebuilds a table to alter it and the rebuild drops its triggers: a later
migration that alters livelihood_figure, livelihood_indicator or livelihood_monthlyreport must
run this SQL again. tests/test_constraints.py fails if a trigger is missing.
"""

from django.db import migrations

SQLITE_FIGURE_BODY = """
BEGIN
    SELECT RAISE(ABORT, 'figure_indicator_of_report_item: 指标不属于该报告的事项')
    WHERE (SELECT item_id FROM livelihood_indicator WHERE id = NEW.indicator_id)
        IS NOT (SELECT item_id FROM livelihood_monthlyreport WHERE id = NEW.report_id);
    SELECT RAISE(ABORT, 'figure_count_not_negative: 累计数不能为负数')
    WHERE NEW.value < 0
        AND (SELECT kind FROM livelihood_indicator WHERE id = NEW.indicator_id) = 'count';
    SELECT RAISE(ABORT, 'figure_rate_within_0_100: 比率应在 0 到 100 之间')
    WHERE (NEW.value < 0 OR NEW.value > 100)
        AND (SELECT kind FROM livelihood_indicator WHERE id = NEW.indicator_id) = 'rate';
END;
"""

SQLITE_FORWARD = [
    "CREATE TRIGGER livelihood_figure_check_insert BEFORE INSERT ON livelihood_figure"
    + SQLITE_FIGURE_BODY,
    "CREATE TRIGGER livelihood_figure_check_update BEFORE UPDATE ON livelihood_figure"
    + SQLITE_FIGURE_BODY,
    """
    CREATE TRIGGER livelihood_indicator_check_figures
    AFTER UPDATE OF item_id, kind ON livelihood_indicator
    BEGIN
        SELECT RAISE(ABORT, 'figure_indicator_of_report_item: 已有数值的指标不能改属其他事项')
        WHERE EXISTS (
            SELECT 1 FROM livelihood_figure f
            JOIN livelihood_monthlyreport r ON r.id = f.report_id
            WHERE f.indicator_id = NEW.id AND r.item_id IS NOT NEW.item_id);
        SELECT RAISE(ABORT, 'figure_count_not_negative: 已有负数数值，不能改为累计数')
        WHERE NEW.kind = 'count' AND EXISTS (
            SELECT 1 FROM livelihood_figure WHERE indicator_id = NEW.id AND value < 0);
        SELECT RAISE(ABORT, 'figure_rate_within_0_100: 已有超出 0–100 的数值，不能改为比率')
        WHERE NEW.kind = 'rate' AND EXISTS (
            SELECT 1 FROM livelihood_figure
            WHERE indicator_id = NEW.id AND (value < 0 OR value > 100));
    END;
    """,
    """
    CREATE TRIGGER livelihood_report_check_figures
    AFTER UPDATE OF item_id ON livelihood_monthlyreport
    BEGIN
        SELECT RAISE(ABORT, 'figure_indicator_of_report_item: 已有数值的报告不能改属其他事项')
        WHERE EXISTS (
            SELECT 1 FROM livelihood_figure f
            JOIN livelihood_indicator i ON i.id = f.indicator_id
            WHERE f.report_id = NEW.id AND i.item_id IS NOT NEW.item_id);
    END;
    """,
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS livelihood_figure_check_insert;",
    "DROP TRIGGER IF EXISTS livelihood_figure_check_update;",
    "DROP TRIGGER IF EXISTS livelihood_indicator_check_figures;",
    "DROP TRIGGER IF EXISTS livelihood_report_check_figures;",
]

POSTGRES_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION livelihood_figure_check() RETURNS trigger AS $$
    DECLARE
        indicator_item bigint;
        indicator_kind varchar;
        report_item bigint;
    BEGIN
        SELECT item_id, kind INTO indicator_item, indicator_kind
            FROM livelihood_indicator WHERE id = NEW.indicator_id;
        SELECT item_id INTO report_item FROM livelihood_monthlyreport WHERE id = NEW.report_id;
        IF indicator_item IS DISTINCT FROM report_item THEN
            RAISE EXCEPTION 'figure_indicator_of_report_item: 指标不属于该报告的事项'
                USING ERRCODE = 'check_violation';
        END IF;
        IF indicator_kind = 'count' AND NEW.value < 0 THEN
            RAISE EXCEPTION 'figure_count_not_negative: 累计数不能为负数'
                USING ERRCODE = 'check_violation';
        END IF;
        IF indicator_kind = 'rate' AND (NEW.value < 0 OR NEW.value > 100) THEN
            RAISE EXCEPTION 'figure_rate_within_0_100: 比率应在 0 到 100 之间'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER livelihood_figure_check BEFORE INSERT OR UPDATE ON livelihood_figure
        FOR EACH ROW EXECUTE FUNCTION livelihood_figure_check();
    """,
    """
    CREATE OR REPLACE FUNCTION livelihood_indicator_check_figures() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM livelihood_figure f
            JOIN livelihood_monthlyreport r ON r.id = f.report_id
            WHERE f.indicator_id = NEW.id AND r.item_id IS DISTINCT FROM NEW.item_id
        ) THEN
            RAISE EXCEPTION 'figure_indicator_of_report_item: 已有数值的指标不能改属其他事项'
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.kind = 'count' AND EXISTS (
            SELECT 1 FROM livelihood_figure WHERE indicator_id = NEW.id AND value < 0
        ) THEN
            RAISE EXCEPTION 'figure_count_not_negative: 已有负数数值，不能改为累计数'
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.kind = 'rate' AND EXISTS (
            SELECT 1 FROM livelihood_figure
            WHERE indicator_id = NEW.id AND (value < 0 OR value > 100)
        ) THEN
            RAISE EXCEPTION 'figure_rate_within_0_100: 已有超出 0–100 的数值，不能改为比率'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER livelihood_indicator_check_figures
        AFTER UPDATE OF item_id, kind ON livelihood_indicator
        FOR EACH ROW EXECUTE FUNCTION livelihood_indicator_check_figures();
    """,
    """
    CREATE OR REPLACE FUNCTION livelihood_report_check_figures() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM livelihood_figure f
            JOIN livelihood_indicator i ON i.id = f.indicator_id
            WHERE f.report_id = NEW.id AND i.item_id IS DISTINCT FROM NEW.item_id
        ) THEN
            RAISE EXCEPTION 'figure_indicator_of_report_item: 已有数值的报告不能改属其他事项'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER livelihood_report_check_figures
        AFTER UPDATE OF item_id ON livelihood_monthlyreport
        FOR EACH ROW EXECUTE FUNCTION livelihood_report_check_figures();
    """,
]

POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS livelihood_report_check_figures ON livelihood_monthlyreport;",
    "DROP FUNCTION IF EXISTS livelihood_report_check_figures();",
    "DROP TRIGGER IF EXISTS livelihood_indicator_check_figures ON livelihood_indicator;",
    "DROP FUNCTION IF EXISTS livelihood_indicator_check_figures();",
    "DROP TRIGGER IF EXISTS livelihood_figure_check ON livelihood_figure;",
    "DROP FUNCTION IF EXISTS livelihood_figure_check();",
]


def run(statements):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("livelihood", "0001_initial")]

    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        ),
    ]
