"""Generator and CSV: seeded, labelled, and readable back with bad rows reported by line."""

import io
from collections import Counter

from customers.matching.generate import (
    CSV_COLUMNS,
    HARD_NEGATIVE_KINDS,
    RowError,
    generate_observations,
    read_observations_csv,
    write_observations_csv,
)
from customers.matching.records import Observation


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
    write_observations_csv(buffer, dataset.observations, truth=dataset)
    buffer.seek(0)
    header = buffer.readline().strip().split(",")
    assert header[: len(CSV_COLUMNS)] == list(CSV_COLUMNS)
    buffer.seek(0)
    read_back = list(read_observations_csv(buffer))
    assert read_back == list(dataset.observations)


def test_bad_rows_are_reported_with_their_line_number_and_skipped():
    text = (
        ",".join(CSV_COLUMNS)
        + "\n"
        + "r1,douyin,dy_1,dev,13812345678,张伟,上海市浦东新区张江路1号,2024-01-02T03:04:05\n"
        + "r2,douyin,dy_2,dev,13812345678,张伟,上海市,yesterday\n"
        + ",tmall,,,,李娜,北京市,2024-01-02\n"
        + "r4,pos\n"
        + 'r5,pos,,,,"王, 伟","北京市\n朝阳区",2024-03-01\n'
    )
    rows = list(read_observations_csv(io.StringIO(text)))
    errors = [row for row in rows if isinstance(row, RowError)]
    good = [row for row in rows if isinstance(row, Observation)]
    assert [error.line_number for error in errors] == [3, 4, 5]
    assert "created_at" in errors[0].message
    assert [row.record_id for row in good] == ["r1", "r5"]
    assert good[1].receiver_name == "王, 伟"


def test_a_header_without_the_required_columns_is_one_error():
    rows = list(read_observations_csv(io.StringIO("record_id,name\n1,x\n")))
    assert len(rows) == 1
    assert rows[0].line_number == 1
    assert "channel" in rows[0].message and "record_id" not in rows[0].message
