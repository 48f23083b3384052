"""Changes as they happen: the graphql-transport-ws protocol, subscriptions, the event feed, the watcher."""
