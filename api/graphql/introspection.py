"""The introspection that current GraphQL clients send, which Tartiflette 1.4.1 lacks.

graphql-core's `get_introspection_query` with every option on (as gql, code generators and IDEs
send it) asks, after the GraphQL spec of October 2021 and later, for `__Schema.description`,
`__Type.specifiedByURL` and `isOneOf`, `__Directive.isRepeatable`, `__InputValue.isDeprecated`
and `deprecationReason`, and passes `includeDeprecated` to `__Field.args`, `__Directive.args` and
`__Type.inputFields`. It also adds `isPersonalData` to `__Field` and `__InputValue`, so that
clients see which fields `@personalData` marks (the spec's introspection shows no applied
directive). Tartiflette 1.4.1's introspection SDL (`tartiflette/schema/builtins/
introspection.sdl`) has none of them, so it refuses that query. This module, in the engine's
`modules`, adds them the way Tartiflette adds its own introspection: the fields as SDL
(`extend type`), with resolvers. SDL cannot add an argument to a field that exists, so the
resolvers of the three lists also declare `includeDeprecated` on their field when they are baked,
before the schema bakes its fields (Tartiflette 1.4.1's order, pinned in pyproject.toml).

What the new fields say holds for every Tartiflette 1.4.1 schema: its `@deprecated` applies only
to fields and enum values, its directives are never repeatable, and it knows neither
`@specifiedBy` nor `@oneOf`.
"""

from __future__ import annotations

from typing import Any

from tartiflette import Resolver
from tartiflette.language.ast import BooleanValueNode
from tartiflette.types.argument import GraphQLArgument
from tartiflette.types.input_object import GraphQLInputObjectType

from api.graphql.schema_name import SCHEMA_NAME

SDL = '''
extend type __Schema {
  """A description of the schema; eventshop's describes each type instead."""
  description: String
}

extend type __Type {
  """The URL of a custom scalar's specification; null for every other type."""
  specifiedByURL: String
  """For an input object: whether exactly one of its fields must be given; null for other types."""
  isOneOf: Boolean
}

extend type __Directive {
  """Whether the directive may be used more than once at one location."""
  isRepeatable: Boolean!
}

extend type __Field {
  """Whether the field holds personal data (marked @personalData): sealed per person, null once forgotten."""
  isPersonalData: Boolean!
}

extend type __InputValue {
  """Whether the input field takes personal data (marked @personalData)."""
  isPersonalData: Boolean!
  """Whether the argument or input field is deprecated."""
  isDeprecated: Boolean!
  """Why the argument or input field is deprecated, when it is."""
  deprecationReason: String
}
'''

Args = dict[str, Any]


class _ListResolver(Resolver):
    """The resolver of an introspection list that the spec gives an `includeDeprecated` argument:
    it declares the argument on its field before the field is baked."""

    def bake(self, schema: Any) -> None:
        field = schema.get_field_by_name(self.name)
        field.arguments.setdefault(
            "includeDeprecated",
            GraphQLArgument(
                name="includeDeprecated",
                gql_type="Boolean",
                default_value=BooleanValueNode(value=False),
                description="Whether deprecated items are listed too (none can be, in Tartiflette 1.4.1).",
            ),
        )
        super().bake(schema)


def bake(schema_name: str, config: dict[str, Any] | None = None) -> str:
    """The SDL this module adds (Tartiflette calls this when it builds the engine)."""
    return SDL


async def _null(_parent: Any, _args: Args, _ctx: Any, _info: Any) -> None:
    return None


async def _false(_parent: Any, _args: Args, _ctx: Any, _info: Any) -> bool:
    return False


async def _is_one_of(parent: Any, _args: Args, _ctx: Any, _info: Any) -> bool | None:
    return False if isinstance(parent, GraphQLInputObjectType) else None


async def _is_personal_data(parent: Any, _args: Args, _ctx: Any, _info: Any) -> bool:
    return any(
        directive.name.value == "personalData" for directive in getattr(parent, "directives", None) or ()
    )


async def _args(parent: Any, _args: Args, _ctx: Any, _info: Any) -> list[Any]:
    """The field's or directive's arguments: none is deprecated, so `includeDeprecated` keeps all."""
    return list(parent.args)


async def _input_fields(parent: Any, _args: Args, _ctx: Any, _info: Any) -> list[Any] | None:
    """An input object's fields (none is deprecated); null for every other kind of type."""
    return list(parent.inputFields) if isinstance(parent, GraphQLInputObjectType) else None


for _name in ("__Schema.description", "__Type.specifiedByURL", "__InputValue.deprecationReason"):
    Resolver(_name, schema_name=SCHEMA_NAME)(_null)
for _name in ("__Directive.isRepeatable", "__InputValue.isDeprecated"):
    Resolver(_name, schema_name=SCHEMA_NAME)(_false)
Resolver("__Type.isOneOf", schema_name=SCHEMA_NAME)(_is_one_of)
for _name in ("__Field.isPersonalData", "__InputValue.isPersonalData"):
    Resolver(_name, schema_name=SCHEMA_NAME)(_is_personal_data)
_ListResolver("__Field.args", schema_name=SCHEMA_NAME)(_args)
_ListResolver("__Directive.args", schema_name=SCHEMA_NAME)(_args)
_ListResolver("__Type.inputFields", schema_name=SCHEMA_NAME)(_input_fields)
