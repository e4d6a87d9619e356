"""Summarising documents: the task, the job state transitions and the providers."""
