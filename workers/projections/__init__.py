"""The one place that registers every projection the workers keep."""

from __future__ import annotations

from workers.projections import (
    customers,
    forgetting,
    orders,
    product_prices,
    product_versions,
    products,
    sku_claims,
    stock,
)
from workers.projections.base import InlineProjection, Projection

PROJECTIONS: dict[str, Projection] = {
    p.name: p
    for p in (
        products.projection,
        product_prices.projection,
        product_versions.projection,
        stock.projection,
        orders.projection,
        customers.projection,
    )
}

INLINE_PROJECTIONS: tuple[InlineProjection, ...] = (sku_claims.projection, forgetting.projection)
