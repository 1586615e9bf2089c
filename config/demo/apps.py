from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo loader (`manage.py seed_demo`): it fills every app, so it sits above them all,
    in the composition root beside the settings that list them."""

    name = "config.demo"
    label = "demo"
