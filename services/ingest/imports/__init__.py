"""Imports of native export files: upload, detection or column mapping, the import job,
and the history of a client's imports (``ingest_import``, ``ingest_column_mapping``)."""
