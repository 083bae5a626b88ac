"""A Python emulation of the parts of Magento 2.4.7 that commerceops.magento touches (see DESIGN.md)."""

MAGENTO_VERSION = '2.4.7-p3'
MAGENTO_EDITION = 'Community'
