"""duet's PostgreSQL backend: django-pg-zero-downtime-migrations, with lock-timeout retries."""
