"""duet's shared Django app (label ``common``): the schema both services use."""
