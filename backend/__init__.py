"""Runda: field-service software for Swedish assistive-device centres."""

import os

# Piccolo looks up its engine through this module path.
os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")
