from django.core.management.base import BaseCommand, CommandError

from pos.services import pos_terminal_create
from stores.models import Store


class Command(BaseCommand):
    help = "Create a POS terminal for a store and print its id and secret (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("--store", required=True, help="store code, e.g. S01")
        parser.add_argument("--name", required=True, help="e.g. 'B1 超市收银 03'")

    def handle(self, *args, store, name, **options):
        found = Store.objects.filter(code=store).first()
        if found is None:
            raise CommandError(f"no store with code {store!r}")
        terminal = pos_terminal_create(store=found, name=name)
        self.stdout.write(f"terminal_id={terminal.terminal_id} secret={terminal.secret}")
