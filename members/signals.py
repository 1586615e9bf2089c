"""The hooks members offers to the apps above it, which fill them in their AppConfig.ready
(pretix's register_data_shredders): members imports none of them."""

from collections.abc import Callable

from django.dispatch import Signal

# Sent inside member_bind_phone's transaction once a WeChat user has become a member (a new
# one, or one the tills knew by phone, now bound) and the privacy consent is saved; receivers
# take `member` and `channel`, the registration channel code (coupons issues the welcome
# coupons). An exception in a receiver rolls the registration back.
member_registered = Signal()

# A member's data download (PIPL Art. 45): key -> callable(member) returning JSON-ready data.
_exporters: dict[str, Callable] = {}
# Account deletion (注销, Art. 47): callables(member_id) that erase or forfeit what their app
# holds of the member, inside member_delete's transaction, returning counts for the audit row.
_erasers: list[Callable[..., dict]] = []


def member_data_exporter_register(key: str, export: Callable) -> None:
    """Add `export(member)`'s result to every data download, under `key`."""
    _exporters[key] = export


def member_data_eraser_register(erase: Callable[..., dict]) -> None:
    """Call `erase(member_id=…)` when a member deletes their account."""
    if erase not in _erasers:
        _erasers.append(erase)


def member_data_exporters() -> dict[str, Callable]:
    return dict(_exporters)


def member_data_erasers() -> list[Callable[..., dict]]:
    return list(_erasers)
