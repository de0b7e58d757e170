"""The project app's admin, one module per area; importing them here registers
them when Django looks for `gupshup_admin.admin`."""

from gupshup_admin.admin import channels, partner_apps, records

__all__ = ["channels", "partner_apps", "records"]
