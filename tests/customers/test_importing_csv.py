"""The import CSV: bad rows are reported by line and skipped, the rest become observations."""

import io

from customers.importing_csv import CSV_COLUMNS, RowError, read_observations_csv
from customers.matching.records import Observation


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
