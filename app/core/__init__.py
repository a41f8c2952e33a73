"""Shared ground of every feature: settings, database engines, errors, rendering, i18n, time."""
