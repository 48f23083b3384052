"""The read side: read tables, the mailbox and the event store, paged."""
