"""Workers: the Celery app (`celery -A workers`), its tasks, and the persistence they own."""
