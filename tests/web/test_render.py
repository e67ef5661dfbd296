from __future__ import annotations

from datetime import UTC, datetime

from cxloop.web.render import localtime


def test_localtime_shows_the_zone_and_survives_a_bad_zone():
    moment = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
    assert localtime(moment, "Asia/Tokyo") == "2026-11-21 23:00 JST"
    assert localtime(moment, "Europe/London") == "2026-11-21 14:00 GMT"
    assert localtime(moment, "Not/AZone") == "2026-11-21 14:00 UTC"
    assert localtime(None, "Asia/Tokyo") == ""
