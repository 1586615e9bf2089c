"""Every UI string has its Chinese text, and the compiled catalogue matches the .po file."""

from pathlib import Path

import polib
import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"


def test_every_message_is_translated_and_none_is_fuzzy():
    po = polib.pofile(str(PO))
    assert len(po) > 100
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []


def test_the_committed_mo_file_is_compiled_from_the_po_file():
    po = {
        (e.msgid, e.msgstr) for e in polib.pofile(str(PO)) if not e.obsolete and not e.msgid_plural
    }
    mo = {
        (e.msgid, e.msgstr) for e in polib.mofile(str(PO.with_suffix(".mo"))) if not e.msgid_plural
    }
    assert po - mo == set(), "run `make messages` to recompile"


@pytest.mark.django_db
def test_pages_speak_chinese(client):
    assert "员工登录" in client.get("/accounts/login/").content.decode()
    with translation.override("zh-hans"):
        assert str(translation.gettext("Floor guide")) == "楼层导视"
