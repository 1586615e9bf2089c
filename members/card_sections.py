"""Sections higher apps add to the member card page's 完整版 (full layout): the points mall's
recommendations (猜你喜欢), say. Members cannot import them (the layers), so each app
registers its own from its apps.py, as with members/panels.py.

A section is a callable `section(request, member)` returning {"template": …, "context": {…}},
or {"html": …} when it renders (and caches) its own markup, or None to show nothing. A section
that fails is logged and left out: the card, with the member's till code, must always open.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)

DEFAULT_ORDER = 1000


@dataclass(frozen=True)
class _Registered:
    section: Callable[..., dict | None]
    order: int
    sequence: int


_sections: list[_Registered] = []


def card_section_register(section: Callable[..., dict | None], *, order: int = DEFAULT_ORDER):
    """Add `section(request, member)` to the full card page at `order` (lower first).
    Registering the same callable again changes nothing."""
    if any(registered.section is section for registered in _sections):
        return
    _sections.append(_Registered(section, order, len(_sections)))
    _sections.sort(key=lambda registered: (registered.order, registered.sequence))


def card_section_unregister(section: Callable[..., dict | None]) -> None:
    _sections[:] = [registered for registered in _sections if registered.section is not section]


def card_sections(request, member) -> list[dict]:
    """The sections to show `member`, in order: [{"template", "context"}]; one that raises is
    logged and skipped."""
    shown = []
    for registered in _sections:
        try:
            section = registered.section(request, member)
        except Exception:
            logger.exception("card section %r failed", registered.section)
            continue
        if section is not None:
            shown.append(section)
    return shown


def card_sections_html(request, member) -> list[SafeString]:
    """The sections rendered; one whose template fails to render is logged and skipped too."""
    rendered = []
    for section in card_sections(request, member):
        if "html" in section:
            rendered.append(mark_safe(section["html"]))  # noqa: S308 - a section's own render
            continue
        try:
            html = render_to_string(
                section["template"], {"member": member, **section.get("context", {})}, request
            )
        except Exception:
            logger.exception("card section template %r failed", section.get("template"))
            continue
        rendered.append(mark_safe(html))  # noqa: S308 - our own templates' output
    return rendered
