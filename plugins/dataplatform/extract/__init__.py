"""Snapshots of the operational database into the lake's raw zone."""
