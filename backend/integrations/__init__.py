"""Integrations: API tokens an admin gives other systems, and the JSON API under /api/v1."""
