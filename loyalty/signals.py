"""The hooks loyalty offers to the apps above it, which connect in their AppConfig.ready:
loyalty imports none of them."""

from django.dispatch import Signal

# Sent inside the refund's transaction when a refund returns what was left of a sale (the
# POS API and import_receipts alike); receivers take `sale`, the original Receipt (coupons
# gives back the coupons the sale used). An exception in a receiver rolls the refund back.
sale_refunded_in_full = Signal()
