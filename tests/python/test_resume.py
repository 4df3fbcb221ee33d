"""Resume: a client that (re)connects with a Last-Event-ID gets what it
missed from the server's history, in order and without duplicates."""
import ssews
from conftest import expect, messages


async def test_sse_client_starts_from_last_event_id_option():
    async with ssews.Server(history=10) as server:
        for i in range(5):
            server.publish("feed", f"m{i}", id=f"e{i}")
        async with ssews.Client(server.url + "/feed", last_event_id="e1") as client:
            got = await messages(client, 3)
            assert [(m.id, m.data) for m in got] == [("e2", "m2"), ("e3", "m3"), ("e4", "m4")]


async def test_ws_v1_client_starts_from_last_event_id_option():
    async with ssews.Server(history=10) as server:
        for i in range(3):
            server.publish("room", f"w{i}", event="say")
        # Learn the assigned ids from a client that replays everything: an
        # unknown id gets an EGAP error event first, then all history holds.
        async with ssews.Client(server.ws_url + "/room", last_event_id="x") as first:
            events = [await expect(first, "open"), await first.anext_event()]
            assert events[1].kind == "error" and events[1].code == ssews.ErrorCode.EGAP
            replay = await messages(first, 3)
            assert [m.data for m in replay] == ["w0", "w1", "w2"]
            assert all(m.channel == "room" and m.event == "say" for m in replay)
        async with ssews.Client(server.ws_url + "/room", last_event_id=replay[0].id) as client:
            got = await messages(client, 2)
            assert [(m.id, m.data) for m in got] == [(replay[1].id, "w1"), (replay[2].id, "w2")]


async def test_sse_client_resumes_after_the_server_drops_it():
    async with ssews.Server(history=100) as server:
        async with ssews.Client(server.url + "/live", reconnect_delay_ms=50) as client:
            conn = (await expect(server, "open")).conn
            await expect(client, "open")
            server.publish("live", "before")
            assert (await expect(client, "message")).data == "before"
            server.close_conn(conn)             # the stream ends; EventSource reconnects
            await expect(client, "reconnecting")
            server.publish("live", "while away 1")
            server.publish("live", "while away 2")
            reopened = await expect(server, "open")
            assert reopened.conn != conn
            got = await messages(client, 2)
            assert [m.data for m in got] == ["while away 1", "while away 2"]  # nothing twice
            server.publish("live", "after")
            assert (await expect(client, "message")).data == "after"


async def test_ws_client_resumes_its_channel_after_an_abnormal_close():
    async with ssews.Server(history=100) as server:
        async with ssews.Client(server.ws_url + "/?channel=c1", reconnect_delay_ms=50) as client:
            conn = (await expect(server, "open")).conn
            await expect(client, "open")
            server.publish("c1", "one")
            first = await expect(client, "message")
            assert first.data == "one"
            server.close_conn(conn, 4000, "restart")  # not 1000: the client comes back
            await expect(client, "reconnecting")
            server.publish("c1", "two")
            await expect(server, "open")
            second = await expect(client, "message")
            assert (second.data, second.channel) == ("two", "c1")


async def test_stale_id_gets_gap_notice_then_history():
    async with ssews.Server(history=2) as server:
        for i in range(4):
            server.publish("h", f"n{i}", id=f"i{i}")
        async with ssews.Client(server.url + "/h", last_event_id="i0") as client:
            gap = await expect(client, "error")  # i0 fell out of history
            assert gap.code == ssews.ErrorCode.EGAP and "i0" in gap.reason
            got = await messages(client, 2)
            assert [(m.id, m.data) for m in got] == [("i2", "n2"), ("i3", "n3")]
