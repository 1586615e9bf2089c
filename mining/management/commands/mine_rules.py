from datetime import date

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import ServiceError
from mining.models import Algorithm, Level, MiningRun
from mining.services import mining_run_create, mining_run_execute


class Command(BaseCommand):
    help = (
        "Mine association rules from the receipts (one receipt = one basket) and store the "
        "run; prints its id."
    )

    def add_arguments(self, parser):
        parser.add_argument("--level", choices=Level.values, default=Level.SKU)
        parser.add_argument("--min-support", type=float, default=0.01, metavar="S")
        parser.add_argument("--min-confidence", type=float, default=0.5, metavar="C")
        parser.add_argument("--min-lift", type=float, default=0.0, metavar="L")
        parser.add_argument("--max-len", type=int, default=None, metavar="K")
        parser.add_argument("--since", type=date.fromisoformat, default=None, metavar="DATE")
        parser.add_argument("--until", type=date.fromisoformat, default=None, metavar="DATE")
        parser.add_argument("--keep-single-item-baskets", action="store_true")
        parser.add_argument("--algorithm", choices=Algorithm.values, default=Algorithm.FPGROWTH)

    def handle(self, *args, **options):
        try:
            run = mining_run_create(
                trigger=MiningRun.Trigger.COMMAND,
                level=options["level"],
                algorithm=options["algorithm"],
                min_support=options["min_support"],
                min_confidence=options["min_confidence"],
                min_lift=options["min_lift"],
                max_len=options["max_len"],
                keep_single_item_baskets=options["keep_single_item_baskets"],
                since=options["since"],
                until=options["until"],
            )
        except ServiceError as error:
            raise CommandError(str(error)) from error
        run = mining_run_execute(run_id=run.pk)
        if run.status != MiningRun.Status.DONE:
            raise CommandError(f"mining run {run.pk} failed: {run.error}")
        self.stderr.write(
            f"mining run {run.pk}: baskets={run.basket_count} items={run.item_count} "
            f"itemsets={run.itemset_count} rules={run.rule_count} "
            f"seconds={run.duration_ms / 1000:.1f}"
        )
        self.stdout.write(str(run.pk))
