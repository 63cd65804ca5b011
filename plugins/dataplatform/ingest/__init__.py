"""Landing files into the lake's raw zone, with record-level validation and a quarantine."""
