from django.core.management.base import BaseCommand

from loyalty.services import claim_photos_secure


class Command(BaseCommand):
    help = (
        "Move receipt-claim photos stored under MEDIA_ROOT (original names, EXIF kept) to the "
        "private storage under random names, without EXIF. Safe to run again."
    )

    def handle(self, *args, **options):
        counts = claim_photos_secure()
        self.stdout.write(" ".join(f"{name}={value}" for name, value in counts.items()))
