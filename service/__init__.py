"""Waymark service: the HTTP API, the write-side application, settings and the command line."""
