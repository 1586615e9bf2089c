from django.apps import AppConfig


class CompositionConfig(AppConfig):
    """The composition root's own wiring: registries of one layer-6 app filled by another
    that may not import it (the points mall's section on analytics' statistics page)."""

    name = "config"
    label = "composition"

    def ready(self):
        from analytics.statistics import statistics_section_register
        from mall.statistics import top_redeemed_goods

        statistics_section_register(top_redeemed_goods)
