from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from coupons.issuing import CouponError, campaign_get_or_create, coupons_issue_bulk
from coupons.models import Campaign, CouponTemplate
from members.cards import card_nos_parse
from members.models import Member


class Command(BaseCommand):
    help = (
        "Issue one coupon of TEMPLATE to each card number in CARDS.txt (one a line), within the "
        "template's limits; prints card_no,code for every coupon issued."
    )

    def add_arguments(self, parser):
        parser.add_argument("template", help="the coupon template's code, e.g. WELCOME10")
        parser.add_argument("cards", type=Path, help="a text file, one card number a line")
        parser.add_argument("--campaign", default="", help="campaign name (default: file name)")

    def handle(self, *args, template, cards, campaign, **options):
        found = CouponTemplate.objects.filter(code=template).first()
        if found is None:
            raise CommandError(f"no coupon template with code {template!r}")
        try:
            text = cards.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {cards}: {exc}") from None
        parsed = card_nos_parse(text)
        for number, _entry, error in parsed.errors:
            self.stderr.write(f"line {number}: card_no: {error}")
        members = dict(
            Member.objects.filter(
                card_no__in=parsed.cards, status=Member.Status.ACTIVE
            ).values_list("card_no", "pk")
        )
        for card_no, number in parsed.lines.items():
            if card_no not in members:
                self.stderr.write(f"line {number}: no active member with card number {card_no}")
        name = campaign or f"{cards.name} {timezone.localtime():%Y-%m-%d %H:%M}"
        try:
            issued = coupons_issue_bulk(
                template=found,
                member_ids=[members[c] for c in parsed.cards if c in members],
                campaign=campaign_get_or_create(channel=Campaign.Channel.MANUAL, name=name),
            )
        except CouponError as exc:
            raise CommandError(str(exc.message)) from None
        card_of = {pk: card_no for card_no, pk in members.items()}
        for member_id, code in issued:
            self.stdout.write(f"{card_of[member_id]},{code}")
        left_out = len(members) - len(issued)
        if left_out:
            self.stderr.write(
                f"{left_out} member(s) got no coupon: per-member limit or quantity used up"
            )
