"""Masked personal data in templates: {{ member.phone|masked_phone }}."""

from django import template

from core.masking import mask_name, mask_national_id, mask_phone

register = template.Library()
register.filter("masked_phone", mask_phone)
register.filter("masked_name", mask_name)
register.filter("masked_national_id", mask_national_id)
