"""The GraphQL API: aiohttp serving the Tartiflette engine through its own handler."""
