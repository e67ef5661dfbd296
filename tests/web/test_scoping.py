"""A user sees exactly the union of the subtrees of their units, from every list endpoint."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.signals.customers import CustomerCreate, IdentityIn, upsert_customer
from tests.conftest import Org, bearer, login, make_api_key


def _customers(session: Session, org: Org) -> dict[str, int]:
    ids = {}
    for code in ("acme", "store_a", "store_b", "store_c"):
        c, _ = upsert_customer(
            session=session,
            data=CustomerCreate(
                org_unit_id=org.unit(code).id,
                name=f"cust {code}",
                identities=[IdentityIn(kind="email", value=f"{code}@cust.example")],
            ),
        )
        ids[code] = c.id
    session.commit()
    return ids


def test_store_manager_sees_only_their_store(client: TestClient, session: Session, org: Org):
    ids = _customers(session, org)
    login(client, "manager_a@acme.example")
    listed = client.get("/api/v1/customers").json()
    assert [c["id"] for c in listed["data"]] == [ids["store_a"]]
    assert listed["count"] == 1
    units = {u["code"] for u in client.get("/api/v1/org-units").json()["data"]}
    assert units == {"store_a"}
    # Another store's record answers 404, not 403: existence is not revealed.
    assert client.get(f"/api/v1/customers/{ids['store_c']}").status_code == 404
    assert client.get(f"/api/v1/org-units/{org.unit('store_b').id}").status_code == 404


def test_region_manager_sees_the_region_subtree(client: TestClient, session: Session, org: Org):
    ids = _customers(session, org)
    login(client, "east_manager@acme.example")
    listed = {c["id"] for c in client.get("/api/v1/customers").json()["data"]}
    assert listed == {ids["store_a"], ids["store_b"]}


def test_executive_sees_everything(client: TestClient, session: Session, org: Org):
    ids = _customers(session, org)
    login(client, "exec@acme.example")
    listed = {c["id"] for c in client.get("/api/v1/customers").json()["data"]}
    assert listed == set(ids.values())


def test_api_key_is_limited_to_its_unit(client: TestClient, session: Session, org: Org):
    ids = _customers(session, org)
    key = make_api_key(session, org.unit("west"), ["customers:read"])
    listed = client.get("/api/v1/customers", headers=bearer(key)).json()
    assert [c["id"] for c in listed["data"]] == [ids["store_c"]]
    assert client.get(f"/api/v1/customers/{ids['store_a']}", headers=bearer(key)).status_code == 404
