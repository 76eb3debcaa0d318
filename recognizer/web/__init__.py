"""What the pages (``recognizer.pages``) and the JSON API (``recognizer.api``) share: reading
images out of requests, the list query, who may do what, how a prediction is shown, and how
every error becomes a response."""
