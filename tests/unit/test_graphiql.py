"""Which requests to the GraphQL endpoint get GraphiQL: a browser's, by its Accept header."""

from __future__ import annotations

import pytest

from api.http import graphiql

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("text/html, application/json;q=0.9", True),
        ("*/*", False),
        ("", False),
        ("application/json, text/html", False),
        ("application/graphql-response+json, text/html;q=0.9", False),
        ("text/html;q=0", False),
        ("text/html;q=nope, */*;q=0.1", False),
    ],
)
def test_an_accept_header_prefers_html_only_above_every_api_type(accept: str, html: bool) -> None:
    assert graphiql.prefers_html(accept) is html
