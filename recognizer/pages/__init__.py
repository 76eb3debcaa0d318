"""The website's pages: recognising (``views``), the operator's history (``history``) and the old
app's routes (``legacy``). They share ``recognizer.web`` with the JSON API, never import the API."""
