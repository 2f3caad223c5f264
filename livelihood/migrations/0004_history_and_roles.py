"""History tables (django-simple-history) for items, indicators, planned values, reports,
figures and milestones, and the two staff groups.

Only new tables: nothing existing is altered, so SQLite does not rebuild figure, indicator or
monthlyreport and the triggers of 0002 stay in place. The groups' permissions are set after
every migrate by livelihood/roles.py (post_migrate), when every permission exists; here the
groups are created, and the demo's former "牵头单位" group takes the new name.
"""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


COORDINATOR_GROUP = "区民生办"
UNIT_GROUP = "牵头单位填报员"
FORMER_UNIT_GROUP = "牵头单位"


def groups_create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    groups = Group.objects.using(schema_editor.connection.alias)
    if not groups.filter(name=UNIT_GROUP).exists():
        groups.filter(name=FORMER_UNIT_GROUP).update(name=UNIT_GROUP)
    for name in (COORDINATOR_GROUP, UNIT_GROUP):
        groups.get_or_create(name=name)


class Migration(migrations.Migration):

    dependencies = [
        ('livelihood', '0003_add_publication_version'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(groups_create, migrations.RunPython.noop),
        migrations.CreateModel(
            name='HistoricalFigure',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('value', models.DecimalField(decimal_places=4, max_digits=16, verbose_name='数值（基本单位）')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='备注')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('indicator', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='livelihood.indicator', verbose_name='指标')),
                ('report', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='livelihood.monthlyreport', verbose_name='月度报告')),
                ('street', models.ForeignKey(blank=True, db_constraint=False, help_text='留空表示全区合计。', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='livelihood.street', verbose_name='街镇')),
            ],
            options={
                'verbose_name': '填报数值历史',
                'verbose_name_plural': '填报数值历史',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalIndicator',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('number', models.PositiveSmallIntegerField(default=1, verbose_name='序号')),
                ('name', models.CharField(max_length=200, verbose_name='指标')),
                ('kind', models.CharField(choices=[('count', '累计数'), ('rate', '比率'), ('standard', '标准'), ('qualitative', '定性')], max_length=20, verbose_name='类型')),
                ('comparator', models.CharField(blank=True, choices=[('gte', '≥'), ('eq', '='), ('approx', '≈'), ('lte', '≤')], max_length=10, verbose_name='比较')),
                ('target', models.DecimalField(blank=True, decimal_places=4, max_digits=14, null=True, verbose_name='目标值（按原文单位）')),
                ('unit', models.CharField(blank=True, help_text='例如 万人、%、个。', max_length=20, verbose_name='单位（原文）')),
                ('unit_inferred', models.BooleanField(default=False, help_text='来源页面缺失单位，按文意补足。', verbose_name='单位据文意补足')),
                ('scale', models.PositiveIntegerField(default=1, editable=False, help_text='原文单位折合基本单位的倍数，随单位自动确定：万 为 10000。', verbose_name='单位倍数')),
                ('baseline', models.DecimalField(blank=True, decimal_places=4, max_digits=16, null=True, verbose_name='基数（基本单位）')),
                ('weight', models.DecimalField(decimal_places=2, default=Decimal('1'), max_digits=6, validators=[django.core.validators.MinValueValidator(Decimal('0.01'))], verbose_name='权重')),
                ('has_street_breakdown', models.BooleanField(default=False, verbose_name='分街镇填报')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('item', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='livelihood.item', verbose_name='事项')),
            ],
            options={
                'verbose_name': '指标历史',
                'verbose_name_plural': '指标历史',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalItem',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('code', models.CharField(help_text='领域序号-事项序号，例如 3-2。', max_length=10, verbose_name='编号')),
                ('title', models.CharField(max_length=200, verbose_name='事项')),
                ('source_text', models.TextField(blank=True, help_text='来源文件中关于本事项的原句。', verbose_name='文件原文')),
                ('lead_unit_provisional', models.BooleanField(default=False, help_text='来源文件未写明牵头单位，此分工为暂定。', verbose_name='牵头单位待确认')),
                ('weight', models.DecimalField(decimal_places=2, default=Decimal('1'), max_digits=6, validators=[django.core.validators.MinValueValidator(Decimal('0.01'))], verbose_name='权重')),
                ('order', models.PositiveSmallIntegerField(default=0, verbose_name='排序')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('domain', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='livelihood.domain', verbose_name='领域')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('lead_unit', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='livelihood.leadunit', verbose_name='牵头单位')),
                ('plan', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='livelihood.plan', verbose_name='年度计划')),
            ],
            options={
                'verbose_name': '民生实事历史',
                'verbose_name_plural': '民生实事历史',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalMilestone',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('number', models.PositiveSmallIntegerField(default=1, verbose_name='序号')),
                ('title', models.CharField(max_length=200, verbose_name='节点')),
                ('planned_on', models.DateField(verbose_name='计划完成日期')),
                ('done_on', models.DateField(blank=True, null=True, verbose_name='实际完成日期')),
                ('is_demo', models.BooleanField(db_index=True, default=False, verbose_name='演示数据')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('item', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='livelihood.item', verbose_name='事项')),
                ('reported_in', models.ForeignKey(blank=True, db_constraint=False, help_text='完成情况随该月报告审核后公开。', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='livelihood.monthlyreport', verbose_name='报告于')),
            ],
            options={
                'verbose_name': '节点历史',
                'verbose_name_plural': '节点历史',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalPlannedValue',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('month', models.DateField(verbose_name='月份')),
                ('value', models.DecimalField(decimal_places=4, max_digits=16, verbose_name='计划累计值（基本单位）')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('indicator', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='livelihood.indicator', verbose_name='指标')),
            ],
            options={
                'verbose_name': '月度计划值历史',
                'verbose_name_plural': '月度计划值历史',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalMonthlyReport',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('month', models.DateField(help_text='报告所属月份（取当月1日）。', verbose_name='月份')),
                ('state', models.CharField(choices=[('draft', '草稿'), ('submitted', '已报送'), ('approved', '已审核'), ('returned', '已退回')], db_index=True, default='draft', max_length=20, verbose_name='状态')),
                ('narrative', models.TextField(blank=True, verbose_name='进展情况')),
                ('delay_reason', models.CharField(blank=True, choices=[('funds', '资金未到位'), ('procedures', '手续办理中'), ('seasonal', '季节性因素'), ('policy', '政策调整'), ('other', '其他')], max_length=20, verbose_name='滞后原因')),
                ('delay_note', models.TextField(blank=True, verbose_name='滞后说明')),
                ('confidence', models.PositiveSmallIntegerField(blank=True, choices=[(1, '把握不大'), (2, '基本有把握'), (3, '有把握按期完成')], null=True, verbose_name='完成把握')),
                ('return_reason', models.TextField(blank=True, verbose_name='退回原因')),
                ('version', models.PositiveIntegerField(default=1, help_text='每次保存加一；保存时版本不符说明他人已修改。', verbose_name='版本')),
                ('is_demo', models.BooleanField(db_index=True, default=False, verbose_name='演示数据')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='创建时间')),
                ('submitted_at', models.DateTimeField(blank=True, null=True, verbose_name='报送时间')),
                ('reviewed_at', models.DateTimeField(blank=True, null=True, verbose_name='审核时间')),
                ('reopened_at', models.DateTimeField(blank=True, null=True, verbose_name='重新打开时间')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('created_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='填报人')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('item', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='livelihood.item', verbose_name='事项')),
                ('reopened_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='重新打开人')),
                ('reviewed_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='审核人')),
                ('submitted_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='报送人')),
            ],
            options={
                'verbose_name': '月度报告历史',
                'verbose_name_plural': '月度报告历史',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
    ]
