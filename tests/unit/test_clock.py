"""kernel/clock: the one place times are written and read back."""

from datetime import UTC, datetime

from chalicelib.kernel import clock


def test_parse_reads_back_what_iso_and_now_iso_ms_write():
    moment = datetime(2026, 11, 24, 2, 30, 5, 123000, tzinfo=UTC)
    assert clock.parse(clock.iso(moment)) == moment.replace(microsecond=0)
    ms = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert clock.parse(ms) == moment


def test_parse_keeps_an_offset_and_leaves_a_zoneless_time_naive():
    assert clock.parse("2026-11-24T10:30:00+08:00") == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)
    assert clock.parse("2026-11-24T10:30:00").tzinfo is None


def test_as_of_answers_its_moment_inside_the_block_only():
    """The checklist's test order is quoted as of a campaign's start through the real
    checkout path; the moment must not leak out of the block, even on an error."""
    from datetime import timedelta, timezone

    import pytest

    moment = datetime(2030, 1, 1, 8, tzinfo=timezone(timedelta(hours=8)))
    with clock.as_of(moment):
        assert clock.now() == datetime(2030, 1, 1, tzinfo=UTC)
        assert clock.now_iso() == "2030-01-01T00:00:00Z"
    assert clock.now().year < 2030
    with pytest.raises(RuntimeError), clock.as_of(moment):
        raise RuntimeError
    assert clock.now().year < 2030
