# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors raised by the shared Magento client. Internal to this collection."""

from __future__ import annotations


class MagentoError(Exception):
    """Something Magento (bridge, bin/magento or HTTP) refused or could not do.

    The message says what was attempted and what Magento said; ``details`` holds
    extra, secret-free facts that modules return next to ``msg``.
    """

    def __init__(self, message, kind='magento', **details):
        super().__init__(message)
        self.kind = kind
        self.details = details


class MagentoInputError(MagentoError):
    """The task's input is wrong; raised before anything is written."""

    def __init__(self, message, **details):
        super().__init__(message, kind='input', **details)
