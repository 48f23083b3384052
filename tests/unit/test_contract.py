"""The public GraphQL contract (`tests/contract/`, a copy of shared/contract) is kept: every type,
field, argument and enum value it names exists in the served SDL with the same type."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
)

from api.graphql import engine

ROOT = Path(__file__).resolve().parents[2]


def served_sdl() -> str:
    return engine.sdl()


CONTRACT = ("core.graphql", "readside.graphql", "orders.graphql")
# orders.graphql adds these root fields in comments: each with its arguments and its type.
ADDED_FIELDS = {
    "Query.stock": ({"sku": "String!", "consistentWith": "String"}, "StockItem"),
    "Query.order": ({"id": "ID!", "asOf": "DateTime", "consistentWith": "String"}, "Order"),
    "Query.orders": (
        {
            "first": "Int",
            "after": "String",
            "status": "OrderStatus",
            "customerId": "ID",
            "consistentWith": "String",
        },
        "OrderConnection!",
    ),
    "Query.trace": ({"correlationId": "ID!"}, "Trace!"),
    "Mutation.receiveStock": ({"input": "ReceiveStockInput!", "wait": "Wait"}, "CommandReceipt!"),
    "Mutation.placeOrder": ({"input": "PlaceOrderInput!", "wait": "Wait"}, "CommandReceipt!"),
    "Mutation.payOrder": ({"input": "PayOrderInput!", "wait": "Wait"}, "CommandReceipt!"),
    "Mutation.cancelOrder": ({"input": "CancelOrderInput!", "wait": "Wait"}, "CommandReceipt!"),
    "Subscription.orderChanged": ({"id": "ID!"}, "Order"),
    "Query.customer": ({"id": "ID!", "consistentWith": "String"}, "Customer"),
    "Mutation.registerCustomer": ({"input": "RegisterCustomerInput!", "wait": "Wait"}, "CommandReceipt!"),
    "Mutation.changeCustomerAddress": (
        {"input": "ChangeCustomerAddressInput!", "wait": "Wait"},
        "CommandReceipt!",
    ),
    "Mutation.forgetCustomer": ({"input": "ForgetCustomerInput!", "wait": "Wait"}, "CommandReceipt!"),
}
# readside.graphql adds these arguments in comments (SDL cannot extend a field's arguments).
ADDED_ARGUMENTS = {
    "Query.product": {"consistentWith": "String", "asOf": "DateTime", "version": "Int"},
    "Query.products": {
        "consistentWith": "String",
        "filter": "ProductFilter",
        "orderBy": "ProductOrder",
        "asOf": "DateTime",
    },
    "Query.productHistory": {"first": "Int", "after": "Int"},
    "Query.events": {"after": "String", "first": "Int", "types": "[String!]", "streamId": "ID"},
    "Mutation.createProduct": {"wait": "Wait"},
    "Mutation.updateProduct": {"wait": "Wait"},
    "Mutation.changeProductPrice": {"wait": "Wait"},
    "Mutation.deleteProduct": {"wait": "Wait"},
}


def test_the_served_schema_keeps_the_contract() -> None:
    contract = build_schema("".join((ROOT / "tests" / "contract" / name).read_text() for name in CONTRACT))
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


def test_the_arguments_the_read_side_adds_are_served() -> None:
    served = build_schema(served_sdl())
    for path, arguments in ADDED_ARGUMENTS.items():
        type_name, field_name = path.split(".")
        field = served.type_map[type_name].fields[field_name]  # type: ignore[attr-defined]
        assert {name: str(field.args[name].type) for name in arguments if name in field.args} == arguments, (
            path
        )


def test_the_fields_the_orders_contract_adds_are_served() -> None:
    served = build_schema(served_sdl())
    for path, (arguments, returns) in ADDED_FIELDS.items():
        type_name, field_name = path.split(".")
        field = served.type_map[type_name].fields[field_name]  # type: ignore[attr-defined]
        assert {name: str(field.args[name].type) for name in arguments if name in field.args} == arguments, (
            path
        )
        assert str(field.type) == returns, path


def test_the_copy_matches_shared_contract_when_it_is_beside_the_checkout() -> None:
    for name in CONTRACT:
        shared = ROOT.parent / "shared" / "contract" / name
        copy = (ROOT / "tests" / "contract" / name).read_text()
        assert not shared.exists() or shared.read_text() == copy, name
