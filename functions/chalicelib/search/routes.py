"""Global search of the back office."""

from __future__ import annotations

from chalicelib.auth.principal import BACK_OFFICE, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module
from chalicelib.search import schemas as s

service = lazy_module("chalicelib.search.service")

area = Area("search", __name__, "Find an order, member, product or store by one string.")


@area.route(
    "/admin/search",
    "GET",
    summary="Find orders, members, products and stores by number, code, phone, SKU or name",
    roles=BACK_OFFICE,
    query=s.SearchQuery,
    response=s.SearchResults,
    errors=(422,),
)
def search(query: s.SearchQuery, principal: Principal) -> s.SearchResults:
    """``q`` (1..64 characters, not blank) is looked up as each kind of thing it can be,
    by key or index only:

    * an **order number** (the code on the ticket, any case): ``orders``, matched
      ``order_id``;
    * a **pickup code** (6 digits): the orders in progress at the store (every store for
      head office) with that code, matched ``pickup_code``;
    * a **member's phone** (11 digits, ``+86`` allowed): the member in ``customers``
      (phone masked) and their 10 most recent orders, matched ``phone``;
    * a **SKU**: the product in ``products``;
    * a **barcode** (8 or 12 to 14 digits): the products carrying it, through the
      products' barcode index;
    * a **store**: by id or part of its name in ``stores``.

    Store staff and managers find only their store's orders, find a member only through
    the member's recent orders at their store, and find only their own store. Each result
    has a ``link``: the admin site's route that opens it. Groups hold at most 20 results.
    """
    return service.search(principal, query.q)
