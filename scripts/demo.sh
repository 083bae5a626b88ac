#!/usr/bin/env bash
# Placeholder: the onboarding demo against the emulator lands here later.
echo "TODO: scripts/demo.sh (onboarding demo on the Magento emulator) is not written yet"
exit 0
