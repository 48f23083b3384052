"""Who may ask what: credentials, roles, rate limits, request limits, trusted documents, client addresses."""
