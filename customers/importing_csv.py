"""The CSV format of ``import_identities``: its columns, a reader that reports bad rows, a writer.

One row is one :class:`~customers.matching.records.Observation`. The module imports no Django
so the benchmarks and tests write and read generated data (``customers.matching.generate``) in
the same format as production without loading settings.
"""

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from customers.matching.records import Observation

CSV_COLUMNS = (
    "record_id",
    "channel",
    "channel_account_id",
    "device_id",
    "phone",
    "receiver_name",
    "address",
    "created_at",
)


@dataclass(frozen=True, slots=True)
class RowError:
    """A CSV row that could not be read: its 1-based line number and why."""

    line_number: int
    message: str


def read_observations_csv(source: TextIO) -> Iterator[Observation | RowError]:
    """Read observations from CSV, yielding a :class:`RowError` for each bad row.

    The header must name at least :data:`CSV_COLUMNS` (extra columns are ignored). A row
    is bad when a column is missing, ``record_id`` is empty or ``created_at`` is not ISO
    8601; the caller reports and skips it. Line numbers count the header as line 1 (a
    quoted field spanning lines is reported at its first line).
    """
    reader = csv.reader(source)
    try:
        header = next(reader)
    except StopIteration:
        return
    header = [column.strip().lstrip("\ufeff") for column in header]
    missing = [column for column in CSV_COLUMNS if column not in header]
    if missing:
        yield RowError(1, f"header lacks columns: {', '.join(missing)}")
        return
    positions = [header.index(column) for column in CSV_COLUMNS]
    line_number = reader.line_num
    for row in reader:
        row_line = line_number + 1
        line_number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            yield RowError(row_line, f"expected {len(header)} columns, got {len(row)}")
            continue
        values = {
            column: row[position].strip()
            for column, position in zip(CSV_COLUMNS, positions, strict=True)
        }
        if not values["record_id"]:
            yield RowError(row_line, "record_id is empty")
            continue
        created_text = values.pop("created_at")
        created_at = None
        if created_text:
            try:
                created_at = datetime.fromisoformat(created_text)
            except ValueError:
                yield RowError(row_line, f"created_at {created_text!r} is not ISO 8601")
                continue
        yield Observation(**values, created_at=created_at)


def write_observations_csv(
    out: TextIO,
    observations: Iterable[Observation],
    *,
    extra_columns: Mapping[str, Mapping[str, str]] | None = None,
) -> int:
    """Write observations as UTF-8 CSV in this format; return the row count.

    ``extra_columns`` (name -> value per record id, such as a generated dataset's ground truth)
    follow :data:`CSV_COLUMNS`; the reader ignores them.
    """
    extra = extra_columns or {}
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS + tuple(extra))
    rows = 0
    for observation in observations:
        created_at = observation.created_at
        writer.writerow(
            [
                observation.record_id,
                observation.channel,
                observation.channel_account_id,
                observation.device_id,
                observation.phone,
                observation.receiver_name,
                observation.address,
                created_at.isoformat(timespec="seconds") if created_at else "",
                *(values[observation.record_id] for values in extra.values()),
            ]
        )
        rows += 1
    return rows
