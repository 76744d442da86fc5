"""Sponsors are warned at J-30, J-15 and J-7 before a programme's end, once per threshold, with
their booklet counters; their space shows a banner within 30 days of the end."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clearing import tasks
from clearing.models import ExpiryAlert
from sponsors import services as sponsor_services
from tests.clearing.helpers import programme_in_every_state
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    world = programme_in_every_state()
    world.admin = MembershipFactory(
        organisation=world.programme.sponsor, role="admin", user=UserFactory(with_mfa=True)
    ).user  # an admin has a second factor
    world.finance = MembershipFactory(organisation=world.programme.sponsor, finance=True).user
    MembershipFactory(organisation=world.programme.sponsor, role="member")
    return world


def run_on(day, capture):
    moment = timezone.make_aware(timezone.datetime(day.year, day.month, day.day, 7))
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return tasks.send_expiry_alerts()


def test_one_e_mail_per_threshold_with_the_counters(world, django_capture_on_commit_callbacks):
    end = world.programme.valid_until
    sent = [run_on(end - timedelta(days=d), django_capture_on_commit_callbacks) for d in range(31, 5, -1)]
    # J-30, J-15 and J-7 only, each once, although the job ran every day.
    assert sum(sent) == 3 and len(mail.outbox) == 3
    assert [m.subject for m in mail.outbox] == [
        f"Fin du programme « {world.programme.name} » dans {d} jours — Pass numérique" for d in (30, 15, 7)
    ]
    message = mail.outbox[0]
    assert sorted(message.to) == sorted([world.admin.email, world.finance.email])
    assert "- émis : 4" in message.body and "- chez les prescripteurs, pas encore remis : 1" in message.body
    assert (
        "- remis aux bénéficiaires : 1" in message.body and "- commencés (au moins un pass utilisé) : 1" in message.body
    )
    assert "- entièrement utilisés : 0" in message.body
    assert sorted(ExpiryAlert.objects.values_list("days_before", flat=True)) == [7, 15, 30]
    alert = ExpiryAlert.objects.get(days_before=30)
    assert alert.counters["issued"] == 4 and alert.counters["started"] == 1


def test_a_missed_night_sends_only_the_most_urgent_alert(world, django_capture_on_commit_callbacks):
    end = world.programme.valid_until
    assert run_on(end - timedelta(days=10), django_capture_on_commit_callbacks) == 1
    assert run_on(end - timedelta(days=9), django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 1 and "dans 10 jours" in mail.outbox[0].subject
    assert sorted(ExpiryAlert.objects.values_list("days_before", flat=True)) == [15, 30]


def test_a_moved_end_is_announced_again(world, django_capture_on_commit_callbacks):
    end = world.programme.valid_until
    run_on(end - timedelta(days=30), django_capture_on_commit_callbacks)
    programme = world.programme
    new_end = end + timedelta(days=60)
    with time_machine.travel(timezone.make_aware(timezone.datetime(end.year, end.month, end.day) - timedelta(days=29))):
        sponsor_services.update_programme(programme, {"name": programme.name, "valid_until": new_end})
    assert run_on(new_end - timedelta(days=30), django_capture_on_commit_callbacks) == 1
    assert len(mail.outbox) == 2


def test_the_banner_shows_within_30_days_of_the_end(client, world):
    end = world.programme.valid_until
    morning = timezone.make_aware(timezone.datetime(end.year, end.month, end.day, 9))
    with time_machine.travel(morning - timedelta(days=31)):
        client.force_login(world.admin)
        assert "se termine" not in client.get(reverse("sponsors:home")).content.decode()
    with time_machine.travel(morning - timedelta(days=12)):
        client.force_login(world.admin)
        home = client.get(reverse("sponsors:home")).content.decode()
        detail = client.get(reverse("sponsors:programme", kwargs={"pk": world.programme.pk})).content.decode()
    for body in (home, detail):
        assert f"Le programme « {world.programme.name} » se termine dans 12 jours" in body
        assert "4 émis, 1 chez les prescripteurs, 1 remis, 1 commencés, 0 entièrement utilisés" in body
