"""The closed-loop simulation (bench/closed_loop.py) at a smaller scale: with the loop on, the
override rate and the human workload fall while escaped errors stay under 1 %; with it off, flat."""
import pytest

from bench.closed_loop import simulate


@pytest.mark.slow  # the longest test of the suite; CI runs it, make test-fast leaves it out
def test_the_loop_makes_the_agent_better_and_off_it_stays_flat():
    on = simulate(loop=True, actions=1500, batch=250, seed=11)
    assert on[0].override_rate > 0.3  # the untrained agent: a third of its refunds need correcting
    assert on[-1].override_rate < on[0].override_rate / 3
    assert on[-1].reviews_per_1000 < 700 and on[0].reviews_per_1000 == 1000
    assert sum(b.escaped for b in on) / sum(b.actions for b in on) < 0.01

    off = simulate(loop=False, actions=750, batch=250, seed=11)
    assert all(b.reviews_per_1000 == 1000 for b in off)
    assert all(abs(b.override_rate - off[0].override_rate) < 0.1 for b in off)
    assert sum(b.escaped for b in off) == 0  # everything reviewed: nothing wrong gets through
