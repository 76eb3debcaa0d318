"""API tokens: stored as hashes (django-rest-knox), each with a name and an expiry, shown once."""
