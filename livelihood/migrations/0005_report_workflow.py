"""
The monthly report workflow: who saved a report last and when (the refusal of a concurrent
edit names them), and the record of reminders sent (one per unit and day).

Only nullable columns added and a new table: SQLite adds the columns with ALTER TABLE ... ADD
COLUMN instead of rebuilding livelihood_monthlyreport, so the triggers of 0002 stay in place
(tests/test_constraints.py checks them).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("livelihood", "0004_history_and_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalmonthlyreport",
            name="updated_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="最后保存时间"),
        ),
        migrations.AddField(
            model_name="historicalmonthlyreport",
            name="updated_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="最后保存人",
            ),
        ),
        migrations.AddField(
            model_name="monthlyreport",
            name="updated_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="最后保存时间"),
        ),
        migrations.AddField(
            model_name="monthlyreport",
            name="updated_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="最后保存人",
            ),
        ),
        migrations.CreateModel(
            name="ReminderLog",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField(verbose_name="提醒日期")),
                (
                    "sent_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="发送时间"
                    ),
                ),
                ("recipients", models.TextField(blank=True, verbose_name="收件人")),
                ("reports", models.TextField(blank=True, verbose_name="提醒事项")),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminders",
                        to="livelihood.leadunit",
                        verbose_name="牵头单位",
                    ),
                ),
            ],
            options={
                "verbose_name": "催报记录",
                "verbose_name_plural": "催报记录",
                "ordering": ["-date", "unit__order"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("unit", "date"), name="reminder_once_per_unit_day"
                    )
                ],
            },
        ),
    ]
