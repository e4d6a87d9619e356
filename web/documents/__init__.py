"""The documents API: submit a text, poll its summary job."""
