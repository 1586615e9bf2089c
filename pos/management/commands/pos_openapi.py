import json

from django.core.management.base import BaseCommand

from pos.openapi import pos_openapi


class Command(BaseCommand):
    help = "Print the POS API's OpenAPI document (docs/pos-api.openapi.json)."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(pos_openapi(), ensure_ascii=False, indent=2))
