"""What introspection tests share: the query current clients send, and the check that an answer
describes the schema of our SDL."""

from __future__ import annotations

from graphql import GraphQLSchema, build_schema, get_introspection_query, print_directive, print_type

from api.graphql import engine

# graphql-core's query with every option, as gql, code generators and IDEs send it.
QUERY = get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    schema_description=True,
    input_value_deprecation=True,
    one_of=True,
)
SPEC_SCALARS = frozenset({"String", "Int", "Float", "Boolean", "ID"})
TARTIFLETTE_TYPES = frozenset({"Date", "Time"})  # built-in scalars Tartiflette adds to every schema
# Tartiflette's directives; it knows neither @specifiedBy nor @oneOf.
TARTIFLETTE_DIRECTIVES = frozenset({"skip", "include", "deprecated", "nonIntrospectable"})
OUR_DIRECTIVES = frozenset({"personalData"})


def sdl_schema() -> GraphQLSchema:
    return build_schema(engine.sdl())


def assert_serves_our_schema(served: GraphQLSchema) -> None:
    """`served` (built from an introspection answer) is the SDL's schema, descriptions and
    default values included, plus only what Tartiflette adds to every schema."""
    ours = sdl_schema()
    assert set(served.type_map) - set(ours.type_map) - SPEC_SCALARS == TARTIFLETTE_TYPES
    for name in sorted(ours.type_map):
        if not name.startswith("__"):
            assert print_type(served.type_map[name]) == print_type(ours.type_map[name]), name
    directives = {d.name: d for d in served.directives}
    assert set(directives) == TARTIFLETTE_DIRECTIVES | OUR_DIRECTIVES
    for name in ("skip", "include"):
        assert print_directive(directives[name]) == print_directive(ours.get_directive(name)), name  # type: ignore[arg-type]
