"""A run over a member segment (women 25–34 against men 35–44, the issue's example) mines only
the baskets of members in it, through analytics' member filter, and compares as two runs."""

from datetime import date

import pytest

from core.roles import Role
from mining.segments import segment_params
from mining.selectors import runs_compare
from mining.services import mining_run_create, mining_run_execute
from tests.members.factories import MemberFactory, StaffFactory
from tests.mining.test_pages import receipt
from tests.mining.test_runs import DRESS, HAT, MILK
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db
BEER = ("啤酒", "青岛", "酒水")


def test_segment_runs_mine_their_members_baskets_only():
    store = StoreFactory(code="S01")
    today = date.today()  # noqa: DTZ011 - ages in whole years; a day either way is fine here
    woman = MemberFactory(gender="F", birthday=date(today.year - 30, 1, 1), home_store=store)
    older_woman = MemberFactory(gender="F", birthday=date(today.year - 50, 1, 1), home_store=store)
    man = MemberFactory(gender="M", birthday=date(today.year - 40, 1, 1), home_store=store)
    for n in range(4):
        receipt(store, f"W{n}", [DRESS, HAT], member=woman)
        receipt(store, f"O{n}", [DRESS, MILK], member=older_woman)
        receipt(store, f"M{n}", [MILK, BEER], member=man)
    receipt(store, "ANON", [DRESS, BEER])  # no member: in no segment
    analyst = StaffFactory(user__role=Role.ANALYST).user

    def run(segment):
        return mining_run_execute(
            run_id=mining_run_create(
                trigger="staff", user=analyst, min_support=0.5, min_confidence=0.5,
                segment=segment, segment_label=str(segment),
            ).pk
        )  # fmt: skip

    women = run(segment_params(gender="F", age_band="25-34"))
    men = run(segment_params(gender="M", age_band="35-44"))
    assert (women.basket_count, men.basket_count) == (4, 4)
    assert not women.is_current and not men.is_current  # segment runs never replace the current
    names = lambda r: {  # noqa: E731
        (tuple(r_.antecedents), tuple(r_.consequents)) for r_ in r.rules.all()
    }
    assert len(names(women)) == 2 and len(names(men)) == 2
    compared = runs_compare(women, men)
    assert len(compared["only_a"]) == 2 and len(compared["only_b"]) == 2
    assert not compared["both"]
