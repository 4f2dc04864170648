"""Signing in to the pages: the session cookie, where each organisation lands, signing out."""

from __future__ import annotations

from typing import Any

from tests.trace_api.client import Api


def test_signing_in_sets_an_httponly_lax_cookie_and_signing_out_clears_it(api: Api) -> None:
    _importer, token = api.org("进口商", "producer")
    reply = api.client.post("/login", data={"token": token, "next": "/app/batches/new"}, follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/app/batches/new"
    cookie = reply.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    offsite = api.client.post("/login", data={"token": token, "next": "//evil.example/"}, follow_redirects=False)
    assert offsite.headers["location"] == "/app/batches"
    out = api.client.post("/logout", follow_redirects=False)
    assert out.headers["location"] == "/login"
    assert api.client.get("/app/batches", follow_redirects=False).status_code == 303


def test_a_regulator_lands_on_the_recalls_and_an_importer_on_its_batches(api: Api, net: dict[str, Any]) -> None:
    regulator = api.client.post("/login", data={"token": api.regulator_token}, follow_redirects=False)
    assert regulator.headers["location"] == "/app/recalls"
    importer = api.client.post("/login", data={"token": net["imp"]}, follow_redirects=False)
    assert importer.headers["location"] == "/app/batches"
    asked = api.client.post(
        "/login", data={"token": api.regulator_token, "next": "/app/investigations"}, follow_redirects=False
    )
    assert asked.headers["location"] == "/app/investigations"
