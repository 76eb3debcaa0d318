"""Who changed what, and when: corrections, deletions, exports and API tokens (issue 33, finding 6)."""
