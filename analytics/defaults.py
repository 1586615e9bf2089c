"""The RFM class namings and settings the migration installs (and tests re-install after a
flush). Called with a migration's `apps`; idempotent."""

# The deck's naming (DESIGN.md, "RFM and lifecycle"): (r_short, f_high, m_high, label, action)
DECK = [
    (True, True, True, "重要保持", "长期优惠，快速通道升级 VIP 等级"),
    (True, False, False, "重要发展", "满就送、关联商品组合，提升购买频次与客单价"),
    (True, False, True, "重要价值", "根据近期购买推送跨品类优惠"),
    (False, True, True, "重要挽留", "有截止日期的定向唤醒优惠"),
    (False, False, True, "一般重要", ""),
    (True, True, False, "一般客户", ""),
    (False, True, False, "一般挽留", ""),
    (False, False, False, "无价值", ""),
]
# The widely used alternative naming
COMMON = [
    (True, True, True, "重要价值客户", ""),
    (True, False, True, "重要发展", ""),
    (False, True, True, "重要保持", ""),
    (False, False, True, "重要挽留", ""),
    (True, True, False, "一般价值", ""),
    (True, False, False, "一般发展", ""),
    (False, True, False, "一般保持", ""),
    (False, False, False, "一般挽留", ""),
]


def rfm_defaults_install(apps) -> None:
    RfmPreset = apps.get_model("analytics", "RfmPreset")
    RfmClass = apps.get_model("analytics", "RfmClass")
    RfmSettings = apps.get_model("analytics", "RfmSettings")
    presets = {}
    for code, name, rows in [("deck", "方案命名（默认）", DECK), ("common", "通用命名", COMMON)]:
        presets[code], created = RfmPreset.objects.get_or_create(code=code, defaults={"name": name})
        if created:
            RfmClass.objects.bulk_create(
                RfmClass(
                    preset=presets[code], r_short=r, f_high=f, m_high=m, label=label, action=action
                )
                for r, f, m, label, action in rows
            )
    RfmSettings.objects.get_or_create(pk=1, defaults={"preset": presets["deck"]})
