"""The file formats the admin's import-export offers, with formulas defused on export.

import-export's own IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT (on, in settings) only strips a
leading "=" and turns every cell into text; "+", "-", "@" and a leading tab or carriage return
start a formula in Excel and WPS too (OWASP "CSV injection"). Text cells starting with any of
them get a leading apostrophe, which spreadsheets show as text; numbers and dates keep their type.
"""

import re

from import_export.formats import base_formats

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def formula_escape(value):
    """`value` made inert for a spreadsheet if it is text that would start a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.match(value):
        return "'" + value
    return value


class FormulaSafeMixin:
    def _escape_formulae(self, dataset):
        for index, row in enumerate(list(dataset)):
            dataset[index] = [formula_escape(cell) for cell in row]


class CSV(FormulaSafeMixin, base_formats.CSV):
    pass


class TSV(FormulaSafeMixin, base_formats.TSV):
    pass


class XLSX(FormulaSafeMixin, base_formats.XLSX):
    pass


class JSON(base_formats.JSON):  # not opened by spreadsheets: values stay as they are
    def _escape_formulae(self, dataset):
        pass


FORMATS = [fmt for fmt in (CSV, XLSX, TSV, JSON) if fmt.is_available()]
