"""Great Expectations gates: the suites live in ``expectations/``, results go under DATA_DIR."""
