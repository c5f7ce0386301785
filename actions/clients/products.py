"""Client of the product service (`GET /products/{article_number}`, `GET /products?q=`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from actions.clients.base import (
    JsonServiceClient,
    accept_language,
    obj,
    opt_str,
    req_decimal,
    req_int,
    req_list,
    req_str,
)


@dataclass(frozen=True)
class SizeStock:
    size: str
    stock: int


@dataclass(frozen=True)
class Product:
    article_number: str
    name: str
    price: Decimal
    currency: str
    colour: str | None
    sizes: list[SizeStock]

    @property
    def sizes_in_stock(self) -> list[str]:
        return [s.size for s in self.sizes if s.stock > 0]


def _size(data: Any) -> SizeStock:
    size = obj(data, "size")
    return SizeStock(size=req_str(size, "size"), stock=req_int(size, "stock"))


def parse_product(data: Any) -> Product:
    """A `Product` from the contract's JSON, or BadResponse if the shape is wrong."""
    product = obj(data, "product")
    return Product(
        article_number=req_str(product, "article_number"),
        name=req_str(product, "name"),
        price=req_decimal(product, "price"),
        currency=req_str(product, "currency"),
        colour=opt_str(product, "colour"),
        sizes=req_list(product, "sizes", _size),
    )


class ProductClient(JsonServiceClient):
    def product(self, article_number: str, language: str | None = None) -> Product:
        """The product, its name and colour in `language` (en, sv, fi, nb) if the catalogue
        has them: asked for with Accept-Language, like the parcel texts."""
        data = self.request_json(
            "GET", f"/products/{quote(article_number, safe='')}", headers=accept_language(language)
        )
        return parse_product(data)

    def search(self, query: str, limit: int = 5, language: str | None = None) -> list[Product]:
        """Products whose name matches; an empty list (not NotFound) when none do."""
        data = self.request_json(
            "GET",
            "/products",
            params={"q": query, "limit": str(limit)},
            headers=accept_language(language),
        )
        return req_list(obj(data, "search result"), "products", parse_product)
