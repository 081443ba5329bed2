"""The vocabulary: windows, filters, aggregation keys, special names, prices and billing policies.

Pure: no IO, no clock (a clock is passed in), no settings lookups.
"""
