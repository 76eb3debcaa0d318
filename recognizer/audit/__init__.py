"""Who changed what, and when: corrections, deletions, exports and API tokens."""
