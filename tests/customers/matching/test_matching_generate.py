"""Generator: seeded, labelled, and written as an import CSV that reads back unchanged."""

import io
from collections import Counter

from customers.importing_csv import CSV_COLUMNS, read_observations_csv, write_observations_csv
from customers.matching.generate import HARD_NEGATIVE_KINDS, generate_observations


def test_the_generator_is_seeded_and_plants_every_hard_negative_kind():
    first = generate_observations(1500, seed=3)
    second = generate_observations(1500, seed=3)
    assert first.observations == second.observations
    assert len(first.observations) >= 1500
    assert set(Counter(first.relations.values())) == set(HARD_NEGATIVE_KINDS)
    assert set(first.person_of) == {observation.record_id for observation in first.observations}
    times = [observation.created_at for observation in first.observations]
    assert times == sorted(times)


def test_generated_phones_are_noisy_but_valid():
    dataset = generate_observations(1000, seed=5)
    phones = [observation.phone for observation in dataset.observations if observation.phone]
    assert any(phone.startswith("+86") for phone in phones)
    assert any(phone.startswith("0086") for phone in phones)
    assert any("１" in phone or "３" in phone for phone in phones)


def test_csv_round_trip_keeps_every_observation():
    dataset = generate_observations(300, seed=1)
    buffer = io.StringIO()
    write_observations_csv(buffer, dataset.observations, extra_columns=dataset.truth_columns())
    buffer.seek(0)
    header = buffer.readline().strip().split(",")
    assert header == [*CSV_COLUMNS, "truth_person_id", "truth_kind"]
    buffer.seek(0)
    read_back = list(read_observations_csv(buffer))
    assert read_back == list(dataset.observations)
