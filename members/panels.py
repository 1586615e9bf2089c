"""Panels higher apps add to the back office's member page: members cannot import them (the
layers), so they register here, as loyalty registers its receipts in members/scoping.py."""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MemberPanel:
    template: str  # a partial, rendered with `panel` (this object) in its context
    context: dict = field(default_factory=dict)


_panels: list[Callable[..., MemberPanel | None]] = []


def member_panel_register(panel: Callable[..., MemberPanel | None]) -> None:
    """Add `panel(*, member, user)` to the member page; it returns None to show nothing."""
    if panel not in _panels:
        _panels.append(panel)


def member_panels(*, member, user) -> list[MemberPanel]:
    panels = (panel(member=member, user=user) for panel in _panels)
    return [panel for panel in panels if panel is not None]
