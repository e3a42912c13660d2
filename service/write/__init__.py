"""The write side: the eventsourcing Application for case records, and how it stores entries."""
