"""Interoperability outlets: the case record in the formats the rest of the health system speaks."""
