"""API tokens: only a hash is stored; each token has a public id, a name and an optional expiry."""
