"""The GraphQL engine: the SDL, its resolvers (one module per aggregate), scalars, errors and parsing."""
