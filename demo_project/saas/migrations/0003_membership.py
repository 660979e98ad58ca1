"""A user may belong to several organizations: ``Profile`` becomes ``Membership``.

The rows are kept as they are (one membership per existing profile). Reversing keeps each
user's first membership only, as a profile holds one.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def keep_first_memberships(apps, schema_editor):
    """Before a user may hold one membership again: drop all but each user's first."""
    Membership = apps.get_model('saas', 'Membership')
    firsts = Membership.objects.values('user').annotate(first=models.Min('pk')).values('first')
    Membership.objects.exclude(pk__in=firsts).delete()


class Migration(migrations.Migration):

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('saas', '0002_invoice'),
    ]

    operations = [
        migrations.RenameModel(old_name='Profile', new_name='Membership'),
        migrations.AlterModelOptions(name='membership', options={'ordering': ['pk']}),
        migrations.AlterField(
            model_name='membership',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='membership',
            constraint=models.UniqueConstraint(fields=('user', 'organization'), name='saas_membership_unique_user_organization'),
        ),
        migrations.RunPython(migrations.RunPython.noop, keep_first_memberships),
    ]
