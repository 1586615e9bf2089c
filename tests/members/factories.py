"""Factories of members/: members, staff users and their profiles, addresses; a member signed
into the test client, a valid national ID number."""

from datetime import date

import factory
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.utils import timezone

from members.cards import card_no_random
from members.models import DeliveryAddress, Member, StaffProfile, WechatIdentity
from members.national_id import national_id_check_char
from members.session import SESSION_KEY
from tests.stores.factories import StoreFactory

TEST_PASSWORD = "correct horse 2026"


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    # the system's own scheme, numbered rather than random: 600 members never collide
    card_no = factory.Sequence(lambda n: card_no_random(lambda limit: (n * 7919 + 1) % limit))
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    name = factory.Sequence(lambda n: f"会员{n}")
    gender = Member.Gender.FEMALE
    home_store = factory.SubFactory(StoreFactory)
    region = factory.SelfAttribute("home_store.region")
    registered_at = factory.LazyFunction(timezone.now)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@mall.example")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        self.save()


class StaffFactory(factory.django.DjangoModelFactory):
    """A staff profile with its user; pass `user__role="store_manager"` for a role."""

    class Meta:
        model = StaffProfile

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"员工{n}")
    employee_no = factory.Sequence(lambda n: f"E{n:05d}")
    scope = StaffProfile.Scope.ALL


def signed_in_as(client, member, openid="o_a"):
    """Put `member` (through a WeChat identity) into the test client's session."""
    identity = WechatIdentity.objects.create(
        app_id=settings.WECHAT_APP_ID,
        openid=openid,
        member=member,
        profile_fetched_at=timezone.now(),
    )
    session = client.session
    session[SESSION_KEY] = identity.pk
    session.save()
    return client


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliveryAddress

    member = factory.SubFactory(MemberFactory)
    recipient = "张伟"
    phone = factory.Sequence(lambda n: f"137{n:08d}")
    region = "浙江省 杭州市 西湖区"
    detail = factory.Sequence(lambda n: f"文三路 {n} 号")


def national_id_make(birth_date: date, *, female: bool = True, region: str = "330106", serial=12):
    """A valid 18-character ID number (check digit included) for the birth date and gender."""
    sequence = serial * 10 + (2 if female else 1)  # the 17th digit's parity is the gender
    first17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + national_id_check_char(first17)
