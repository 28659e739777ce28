"""Who may see and do what: every role against its own resident and another's."""

from __future__ import annotations

import pytest

from server.domain.access import (
    ResidentScope,
    Role,
    Viewer,
    may_act_on_alerts,
    may_change_choices,
    may_check_in,
    may_see,
    may_see_access_info,
    may_see_activity,
    may_see_health_notes,
    may_see_who_read,
    may_set_away,
)

EDITH = ResidentScope(resident_id=1, service="north", carer_ids=frozenset({10}))
ARTHUR = ResidentScope(resident_id=2, service="south", carer_ids=frozenset({20}))

ADMIN = Viewer(1, "admin", Role.ADMIN)
NORTH_DESK = Viewer(2, "north-desk", Role.RESPONDER, service="north")
EDITHS_DAUGHTER = Viewer(10, "sue", Role.CARER)
EDITH_HERSELF = Viewer(11, "edith", Role.RESIDENT, resident_id=1)


@pytest.mark.parametrize(
    ("viewer", "sees_edith", "sees_arthur"),
    [
        (ADMIN, True, True),
        (NORTH_DESK, True, False),
        (EDITHS_DAUGHTER, True, False),
        (EDITH_HERSELF, True, False),
        (Viewer(3, "nowhere", Role.RESPONDER, service=None), False, False),
    ],
)
def test_each_role_sees_its_own_residents_only(
    viewer: Viewer, sees_edith: bool, sees_arthur: bool
) -> None:
    assert may_see(viewer, EDITH) is sees_edith
    assert may_see(viewer, ARTHUR) is sees_arthur


def test_residents_see_their_alerts_but_others_act_on_them() -> None:
    assert not may_act_on_alerts(EDITH_HERSELF, EDITH)
    assert may_act_on_alerts(EDITHS_DAUGHTER, EDITH)
    assert may_act_on_alerts(NORTH_DESK, EDITH)
    assert not may_act_on_alerts(NORTH_DESK, ARTHUR)


def test_key_safe_is_for_responders_and_admins_only() -> None:
    assert may_see_access_info(NORTH_DESK, EDITH)
    assert may_see_access_info(ADMIN, EDITH)
    assert not may_see_access_info(EDITHS_DAUGHTER, EDITH)
    assert not may_see_access_info(EDITH_HERSELF, EDITH)
    assert not may_see_access_info(NORTH_DESK, ARTHUR)


def test_health_notes_reach_responders_only_with_consent() -> None:
    consenting = ResidentScope(1, "north", frozenset({10}), share_health_notes=True)
    assert not may_see_health_notes(NORTH_DESK, EDITH)
    assert may_see_health_notes(NORTH_DESK, consenting)
    assert not may_see_health_notes(EDITHS_DAUGHTER, consenting)
    assert may_see_health_notes(EDITH_HERSELF, EDITH)


def test_the_daily_picture_reaches_carers_only_with_consent() -> None:
    private = ResidentScope(1, "north", frozenset({10}), share_activity_with_carers=False)
    assert may_see_activity(EDITHS_DAUGHTER, EDITH)
    assert not may_see_activity(EDITHS_DAUGHTER, private)
    assert may_see_activity(NORTH_DESK, private)
    assert may_see_activity(EDITH_HERSELF, private)


def test_residents_own_choices() -> None:
    assert may_check_in(EDITH_HERSELF, EDITH)
    assert not may_check_in(EDITHS_DAUGHTER, EDITH)
    assert not may_check_in(Viewer(12, "arthur", Role.RESIDENT, resident_id=2), EDITH)
    assert may_change_choices(EDITH_HERSELF, EDITH)
    assert not may_change_choices(NORTH_DESK, EDITH)
    assert may_set_away(EDITHS_DAUGHTER, EDITH)
    assert not may_set_away(NORTH_DESK, EDITH)
    assert may_see_who_read(EDITH_HERSELF, EDITH)
    assert not may_see_who_read(EDITHS_DAUGHTER, EDITH)
