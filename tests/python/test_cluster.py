"""Servers sharing channels through a real redis-server (option `broker`):
a publish on one reaches clients of another, ids are the cluster's, a client
resumes on another server, and Redis going away is an error event plus
publishes refused with ErrorCode.EBROKER until it returns (issue 17)."""
import asyncio
import os
import sys

import pytest

import ssews
from conftest import expect

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from redis_server import needs_redis, redis  # noqa: E402,F401 (shared with tests/cli; redis: a fixture)

pytestmark = needs_redis


async def listening(pub, client, channel):
    """A server listens once Redis confirms its SUBSCRIBE, which no protocol
    tells a client: publish probes until the client sees one, then a marker."""
    while True:
        pub.publish(channel, "probe")
        try:
            ev = await expect(client, "message", timeout=0.1)
            if ev.data == "probe":
                break
        except AssertionError:
            continue
    pub.publish(channel, "synced")
    await expect(client, "message", lambda e: e.data == "synced")


async def test_publish_reaches_a_client_of_another_server_and_it_resumes_elsewhere(redis):
    async with ssews.Server(broker=redis.url, history=100) as a, \
            ssews.Server(broker=redis.url, history=100) as b:
        async with ssews.Client(b.url + "/?channel=news&channel=sport", reconnect=False) as client:
            await expect(client, "open")
            await listening(a, client, "news")
            await listening(a, client, "sport")
            a.publish("news", "n1")
            b.publish("sport", "s1", event="score")
            # From two servers at once: either may come first, in the order of their ids.
            got = [await expect(client, "message"), await expect(client, "message")]
            assert sorted((m.data, m.event) for m in got) == [("n1", "message"), ("s1", "score")]  # SSE's default
            ids = [m.id.rsplit("-", 1) for m in got]
            assert ids[0][0] == ids[1][0] and int(ids[0][1]) < int(ids[1][1])
            second = got[1]
        a.publish("news", "n2")
        a.publish("weather", "w")
        a.publish("sport", "s2")
        # A fresh server, as after a restart: history lives in Redis.
        async with ssews.Server(broker=redis.url, history=100) as c:
            async with ssews.Client(c.ws_url + "/?channel=news&channel=sport", last_event_id=second.id,
                                    reconnect=False) as again:
                got = [await expect(again, "message"), await expect(again, "message")]
                assert [(m.channel, m.data) for m in got] == [("news", "n2"), ("sport", "s2")]


async def test_redis_away_is_an_error_event_and_publishes_fail(redis):
    async with ssews.Server(broker=redis.url, history=10) as server:
        redis.stop()
        ev = await expect(server, "error", lambda e: e.code == ssews.ErrorCode.EBROKER)
        assert redis.url in ev.reason and ev.conn == 0
        with pytest.raises(ssews.Error) as err:
            server.publish("c", "x")
        assert err.value.code == ssews.ErrorCode.EBROKER
        redis.start()
        for _ in range(500):  # the server reconnects on its own schedule
            try:
                server.publish("c", "back")
                break
            except ssews.Error as e:
                assert e.code == ssews.ErrorCode.EBROKER
                await asyncio.sleep(0.02)
        else:
            raise AssertionError("publishing never worked again")
