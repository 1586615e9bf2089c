"""The RFM settings and class namings as the migration seeds them."""

from analytics.models import RfmClass, RfmPreset, RfmSettings


def test_the_deck_naming_is_seeded_and_in_use(db):
    settings = RfmSettings.current()
    assert settings.window_days == 365
    assert settings.cut_method == RfmSettings.CutMethod.MEAN
    assert settings.preset.code == "deck"
    assert settings.preset.mapping() == {
        (True, True, True): "重要保持",
        (True, False, False): "重要发展",
        (True, False, True): "重要价值",
        (False, True, True): "重要挽留",
        (False, False, True): "一般重要",
        (True, True, False): "一般客户",
        (False, True, False): "一般挽留",
        (False, False, False): "无价值",
    }
    assert RfmClass.objects.get(preset=settings.preset, label="重要保持").action


def test_the_common_naming_is_the_second_preset(db):
    RfmSettings.current()  # installs the namings again after a transactional test's flush
    assert RfmPreset.objects.get(code="common").mapping() == {
        (True, True, True): "重要价值客户",
        (True, False, True): "重要发展",
        (False, True, True): "重要保持",
        (False, False, True): "重要挽留",
        (True, True, False): "一般价值",
        (True, False, False): "一般发展",
        (False, True, False): "一般保持",
        (False, False, False): "一般挽留",
    }
