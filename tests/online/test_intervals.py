"""Minutes attended: the union of intervals clipped to the day, proved against a brute-force count."""

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from attendance.online.intervals import minutes_attended

DAY_START = datetime(2024, 2, 19, 8, 30)
DAY_END = datetime(2024, 2, 19, 16, 0)  # 450 minutes

minute_offsets = st.integers(min_value=-120, max_value=600)
intervals = st.lists(
    st.tuples(minute_offsets, st.one_of(st.none(), st.integers(min_value=0, max_value=300))), max_size=12
)


def _as_times(raw):
    return [
        (
            DAY_START + timedelta(minutes=start),
            None if length is None else DAY_START + timedelta(minutes=start + length),
        )
        for start, length in raw
    ]


def _brute_force(raw) -> int:
    """Counts, minute by minute, the scheduled minutes in which at least one interval was running."""
    covered = set()
    for start, length in raw:
        end = 450 if length is None else start + length
        covered.update(minute for minute in range(start, end) if 0 <= minute < 450)
    return len(covered)


@settings(max_examples=300, deadline=None)
@given(intervals)
def test_minutes_equal_the_scheduled_minutes_covered_by_any_interval(raw):
    assert minutes_attended(_as_times(raw), DAY_START, DAY_END).minutes == _brute_force(raw)


@settings(max_examples=200, deadline=None)
@given(intervals, st.randoms())
def test_order_and_repetition_do_not_change_the_minutes(raw, rng):
    times = _as_times(raw)
    shuffled = times * 2
    rng.shuffle(shuffled)
    assert minutes_attended(shuffled, DAY_START, DAY_END) == minutes_attended(times, DAY_START, DAY_END)


@given(intervals)
def test_minutes_never_exceed_the_scheduled_day(raw):
    assert 0 <= minutes_attended(_as_times(raw), DAY_START, DAY_END).minutes <= 450


def test_an_interval_without_a_leave_time_runs_to_the_day_end_and_is_flagged():
    result = minutes_attended([(datetime(2024, 2, 19, 15, 0), None)], DAY_START, DAY_END)
    assert result.minutes == 60 and result.open_ended


def test_rejoins_and_overlaps_count_once():
    result = minutes_attended(
        [
            (datetime(2024, 2, 19, 9, 0), datetime(2024, 2, 19, 10, 0)),
            (datetime(2024, 2, 19, 9, 30), datetime(2024, 2, 19, 10, 30)),  # webhook and report overlap
            (datetime(2024, 2, 19, 11, 0), datetime(2024, 2, 19, 11, 15)),  # rejoined after a drop
            (datetime(2024, 2, 19, 7, 0), datetime(2024, 2, 19, 8, 40)),  # before the start: 10 minutes count
        ],
        DAY_START,
        DAY_END,
    )
    assert result.minutes == 90 + 15 + 10 and not result.open_ended
