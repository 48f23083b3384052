"""What the API and the workers share: settings, database, schema, event store, mailbox, codec."""
