"""The request limits (`api.security.limits`, `api.security.scan`): each refused past its bound and
accepted at it, before parsing where the text shows it; the parsed-document cache stays bounded;
fragments spread twice are not a cycle."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from tartiflette import Engine

from api.graphql import engine as engines
from api.graphql import source
from api.graphql.documents import Documents
from api.graphql.errors import Refused
from api.graphql.fragment_cycles import find_cycle
from api.security import limits, scan
from store import settings

CONFIG = settings.load({})
LIMITS = CONFIG.limits
PRODUCTION = settings.load({"EVENTSHOP_ENV": "production"})
FAST = 0.25  # seconds: refusals take a few milliseconds; this bound only catches a slow path

INTROSPECTION_QUERY = """
query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name }
  types { ...FullType } directives { name description locations args { ...InputValue } } } }
fragment FullType on __Type { kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef }
    isDeprecated deprecationReason }
  inputFields { ...InputValue } interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
"""


def aliased(count: int, field: str = "__typename") -> str:
    return " ".join(f"a{i}: {field}" for i in range(count))


def _nest(depth: int) -> str:
    """A selection `depth` fields deep."""
    return "__typename" if depth == 1 else "products { " + _nest(depth - 1) + " }"


# The bombs of the probe, and what each is refused for.
BOMBS = {
    "5,000 aliases of product(id)": "{" + aliased(5000, 'product(id: "x") { id }') + "}",
    "50,000 __typename aliases": "{" + aliased(50_000) + "}",
    "200 aliased introspections": "{" + aliased(200, "__schema { types { name } }") + "}",
    "5,000 @skip directives": "{ __typename" + " @skip(if: false)" * 5000 + " }",
    "nested aliases": "{"
    + " ".join(f"a{i}: products {{ b: edges {{ c: node {{ id }} }} }}" for i in range(400))
    + "}",
    "5,000 levels deep": "{" + "a{" * 5000 + "b" + "}" * 5001,
    "fragments spread twice, 40 times over": "{ ...F0 } "
    + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    + " fragment F40 on Query { __typename }",
    "a megabyte of one field": "{" + " __typename" * 95_000 + "}",
}


def refusal(check: Callable[[], Any]) -> Refused:
    with pytest.raises(Refused) as raised:
        check()
    return raised.value


@pytest.fixture(scope="module")
def engine() -> Engine:
    return asyncio.run(engines.engine())


def parsed(
    engine: Engine, query: str, config: settings.Settings = CONFIG, variables: dict[str, Any] | None = None
) -> Any:
    """The document `query` parses into, once it passed every limit (else `Refused`)."""
    limits.check_text(query, config.limits)
    check = limits.document_check(config, None, variables)
    document, errors = engines.parse(engine, source.prepare(query), check)
    assert errors is None, errors
    return document


# --- before parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", BOMBS.values(), ids=BOMBS.keys())
def test_each_bomb_is_refused_from_its_text_in_milliseconds(query: str) -> None:
    started = time.perf_counter()
    refused = refusal(lambda: limits.check_text(query, LIMITS))
    elapsed = time.perf_counter() - started
    print(f"{len(query):>9} characters refused in {elapsed * 1000:.1f} ms: {refused}")
    assert (refused.status, refused.code) == (400, "QUERY_TOO_COMPLEX")
    assert elapsed < FAST


@pytest.mark.parametrize(
    ("at_the_limit", "over_it", "setting"),
    [
        ("{" + "__typename " * 20 + "}", "{" + "__typename " * 21 + "}", "EVENTSHOP_MAX_ROOT_FIELDS"),
        (_nest(15).join("{}"), _nest(16).join("{}"), "EVENTSHOP_MAX_DEPTH"),
        (
            "{ products { " + aliased(30, "totalCount") + " } }",
            "{ products { " + aliased(31, "totalCount") + " } }",
            "EVENTSHOP_MAX_ALIASES",
        ),
        (
            "{ __typename" + " @skip(if: false)" * 50 + " }",
            "{ __typename" + " @skip(if: false)" * 51 + " }",
            "EVENTSHOP_MAX_DIRECTIVES",
        ),
        (
            "{ products { " + "totalCount " * 499 + "} }",
            "{ products { " + "totalCount " * 500 + "} }",
            "EVENTSHOP_MAX_FIELDS",
        ),
    ],
    ids=["root fields", "depth", "aliases", "directives", "fields"],
)
def test_a_limit_accepts_its_bound_and_refuses_one_more(
    at_the_limit: str, over_it: str, setting: str
) -> None:
    limits.check_text(at_the_limit, LIMITS)
    refused = refusal(lambda: limits.check_text(over_it, LIMITS))
    assert refused.code == "QUERY_TOO_COMPLEX"
    assert setting in str(refused)


def test_tokens_are_counted_exactly() -> None:
    assert (
        scan.measure('query Q($a: Int = 3) { a: product(id: "x") @skip(if: $a) { ...F } }', 100, 100).tokens
        == 32
    )
    at_the_limit = "{" + " __typename" * (LIMITS.max_tokens - 2) + "}"
    assert scan.measure(at_the_limit, LIMITS.max_tokens, 10**6).tokens == LIMITS.max_tokens
    refused = refusal(
        lambda: limits.check_text(at_the_limit + " ", dataclasses.replace(LIMITS, max_tokens=9999))
    )
    assert "EVENTSHOP_MAX_TOKENS" in str(refused)


def test_mutations_past_their_cap_are_refused_before_parsing() -> None:
    def mutation(count: int) -> str:
        fields = " ".join(f'm{i}: deleteProduct(input: {{id: "{i}"}}) {{ status }}' for i in range(count))
        return "mutation {" + fields + "}"

    limits.check_text(mutation(10), LIMITS)
    assert "EVENTSHOP_MAX_MUTATIONS" in str(refusal(lambda: limits.check_text(mutation(11), LIMITS)))


def test_what_is_not_a_field_alias_or_level_is_not_counted() -> None:
    counts = scan.measure(
        """query Q($a: Int = 1, $b: ProductFilter = {search: "{{{"}) @live {
          # { a: b { c: d } } in a comment
          products(filter: {search: "a: b { }"}, orderBy: {field: NAME}) {
            ... on ProductConnection { totalCount } }
          ...F
        }
        fragment F on Query { x: __typename }
        "{ not: counted }" "\"\"\"{ not: counted }\"\"\"" """,
        1000,
        1000,
    )
    assert (counts.depth, counts.aliases, counts.directives, counts.variables) == (2, 1, 1, 2)
    assert (counts.root_fields, counts.fields, counts.expanded) == (1, 4, 4)


def test_the_expanded_count_follows_every_spread_and_stops_at_its_cap() -> None:
    query = "{ ...A ...A } fragment A on Query { a b ...B } fragment B on Query { c }"
    assert scan.measure(query, 1000, 1000).expanded == 2 * (1 + 3 + 1)
    cycle = "{ ...A } fragment A on Query { a ...B } fragment B on Query { b ...A }"
    assert scan.measure(cycle, 1000, 1000).expanded == 5
    assert scan.measure(BOMBS["fragments spread twice, 40 times over"], 1000, 501).expanded == 501


def test_a_nul_is_refused_as_the_parser_would_stop_at_it() -> None:
    refused = refusal(lambda: limits.check_text("{ __typename }\x00 mutation { x }", LIMITS))
    assert (refused.status, refused.code) == (400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "query",
    ['"""' + "x" * 1_000_000, '"' + '\\"' * 500_000, '"' * 1_000_000, " " * 1_000_000 + "{ __typename }"],
    ids=["unclosed block string", "unclosed string of escapes", "a million quotes", "a megabyte of blanks"],
)
def test_a_megabyte_of_odd_text_is_measured_and_prepared_quickly(query: str) -> None:
    started = time.perf_counter()
    try:
        limits.check_text(query, LIMITS)
        source.prepare(query)
    except Refused:
        pass
    assert time.perf_counter() - started < FAST


def test_more_than_100_variables_defined_are_refused() -> None:
    def defined(count: int) -> str:
        return "query(" + " ".join(f"$v{i}: Int" for i in range(count)) + ") { __typename }"

    limits.check_text(defined(100), LIMITS)
    assert "too many variables" in str(refusal(lambda: limits.check_text(defined(101), LIMITS)))


def test_variables_are_refused_past_their_size() -> None:
    limits.check_variables({"v": "x" * (LIMITS.max_variables - 20)}, LIMITS)
    refused = refusal(lambda: limits.check_variables({"v": "é" * LIMITS.max_variables}, LIMITS))
    assert (refused.status, refused.code) == (400, "VARIABLES_TOO_LARGE")


def test_a_response_past_its_size_is_refused() -> None:
    small = {"data": {"x": "y"}}
    assert limits.response_text(small, LIMITS) == '{"data": {"x": "y"}}'
    refused = refusal(lambda: limits.response_text({"data": {"x": "y" * LIMITS.max_response}}, LIMITS))
    assert refused.code == "RESPONSE_TOO_LARGE"


# --- after parsing: the operation that will run, fragments expanded -----------------------------------


def test_depth_through_fragments_is_refused_after_parsing(engine: Engine) -> None:
    def of_type(depth: int) -> str:
        return "name" if depth == 0 else "ofType { " + of_type(depth - 1) + " }"

    def query(depth: int) -> str:
        """`__type`, then a fragment `depth` fields deep: each alone within the depth limit."""
        return '{ __type(name: "Query") { ...T } } fragment T on __Type { ' + of_type(depth - 1) + " }"

    parsed(engine, query(14))
    refused = refusal(lambda: parsed(engine, query(15)))
    assert "EVENTSHOP_MAX_DEPTH" in str(refused)


def test_root_and_mutation_fields_through_fragments_are_counted(engine: Engine) -> None:
    root = "{ ...F ...F } fragment F on Query { " + aliased(11) + " }"
    assert "EVENTSHOP_MAX_ROOT_FIELDS" in str(refusal(lambda: parsed(engine, root)))
    deletes = " ".join(f'd{i}: deleteProduct(input: {{id: "{i}"}}) {{ status }}' for i in range(6))
    mutation = "mutation { ...M ...M } fragment M on Mutation { " + deletes + " }"
    assert "EVENTSHOP_MAX_MUTATIONS" in str(refusal(lambda: parsed(engine, mutation)))


def test_the_walk_counts_fields_with_fragments_expanded(engine: Engine) -> None:
    query = "{ ...F ...F ...F } fragment F on Query { ... on Query { __typename a: __typename } }"
    document = parsed(engine, query)
    check = dataclasses.replace(LIMITS, max_fields=11)
    limits.check_operation(document, None, None, dataclasses.replace(check, max_fields=12), False)
    refused = refusal(lambda: limits.check_operation(document, None, None, check, False))
    assert "EVENTSHOP_MAX_FIELDS" in str(refused)


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        ("{ products(first: 100) { edges { node { id sku } } } }", {}, 1 + 100 * 4),
        ("query($n: Int) { products(first: $n) { edges { node { id } } } }", {"n": 7}, 1 + 7 * 3),
        ("{ products { edges { node { id } } } }", {}, 1 + 20 * 3),  # the default page: 20
        ("{ productHistory(id: 1) { version } }", {}, 1 + 1000),  # no default: all, up to max_first
        ("{ a: events(first: 2) { edges { node { position } } } b: command(id: 1) { id } }", {}, 7 + 2),
        ("{ ...F } fragment F on Query { events(first: 3) { pageInfo { hasNextPage } } }", {}, 1 + 3 * 2),
    ],
    ids=["literal", "variable", "default page", "no default", "aliases", "fragment"],
)
def test_the_cost_counts_each_field_once_per_item_of_its_pages(
    engine: Engine, query: str, variables: dict[str, Any], cost: int
) -> None:
    document = parsed(engine, query, variables=variables)
    limits.check_operation(document, None, variables, dataclasses.replace(LIMITS, max_cost=cost), False)
    over = dataclasses.replace(LIMITS, max_cost=cost - 1)
    refused = refusal(lambda: limits.check_operation(document, None, variables, over, False))
    assert (refused.status, refused.code) == (400, "QUERY_TOO_COMPLEX")
    assert "EVENTSHOP_MAX_COST" in str(refused)


def test_twenty_pages_of_a_thousand_events_are_refused_before_running(engine: Engine) -> None:
    page = "events(first: 1000) { edges { node { position streamId version type data recordedAt } } }"
    one = "{ " + page + " }"
    parsed(engine, one)
    refused = refusal(lambda: parsed(engine, "{ " + " ".join(f"p{n}: {page}" for n in range(20)) + " }"))
    assert "EVENTSHOP_MAX_COST" in str(refused)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ products(first: 1001) { totalCount } }", {}),
        ("query($n: Int) { products(first: $n) { totalCount } }", {"n": 1001}),
        ("query($n: Int = 1001) { products(first: $n) { totalCount } }", {}),
        ("query($n: Int) { events(first: $n) { pageInfo { hasNextPage } } }", {"n": 10**30}),
    ],
    ids=["literal", "variable", "default", "huge"],
)
def test_first_past_its_maximum_is_refused_before_running(engine: Engine, query: str, variables: Any) -> None:
    refused = refusal(lambda: parsed(engine, query, variables=variables))
    assert (refused.status, refused.code) == (400, "BAD_USER_INPUT")
    assert "EVENTSHOP_MAX_FIRST" in str(refused)
    parsed(engine, query.replace("1001", "1000"), variables=dict.fromkeys(variables, 1000))


def test_introspection_is_refused_in_production_only(engine: Engine) -> None:
    parsed(engine, INTROSPECTION_QUERY)  # the whole standard query, within the default depth
    for query in (
        INTROSPECTION_QUERY,
        '{ __type(name: "Product") { name } }',
        "{ ...F } fragment F on Query { products { totalCount } __schema { queryType { name } } }",
    ):
        refused = refusal(partial(parsed, engine, query, PRODUCTION))
        assert (refused.status, refused.code) == (400, "INTROSPECTION_DISABLED")
    parsed(engine, "{ __typename products { __typename } }", PRODUCTION)


# --- fragment cycles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "{ ...F ...F } fragment F on Query { __typename }",
        "{ ...A } fragment A on Query { ...B ...B } fragment B on Query { __typename }",
        "{ ...A } fragment A on Query { ...B ...C } fragment B on Query { ...C }"
        " fragment C on Query { __typename }",
        "{ ...A products { ...P } } fragment A on Query { products { ...P } }"
        " fragment P on ProductConnection { totalCount }",
    ],
    ids=["spread twice", "spread twice in a fragment", "diamond", "one fragment at two levels"],
)
def test_a_fragment_spread_more_than_once_is_not_a_cycle(engine: Engine, query: str) -> None:
    parsed(engine, query)


@pytest.mark.parametrize(
    "query",
    [
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
        "{ ...A } fragment A on Query { products { ...P } } fragment P on ProductConnection { ...Q }"
        " fragment Q on ProductConnection { edges { node { id } } ...P }",
    ],
    ids=["direct", "through a nested field"],
)
def test_a_fragment_cycle_is_refused(engine: Engine, query: str) -> None:
    document, errors = engines.parse(engine, query)
    assert document is None and errors and "spreads itself" in str(errors[0])


def test_a_long_chain_of_fragments_is_followed_without_recursion() -> None:
    chain = {f"F{i}": {f"F{i + 1}"} for i in range(50_000)}
    assert find_cycle(chain) is None
    assert find_cycle({**chain, "F50000": {"F0"}}) is not None


# --- the parsed-document cache -----------------------------------------------------------------------


def distinct_queries(count: int, size: int) -> Iterator[str]:
    """`count` distinct valid queries of about `size` characters each."""
    for n in range(count):
        yield f"query Q{n} {{ __typename }}" + " " * size


def test_the_cache_keeps_its_bounds() -> None:
    documents = Documents(capacity=10_000, largest=2_000)
    for n, query in enumerate(distinct_queries(100, 1_500)):
        documents.put(query, n)
        assert documents.size <= 10_000
    assert len(documents) == 10_000 // len(query)
    documents.put("x" * 2_001, "too large")
    assert documents.get("x" * 2_001) is None


def test_many_distinct_large_queries_do_not_grow_the_engine_cache_past_its_bound(engine: Engine) -> None:
    """Each query is parsed and checked as the HTTP handler does, then run by Tartiflette (whose own
    cache kept the last 512 whatever their size)."""
    count, capacity = 150, engines.DOCUMENTS.capacity
    for n in range(count):
        query = "{ " + " ".join(f"f{n}_{i}: __typename" for i in range(25)) + " __typename" * 150 + " }"
        engines.parse(engine, query, lambda _document: None)
        assert asyncio.run(engine.execute(query))["data"]
        assert engines.DOCUMENTS.size <= capacity
    assert count * len(query) > capacity > engines.DOCUMENTS.size - len(query)
    assert len(engines.DOCUMENTS) < count
    assert not hasattr(engine._cached_parse_and_validate_query, "cache_info")  # no lru_cache of its own


def test_what_is_refused_invalid_or_too_large_is_never_cached(engine: Engine) -> None:
    def refuse(_document: Any) -> None:
        raise limits.over("refused", 0, "TEST")

    refused = "{ refusedHere: __typename }"
    with pytest.raises(Refused):
        engines.parse(engine, refused, refuse)
    invalid = "{ notAField }"
    assert engines.parse(engine, invalid, lambda _document: None)[1]
    large = "{ __typename }" + " " * engines.DOCUMENTS.largest
    engines.parse(engine, large, lambda _document: None)
    unchecked = "{ uncheckedHere: __typename }"
    engines.parse(engine, unchecked)
    assert asyncio.run(engine.execute("{ executedHere: __typename }"))["data"]
    for query in (refused, invalid, large, unchecked, "{ executedHere: __typename }"):
        assert engines.DOCUMENTS.get(query) is None, query
