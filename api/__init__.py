"""Escalation service: the front door for the widget, the hub between bot and agents."""
