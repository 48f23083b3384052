"""HTTP: GraphQL over HTTP on /graphql, CORS, health and metrics, GraphiQL."""
