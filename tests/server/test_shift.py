"""The shift over HTTP: going on and off duty, who colleagues see, plans and their steps."""

from __future__ import annotations

import httpx
import psycopg

from server.runtime import CarewatchServer
from tests.server.helpers import press_pendant, wait_for
from tests.server.people import bearer, make_two_homes


async def test_a_responder_goes_on_and_off_duty_and_works_a_plan(
    server: CarewatchServer, api: httpx.AsyncClient, database_url: str, mqtt_url: str
) -> None:
    homes = await make_two_homes(api)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE users SET phone = '01632 960142' WHERE username = %s", (homes.edith.responder,)
        )
        conn.execute("UPDATE hubs SET state = 'offline' WHERE id = %s", (homes.edith.hub,))
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as desk:
        desk.headers["Authorization"] = f"Bearer {await bearer(api, homes.edith.responder)}"
        before = (await desk.get("/api/v1/shift")).json()
        assert before == {"on_duty": [], "hubs_offline": 1, "you_on_duty": False}

        after = (await desk.put("/api/v1/me/duty", json={"on_duty": True})).json()
        assert after["you_on_duty"] is True
        assert [(c["username"], c["phone"]) for c in after["on_duty"]] == [
            (homes.edith.responder, "01632 960142")
        ]
        # Another service's desk does not see this one as a colleague.
        south = (await api.get("/api/v1/shift")).json()
        assert [c["username"] for c in south["on_duty"]] == [homes.edith.responder]  # admin: all
        async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as other:
            other.headers["Authorization"] = f"Bearer {await bearer(api, homes.arthur.responder)}"
            assert (await other.get("/api/v1/shift")).json()["on_duty"] == []

        plans = (await desk.get("/api/v1/plans")).json()
        assert [s["id"] for s in plans["smoke"]] != [s["id"] for s in plans["pendant"]]
        assert "fire-service" in [s["id"] for s in plans["smoke"]]

        press_pendant(mqtt_url, homes.edith.hub)

        async def raised() -> list[dict[str, object]]:
            return list((await desk.get("/api/v1/alerts")).json())

        (alert,) = await wait_for(raised, what="the pendant alert")
        url = f"/api/v1/alerts/{alert['id']}"
        ticked = await desk.post(f"{url}/steps", json={"step": "call-resident"})
        assert ticked.status_code == 200, ticked.text
        assert ticked.json()["details"]["steps_done"] == ["call-resident"]
        wrong = await desk.post(f"{url}/steps", json={"step": "fire-service"})
        assert wrong.status_code == 422
        untick = await desk.post(f"{url}/steps", json={"step": "call-resident", "done": False})
        assert untick.json()["details"]["steps_done"] == []
        no_note = await desk.post(f"{url}/resolve", json={"outcome": "false_alarm"})
        assert no_note.status_code == 422
        assert "note" in no_note.json()["detail"]
        history = (await desk.get(f"{url}/history")).json()
        actions = [e["action"] for e in history["events"]]
        assert actions[-2:] == ["step_done", "step_undone"]

        off = (await desk.put("/api/v1/me/duty", json={"on_duty": False})).json()
        assert (off["you_on_duty"], off["on_duty"]) == (False, [])
        # A carer cannot put themselves on the responders' rota.
        async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as carer:
            carer.headers["Authorization"] = f"Bearer {await bearer(api, homes.edith.carer)}"
            refused = await carer.put("/api/v1/me/duty", json={"on_duty": True})
            assert refused.status_code == 403


async def test_an_emergency_nobody_could_be_told_of_says_so(
    server: CarewatchServer, api: httpx.AsyncClient, mqtt_url: str
) -> None:
    homes = await make_two_homes(api)  # their responders are off duty
    press_pendant(mqtt_url, homes.edith.hub)

    async def flagged() -> list[dict[str, object]]:
        alerts = await api.get("/api/v1/alerts", params={"resident_id": homes.edith.resident_id})
        return [a for a in alerts.json() if a["details"].get("nobody_notified")]

    (alert,) = await wait_for(flagged, what="the pendant alert marked as told to nobody")
    history = (await api.get(f"/api/v1/alerts/{alert['id']}/history")).json()
    assert "nobody_to_notify" in [e["action"] for e in history["events"]]

    # With the south desk on duty, Arthur's press reaches someone and is not marked.
    async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as desk:
        desk.headers["Authorization"] = f"Bearer {await bearer(api, homes.arthur.responder)}"
        assert (await desk.put("/api/v1/me/duty", json={"on_duty": True})).status_code == 200
    press_pendant(mqtt_url, homes.arthur.hub)

    async def told() -> list[dict[str, object]]:
        answer = await api.get(f"/api/v1/alerts?resident_id={homes.arthur.resident_id}")
        alerts = answer.json()
        if not alerts:
            return []
        trail = (await api.get(f"/api/v1/alerts/{alerts[0]['id']}/history")).json()
        return alerts if trail["notifications"] or len(trail["events"]) > 1 else []

    (arthur,) = await wait_for(told, what="Arthur's press handled by the ladder")
    assert "nobody_notified" not in arthur["details"]
