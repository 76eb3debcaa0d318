"""Everything that exists only because of the first data layout (``prediction`` partitioned by UTC
day, ``prediction_image``, ``prediction_day``, ``prediction_index``), kept apart from the served code:

- ``tables``: its tables, and the removal of a first-layout row when a copied prediction is deleted
  (the one place served code, ``storage.writes.deletion_followers``, reaches in here);
- ``copy``: ``manage.py copy_predictions``, the one-off copy into today's layout;
- ``old_writes``: its write path as it was served, which ``bench/storage.py`` compares against.

When every deployment has run ``copy_predictions`` and dropped the old tables, this folder, the
command, ``models.PredictionColumns``' mention of it and the bench's first-layout rows can go in
one change (docs/data-layout.md, "From the first layout").
"""
