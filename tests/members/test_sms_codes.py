import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from members.models import SmsCode
from members.otp import SmsCodeError, SmsThrottled, sms_code_send, sms_code_verify
from tests.threads import in_threads

PHONE, BIND = "13800001111", SmsCode.Purpose.BIND
pytestmark = pytest.mark.django_db


def sent_code(outbox) -> str:
    return re.search(r"\d{6}", outbox[-1]["text"]).group()


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


def test_a_code_is_six_digits_sent_once_and_stored_only_hashed(sms_outbox, clock):
    sms = sms_code_send(phone=PHONE, purpose=BIND, ip="10.0.0.1")
    code = sent_code(sms_outbox)
    assert sms_outbox[-1]["phone"] == PHONE and "5 分钟" in sms_outbox[-1]["text"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM members_smscode")
        assert not any(code in str(value) for value in cursor.fetchone())
    assert len(sms.code_hash) == 64
    sms_code_verify(phone=PHONE, purpose=BIND, code=code)
    with pytest.raises(SmsCodeError):
        sms_code_verify(phone=PHONE, purpose=BIND, code=code)  # single use


def test_the_code_lives_five_minutes(sms_outbox, clock):
    sms_code_send(phone=PHONE, purpose=BIND, ip=None)
    code = sent_code(sms_outbox)
    clock.shift(timedelta(minutes=5, seconds=1))
    with pytest.raises(SmsCodeError):
        sms_code_verify(phone=PHONE, purpose=BIND, code=code)


def test_the_code_works_at_four_minutes_fifty_nine(sms_outbox, clock):
    sms_code_send(phone=PHONE, purpose=BIND, ip=None)
    clock.shift(timedelta(minutes=4, seconds=59))
    sms_code_verify(phone=PHONE, purpose=BIND, code=sent_code(sms_outbox))


def test_five_wrong_tries_burn_the_code(sms_outbox, clock):
    sms_code_send(phone=PHONE, purpose=BIND, ip=None)
    code = sent_code(sms_outbox)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(SmsCodeError):
            sms_code_verify(phone=PHONE, purpose=BIND, code=wrong)
    with pytest.raises(SmsCodeError):
        sms_code_verify(phone=PHONE, purpose=BIND, code=code)
    assert SmsCode.objects.get().attempts == 5


def test_a_code_for_one_purpose_or_phone_does_not_serve_another(sms_outbox, clock):
    sms_code_send(phone=PHONE, purpose=BIND, ip=None)
    code = sent_code(sms_outbox)
    with pytest.raises(SmsCodeError):
        sms_code_verify(phone=PHONE, purpose=SmsCode.Purpose.CHANGE_PHONE, code=code)
    with pytest.raises(SmsCodeError):
        sms_code_verify(phone="13800002222", purpose=BIND, code=code)


def test_resend_waits_sixty_seconds_and_replaces_the_old_code(sms_outbox, clock):
    sms_code_send(phone=PHONE, purpose=BIND, ip=None)
    first = sent_code(sms_outbox)
    clock.shift(30)
    with pytest.raises(SmsThrottled, match="30"):
        sms_code_send(phone=PHONE, purpose=BIND, ip=None)
    assert len(sms_outbox) == 1
    clock.shift(31)
    sms_code_send(phone=PHONE, purpose=BIND, ip=None)
    with pytest.raises(SmsCodeError):
        sms_code_verify(phone=PHONE, purpose=BIND, code=first)
    sms_code_verify(phone=PHONE, purpose=BIND, code=sent_code(sms_outbox))


def test_daily_caps_per_phone_and_per_ip_reset_at_shanghai_midnight(sms_outbox, time_machine):
    time_machine.move_to("2026-11-23 08:00:00+08:00", tick=False)
    for _ in range(10):
        sms_code_send(phone=PHONE, purpose=BIND, ip="10.0.0.1")
        time_machine.shift(61)
    with pytest.raises(SmsThrottled):
        sms_code_send(phone=PHONE, purpose=BIND, ip="10.0.0.1")
    for n in range(20):
        sms_code_send(phone=f"1390000{n:04d}", purpose=BIND, ip="10.0.0.1")
    with pytest.raises(SmsThrottled):
        sms_code_send(phone="13911112222", purpose=BIND, ip="10.0.0.1")
    time_machine.move_to("2026-11-24 00:00:01+08:00", tick=False)
    sms_code_send(phone=PHONE, purpose=BIND, ip="10.0.0.1")


def eight_correct_submissions_at_once(phone, outbox) -> list[str]:
    """A code sent to `phone`, then submitted by 8 threads at once: sorted outcomes."""
    sms_code_send(phone=phone, purpose=BIND, ip=None)
    code = sent_code(outbox)

    def submit():
        try:
            sms_code_verify(phone=phone, purpose=BIND, code=code)
            return "ok"
        except SmsCodeError:
            return "refused"

    return sorted(in_threads(*[submit] * 8, together=True))


@pytest.mark.django_db(transaction=True)
def test_parallel_correct_submissions_succeed_once(sms_outbox):
    assert eight_correct_submissions_at_once(PHONE, sms_outbox) == ["ok"] + ["refused"] * 7


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_parallel_correct_submissions_succeed_once_repeated(sms_outbox):
    """W4, 20 rounds in one database: a phone each, 8 correct submissions at once."""
    for round_ in range(20):
        results = eight_correct_submissions_at_once(f"1380000{round_:04d}", sms_outbox)
        assert results == ["ok"] + ["refused"] * 7, round_


@pytest.mark.django_db(transaction=True)
def test_parallel_sends_from_one_ip_keep_to_its_daily_cap(sms_outbox, settings):
    settings.SMS_DAILY_LIMIT_PER_IP = 2
    barrier, results = threading.Barrier(6), []

    def send(n):
        barrier.wait()
        try:
            sms_code_send(phone=f"1380000200{n}", purpose=BIND, ip="203.0.113.9")
            results.append("sent")
        except SmsThrottled:
            results.append("throttled")
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["sent"] * 2 + ["throttled"] * 4
    assert SmsCode.objects.filter(ip="203.0.113.9").count() == 2
