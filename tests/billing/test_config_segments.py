"""``pricing.config_segments``: the 12:00 rule for any configuration (item and quantity)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from billing.pricing import config_segments, segments_from_history
from tests.billing.conftest import sh


def test_item_change_splits_like_a_quantity_change():
    segments = config_segments(
        billing_start=sh(2026, 7, 1),
        release=None,
        initial=("ecs.4c8g", 1),
        changes=[(sh(2026, 7, 10, 14), ("ecs.8c16g", 1)), (sh(2026, 7, 20, 9), ("ecs.8c16g", 2))],
    )
    assert segments == [
        (("ecs.4c8g", 1), sh(2026, 7, 1), sh(2026, 7, 11)),  # after noon: from the next day
        (("ecs.8c16g", 1), sh(2026, 7, 11), sh(2026, 7, 20)),  # before noon: that day
        (("ecs.8c16g", 2), sh(2026, 7, 20), None),
    ]


def test_released_before_billing_and_changes_after_release():
    assert (
        config_segments(
            billing_start=sh(2026, 3, 20, 10), release=sh(2026, 3, 5), initial="a", changes=[]
        )
        == []
    )
    assert config_segments(
        billing_start=sh(2026, 3, 1),
        release=sh(2026, 3, 10, 8),
        initial="a",
        changes=[(sh(2026, 3, 9, 13), "b")],  # effective 03-10 00:00, before the release
    ) == [("a", sh(2026, 3, 1), sh(2026, 3, 10)), ("b", sh(2026, 3, 10), sh(2026, 3, 10, 8))]


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        config_segments(
            billing_start=sh(2026, 3, 1),
            release=None,
            initial="a",
            changes=[(sh(2026, 3, 2).replace(tzinfo=None), "b")],
        )


@pytest.mark.parametrize("seed", range(40))
def test_agrees_with_segments_from_history(seed):
    rng = random.Random(seed)
    start = sh(2026, 3, 1) + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
    release = (
        None if rng.random() < 0.5 else start + timedelta(minutes=rng.randrange(1, 60 * 24 * 40))
    )
    changes = [
        (start + timedelta(minutes=rng.randrange(-60 * 24 * 5, 60 * 24 * 40)), rng.randint(1, 3))
        for _ in range(rng.randint(0, 6))
    ]
    initial = rng.randint(1, 3)
    expected = [
        (s.quantity, s.start, s.end)
        for s in segments_from_history(
            billing_start=start, release=release, changes=changes, initial_quantity=initial
        )
    ]
    assert (
        config_segments(billing_start=start, release=release, initial=initial, changes=changes)
        == expected
    )
