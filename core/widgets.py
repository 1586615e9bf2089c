"""Form widgets shared by both audiences."""

from django import forms


class IsoDateInput(forms.DateInput):
    """``<input type="date">``: its value must be ISO 8601 (2026-12-02) whatever the active
    locale's date format (zh-hans renders 2026/12/02), or browsers show an empty field."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")
