"""The public GraphQL contract (`tests/contract/core.graphql`, a copy of shared/contract) is kept:
every type, field, argument and enum value it names exists in the served SDL with the same type."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
)

ROOT = Path(__file__).resolve().parents[2]


def served_sdl() -> str:
    return "scalar DateTime\n" + "\n".join(
        p.read_text() for p in sorted((ROOT / "api" / "schema").glob("*.graphql"))
    )


def test_the_served_schema_keeps_the_contract() -> None:
    contract = build_schema((ROOT / "tests" / "contract" / "core.graphql").read_text())
    served = build_schema(served_sdl())
    for name, promised in contract.type_map.items():
        if name.startswith("__"):
            continue
        kept = served.type_map.get(name)
        assert kept is not None and type(kept) is type(promised), f"type {name}"
        if isinstance(promised, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in promised.fields.items():
                assert field_name in kept.fields, f"{name}.{field_name}"  # type: ignore[attr-defined]
                assert str(kept.fields[field_name].type) == str(field.type), f"{name}.{field_name}"  # type: ignore[attr-defined]
                for arg_name, arg in getattr(field, "args", {}).items():
                    kept_arg = kept.fields[field_name].args.get(arg_name)  # type: ignore[attr-defined]
                    assert kept_arg is not None and str(kept_arg.type) == str(arg.type), (
                        f"{name}.{field_name}({arg_name})"
                    )
        if isinstance(promised, GraphQLEnumType):
            assert set(promised.values) <= set(kept.values), name  # type: ignore[attr-defined]


def test_the_copy_matches_shared_contract_when_it_is_beside_the_checkout() -> None:
    shared = ROOT.parent / "shared" / "contract" / "core.graphql"
    copy = (ROOT / "tests" / "contract" / "core.graphql").read_text()
    assert not shared.exists() or shared.read_text() == copy
