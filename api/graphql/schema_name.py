"""The Tartiflette schema name: one engine per name per process."""

SCHEMA_NAME = "eventshop"
