"""Tartiflette resolvers, one module per aggregate: decode arguments, call a plain function, map errors."""
