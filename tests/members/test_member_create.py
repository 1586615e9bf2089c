import pytest
from django.core.exceptions import ValidationError

from core.exceptions import ServiceError
from members.cards import card_no_is_issued_form
from members.services import member_create


@pytest.mark.django_db
def test_member_create_gives_a_valid_card_and_the_store_region(store_a):
    member = member_create(phone="13912345678", name="阿卜杜·热合曼", home_store=store_a)
    assert card_no_is_issued_form(member.card_no)
    assert member.region_id == store_a.region_id
    assert member.card_no_display.replace(" ", "") == member.card_no


@pytest.mark.django_db
def test_member_create_refuses_a_taken_phone_and_a_malformed_one(store_a):
    member_create(phone="13912345678", home_store=store_a)
    with pytest.raises(ServiceError) as taken:
        member_create(phone="13912345678")
    assert taken.value.code == "phone_taken"
    with pytest.raises(ValidationError):
        member_create(phone="12345")
