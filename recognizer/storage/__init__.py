"""How predictions are kept in Cassandra: ids, partitions, statements, paging and the stats counters.

``services`` (writes) and ``selectors`` (reads) are the app's doors to this package.
"""
