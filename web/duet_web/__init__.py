"""duet's web service: a DRF API that owns the schema and enqueues summary jobs by name."""
