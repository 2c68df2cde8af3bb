"""Nothing: this step only ever added an index for another database vendor, which
Vigie no longer supports. Kept so that the migrations that depend on it still apply."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("clients", "0003_portfolio_firm_search")]

    operations = []
