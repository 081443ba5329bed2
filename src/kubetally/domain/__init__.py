"""The vocabulary: windows, filters, aggregation keys, special names, prices and billing policies.

Pure: no network, database or clock (a clock is passed in), no settings lookups. The one IO is
``PriceBook.from_files``, which reads the pricing files an edge names for it.
"""
