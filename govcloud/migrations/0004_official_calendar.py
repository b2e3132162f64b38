"""The official working-day calendar moves from ``sla`` into the core (DESIGN §2).

On a database migrated before the move, ``sla.0001`` created ``sla_calendaryear`` and
``sla_calendarday`` and ``sla.0002`` filled them: the tables are renamed here, rows and all.
On a new database they are created here (``sla.0001`` is state-only now) and
``govcloud.0005`` fills them. ``sla.0005`` then drops the models from sla's state.
"""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

OLD_TABLES = {"CalendarYear": "sla_calendaryear", "CalendarDay": "sla_calendarday"}


def adopt_or_create(apps, schema_editor):
    existing = set(schema_editor.connection.introspection.table_names())
    for name in ("CalendarYear", "CalendarDay"):  # the year first: the day points at it
        model = apps.get_model("govcloud", name)
        old = OLD_TABLES[name]
        if old in existing:
            schema_editor.alter_db_table(model, old, model._meta.db_table)
        else:
            schema_editor.create_model(model)


def give_back(apps, schema_editor):
    for name in ("CalendarDay", "CalendarYear"):
        model = apps.get_model("govcloud", name)
        schema_editor.alter_db_table(model, model._meta.db_table, OLD_TABLES[name])


class Migration(migrations.Migration):
    dependencies = [("govcloud", "0003_business_systems_and_outbox")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CalendarYear',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('year', models.PositiveSmallIntegerField(unique=True, validators=[django.core.validators.MinValueValidator(2000), django.core.validators.MaxValueValidator(2100)], verbose_name='年度')),
                        ('source', models.CharField(help_text='国务院办公厅通知的文号，如“国办发明电〔2025〕7号”，或“chinesecalendar 1.11.0”。', max_length=200, verbose_name='依据')),
                        ('notice_url', models.URLField(blank=True, verbose_name='通知链接')),
                        ('notes', models.TextField(blank=True, verbose_name='备注')),
                        ('loaded_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='载入时间')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
                        ('version', models.PositiveIntegerField(default=1, editable=False, verbose_name='版本')),
                    ],
                    options={
                        'verbose_name': '法定节假日',
                        'verbose_name_plural': '法定节假日',
                        'ordering': ['-year'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('year__gte', 2000), ('year__lte', 2100)), name='calendar_year_in_range', violation_error_message='年度必须在 2000 与 2100 之间。')],
                    },
                ),
                migrations.CreateModel(
                    name='CalendarDay',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('date', models.DateField(unique=True, verbose_name='日期')),
                        ('kind', models.CharField(choices=[('holiday', '放假'), ('workday', '调休上班')], max_length=10, verbose_name='类型')),
                        ('name', models.CharField(help_text='如“国庆节”；调休上班日填所属节日。', max_length=40, verbose_name='节日')),
                        ('calendar_year', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='days', to='govcloud.calendaryear', to_field='year', verbose_name='年度')),
                    ],
                    options={
                        'verbose_name': '放假与调休日期',
                        'verbose_name_plural': '放假与调休日期',
                        'ordering': ['date'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('kind__in', ['holiday', 'workday'])), name='calendar_day_kind_valid', violation_error_message='类型必须是放假或调休上班。'), models.CheckConstraint(condition=models.Q(('date__year', models.F('calendar_year'))), name='calendar_day_in_its_year', violation_error_message='日期必须在所属年度之内。')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(adopt_or_create, give_back),
    ]
