"""The ``kubetally`` command line."""
