"""A programme's end cannot move away from its passes' dates: they move with it, in the same
transaction, and never once passes of it expired."""

from datetime import timedelta

import pytest

from clearing import services as clearing_services
from passnum.passes.models import Pass
from passnum.passes.services import expiry_date
from sponsors import services
from tests.clearing.helpers import programme_in_every_state

pytestmark = pytest.mark.django_db


def pass_dates(programme):
    return set(Pass.objects.filter(programme=programme).values_list("valid_until", "expires_on"))


def test_moving_the_end_moves_every_pass_with_it():
    world = programme_in_every_state()
    programme = world.programme
    new_end = programme.valid_until + timedelta(days=92)
    services.update_programme(programme, {"name": programme.name, "valid_until": new_end, "grace_days": 10})
    programme.refresh_from_db()
    assert programme.valid_until == new_end
    assert pass_dates(programme) == {(new_end, expiry_date(programme))}


def test_changing_the_grace_moves_the_last_day():
    world = programme_in_every_state(redeem=0)
    programme = world.programme
    services.update_programme(
        programme, {"name": programme.name, "valid_until": programme.valid_until, "grace_months": 3}
    )
    programme.refresh_from_db()
    assert pass_dates(programme) == {(programme.valid_until, expiry_date(programme))}


def test_the_end_cannot_move_once_passes_expired():
    world = programme_in_every_state()
    programme = world.programme
    clearing_services.expire_passes(today=world.expiry_day)
    before, old_end = pass_dates(programme), programme.valid_until
    with pytest.raises(services.ProgrammeRefused) as refused:
        services.update_programme(
            programme, {"name": programme.name, "valid_until": programme.valid_until + timedelta(days=30)}
        )
    assert refused.value.code == "programme_already_expired" and "avoir" in refused.value.message
    assert pass_dates(programme) == before
    programme.refresh_from_db()
    assert programme.valid_until == old_end


def test_other_changes_leave_the_passes_alone():
    world = programme_in_every_state(redeem=0)
    programme = world.programme
    before = pass_dates(programme)
    services.update_programme(
        programme, {"name": "Nouveau nom", "valid_until": programme.valid_until, "contact_name": "Camille"}
    )
    assert pass_dates(programme) == before
