from django.apps import AppConfig


class SeedsConfig(AppConfig):
    """Tooling, not runtime: loads the seed plans (fixtures/plans/*.yaml), checks them and
    makes the demo login. No runtime app imports it."""

    name = "seeds"
    verbose_name = "种子数据"
