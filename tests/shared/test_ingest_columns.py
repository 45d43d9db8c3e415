"""The columnar stream codec shared by ingest (encoder) and benchmark (decoder)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shared.schemas.ingest_columns import decode_chunk, encode_chunk, epoch_day


@pytest.mark.parametrize("encoding", ["json", "base64"])
def test_round_trip_keeps_missing_as_missing(encoding):
    cols = {
        "account_id": [3, 3, 7],
        "published_at": [1_700_000_000, 1_700_000_100, 1_700_000_200],
        "engagements": [12.0, float("nan"), 0.0],
        "text": ["Événement à Québec 🎉", None, "x"],
    }
    line = encode_chunk(cols, encoding=encoding, extra={"metric": "followers"})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    n, out, extra = decode_chunk(line)
    assert n == 3 and extra == {"metric": "followers"}
    assert out["account_id"].dtype == np.int64 and out["account_id"].tolist() == [3, 3, 7]
    eng = out["engagements"]
    assert eng[0] == 12.0 and math.isnan(eng[1]) and eng[2] == 0.0  # zero stays zero
    assert out["text"] == ["Événement à Québec 🎉", None, "x"]


def test_unequal_columns_are_refused():
    with pytest.raises(ValueError):
        encode_chunk({"account_id": [1, 2], "engagements": [1.0]})


def test_epoch_day():
    import datetime as dt

    assert epoch_day(dt.date(1970, 1, 2)) == 1
