"""Waymark's domain: the event vocabulary of a case record and the Case aggregate with its rules.

Nothing here knows about HTTP or SQL.
"""
