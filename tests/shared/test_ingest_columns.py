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


def test_binary_frames_cut_from_any_chunking():
    from shared.schemas.ingest_columns import FrameReader, decode_frame

    frames = [
        encode_chunk(
            {
                "account_id": [k, k, k + 1],
                "day": [19_000, 19_001, 19_000],
                "value": [1.0 * k, float("nan"), 0.0],
                "text": ["é 🎉", None, "x"],
            },
            encoding="binary",
            extra={"metric": "followers"},
        )
        for k in range(3)
    ]
    stream = b"".join(frames)
    for step in (1, 5, 64, len(frames[0]) - 1, len(stream)):
        reader = FrameReader()
        got = []
        for i in range(0, len(stream), step):
            got.extend(reader.feed(stream[i : i + step]))
        reader.close()
        assert len(got) == 3
        n, cols, extra = decode_frame(got[2])
        assert n == 3 and extra == {"metric": "followers"}
        assert cols["account_id"].tolist() == [2, 2, 3]
        assert cols["day"].dtype == np.int64 and cols["value"][0] == 2.0
        assert math.isnan(cols["value"][1]) and cols["value"][2] == 0.0
        assert cols["text"] == ["é 🎉", None, "x"]


def test_a_cut_or_damaged_binary_stream_is_an_error():
    from shared.schemas.ingest_columns import FrameReader, decode_frame

    frame = encode_chunk({"account_id": [1, 2], "value": [1.0, 2.0]}, encoding="binary")
    reader = FrameReader()
    assert reader.feed(frame[:-3]) == []
    with pytest.raises(ValueError, match="ends inside a frame"):
        reader.close()
    with pytest.raises(ValueError):
        decode_frame(frame + b"\0")
