"""The engine's per-lane pipelining policy and its per-environment batch size, with a clock we move."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from encola.afip import AfipServiceDownError
from encola.engine.batch_size import KEEP_SECONDS, RETRY_SECONDS, BatchSizes
from encola.engine.pipelining import MAX_REPROBE_SECONDS, REPROBE_SECONDS, PipelinePolicy


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_conflict_stops_pipelining_for_a_while_then_it_is_probed_again():
    clock = Clock()
    policy = PipelinePolicy(monotonic=clock)
    assert policy.allowed("lane")
    policy.conflict("lane", "busy")
    assert not policy.allowed("lane") and policy.allowed("other lane")
    clock.now += REPROBE_SECONDS - 1
    assert not policy.allowed("lane")
    clock.now += 1
    assert policy.allowed("lane")


def test_repeated_conflicts_double_the_pause_up_to_an_hour_and_success_resets_it():
    clock = Clock()
    policy = PipelinePolicy(monotonic=clock)
    pauses = []
    for _ in range(6):
        policy.conflict("lane", "busy")
        start = clock.now
        while not policy.allowed("lane"):
            clock.now += 60
        pauses.append(clock.now - start)
    assert pauses == [300, 600, 1200, 2400, 3600, 3600]
    policy.worked("lane")
    policy.conflict("lane", "reorder")
    clock.now += REPROBE_SECONDS
    assert policy.allowed("lane")


@given(st.lists(st.sampled_from(["conflict", "worked", "tick"]), max_size=40))
def test_pipelining_is_never_off_for_longer_than_the_longest_pause(events):
    clock = Clock()
    policy = PipelinePolicy(monotonic=clock)
    for event in events:
        if event == "conflict":
            policy.conflict("lane", "busy")
        elif event == "worked":
            policy.worked("lane")
        else:
            clock.now += 120
    clock.now += MAX_REPROBE_SECONDS
    assert policy.allowed("lane")


def test_the_batch_size_is_afips_limit_capped_by_configuration_and_asked_once_per_environment():
    clock, asked = Clock(), []

    async def reg_x_req() -> int:
        asked.append(1)
        return 100

    async def go():
        sizes = BatchSizes(monotonic=clock)
        results = await asyncio.gather(*(sizes.limit("homo", reg_x_req, 250) for _ in range(20)))
        assert results == [100] * 20 and len(asked) == 1
        assert await sizes.limit("homo", reg_x_req, 50) == 50  # configuration caps it
        clock.now += KEEP_SECONDS
        await sizes.limit("homo", reg_x_req, 250)
        assert len(asked) == 2  # asked again after a day

    asyncio.run(go())


def test_when_afip_cannot_be_asked_the_configured_size_is_used_and_afip_asked_later():
    clock, answers = Clock(), [AfipServiceDownError("down"), 80]

    async def reg_x_req() -> int:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def go():
        sizes = BatchSizes(monotonic=clock)
        assert await sizes.limit("prod", reg_x_req, 250) == 250
        assert await sizes.limit("prod", reg_x_req, 250) == 250  # not asked again at once
        clock.now += RETRY_SECONDS
        assert await sizes.limit("prod", reg_x_req, 250) == 80

    asyncio.run(go())
