"""An agent's own ratings of the last 30 days, through the desk route."""

from __future__ import annotations

import time

import sqlalchemy as sa
from rasa.shared.core.events import AgentUttered

from tests.handover.test_handover_desk import OTHER, Desk, desk  # noqa: F401  (fixture)
from tests.retention.retention_support import create_rasa_schema, rasa_row

DAY = 86_400.0


def add_rating(
    chat_desk: Desk, conversation_id: str, value: int, at: float, comment: str = ""
) -> None:
    data = {"feedback": "rating", "rating": value, **({"comment": comment} if comment else {})}
    row = rasa_row(conversation_id, AgentUttered(None, data, timestamp=at))
    with chat_desk.store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name,"
                " data) VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name,"
                " :data)"
            ),
            row,
        )


def served(chat_desk: Desk, conversation_id: str, agent: str) -> None:
    request = chat_desk.store.join(conversation_id, email="a@example.com").request
    chat_desk.store.claim(agent, request.id)
    chat_desk.store.close(request.id, agent, "agent")


async def test_an_agent_sees_only_their_own_ratings_of_the_last_30_days(
    desk: Desk,  # noqa: F811
) -> None:
    url = str(desk.store.engine.url)
    create_rasa_schema(url)
    now = time.time()
    served(desk, "sams-1", "Sam")
    served(desk, "sams-2", "Sam")
    served(desk, "kims-1", "Kim")
    served(desk, "passed-on", "Sam")
    served(desk, "passed-on", "Kim")  # Kim had it last: the rating is Kim's
    add_rating(desk, "sams-1", 3, now + 1)
    add_rating(desk, "sams-1", 5, now + 2, "Sam sorted it out")  # the last one counts
    add_rating(desk, "sams-2", 4, now + 3)
    add_rating(desk, "kims-1", 1, now + 4, "slow")
    add_rating(desk, "passed-on", 2, now + 5)
    add_rating(desk, "bot-only", 1, now + 6)
    add_rating(desk, "sams-2", 1, now - 31 * DAY)  # before the claim and too old

    status, sam = await desk.call("GET", "/ratings")
    assert status == 200
    assert sam["agent"] == "Sam" and sam["days"] == 30
    assert sam["ratings"] == 2 and sam["average"] == 4.5
    assert sam["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert [c["comment"] for c in sam["comments"]] == ["Sam sorted it out"]

    status, kim = await desk.call("GET", "/ratings", token=OTHER)
    assert status == 200
    assert (kim["agent"], kim["ratings"], kim["average"]) == ("Kim", 2, 1.5)
    assert [c["comment"] for c in kim["comments"]] == ["slow"]


async def test_ratings_need_an_agent_token_and_work_before_any_chat(
    desk: Desk,  # noqa: F811
) -> None:
    assert (await desk.call("GET", "/ratings", token=None))[0] == 401
    assert (await desk.call("GET", "/ratings", token="wrong"))[0] == 401
    status, empty = await desk.call("GET", "/ratings")
    assert status == 200
    assert (empty["ratings"], empty["average"], empty["comments"]) == (0, None, [])
