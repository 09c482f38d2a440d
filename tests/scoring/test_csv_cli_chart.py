"""CSV parsing of good and bad files, the `score` command and its chart."""

from __future__ import annotations

import csv
import json
import math

import pytest

from bot.cli import main
from knowledge.errors import BadInputError
from scoring.series import load_csv
from tests.scoring.synthetic import hype

HEADER = "date,price,market_cap,volume,usage_usd,circulating_supply\n"


def write_series(path, series) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER.strip().split(","))
        for i, d in enumerate(series.dates):
            cells = [series.price[i], series.market_cap[i], series.volume[i], series.usage_usd[i],
                     series.circulating_supply[i]]
            w.writerow([d.isoformat()] + ["" if math.isnan(c) else repr(float(c)) for c in cells])


def test_csv_round_trip_sorts_and_derives_market_cap(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(HEADER + "2024-01-03,2,,10,5,100\n2024-01-01,1,,10,,100\n2024-01-02,\"1,500\",9000,,3,\n")
    s = load_csv(p)
    assert [d.isoformat() for d in s.dates] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert s.market_cap[0] == 100 and s.market_cap[1] == 9000 and s.market_cap[2] == 200
    assert math.isnan(s.usage_usd[0]) and s.price[1] == 1500


@pytest.mark.parametrize("text, message", [
    ("day,price\n2024-01-01,1\n", "no 'date' column"),
    ("date,volume\n2024-01-01,1\n", "'price' or 'market_cap'"),
    (HEADER + "2024-01-01,1,,,,\n2024-13-01,1,,,,\n2024-01-03,abc,,,,\n", "line 3.*line 4"),
    (HEADER + "2024-01-01,1,,,,\n2024-01-01,2,,,,\n", "line 3: duplicate date 2024-01-01"),
    (HEADER, "no data rows"),
    ("", "empty file"),
])
def test_bad_csv_files_are_reported_clearly(tmp_path, text, message):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(BadInputError, match=message):
        load_csv(p)


def test_cli_score_csv_json_daily(tmp_path, capsys):
    p = tmp_path / "h.csv"
    write_series(p, hype(4))
    assert main(["score", "--csv", str(p), "--json", "--daily"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert set(obj) == {"protocol", "as_of", "score", "label", "confidence", "factors", "sustainability", "daily"}
    assert obj["daily"] and obj["daily"][0]["score"] is None
    assert obj["label"] in {"usage-backed", "mixed", "speculative", "speculative-extreme"}
    assert "p_s_annualized" in obj["sustainability"]


def test_cli_score_without_daily_has_empty_daily_and_chart_is_png(tmp_path, capsys):
    p, png = tmp_path / "h.csv", tmp_path / "out.png"
    write_series(p, hype(4))
    assert main(["score", "--csv", str(p), "--json", "--chart", str(png)]) == 0
    assert json.loads(capsys.readouterr().out)["daily"] == []
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_cli_readable_summary_and_bad_file(tmp_path, capsys):
    p = tmp_path / "h.csv"
    write_series(p, hype(4))
    assert main(["score", "--csv", str(p)]) == 0
    out = capsys.readouterr().out
    assert "score" in out and "valuation_gap" in out and "sustainability" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    assert main(["score", "--csv", str(bad)]) == 1
    assert capsys.readouterr().err.startswith("error: ")


def test_cli_no_usage_in_csv_gives_no_score(tmp_path, capsys):
    p = tmp_path / "n.csv"
    p.write_text(HEADER + "".join(f"2024-01-{d:02d},1,100,5,,\n" for d in range(1, 29)))
    assert main(["score", "--csv", str(p), "--json"]) == 1
    err = capsys.readouterr().err
    assert "no usage data" in err


def test_cli_protocol_without_cached_data_suggests_refresh(capsys):
    assert main(["score", "akash"]) == 1
    err = capsys.readouterr().err
    assert "no cached usage data" in err and "compute-desk metrics akash --refresh" in err


def test_charts_drawn_from_several_threads_at_once_all_come_out(tmp_path):
    """The bot draws a /score and a /compare chart in worker threads at the same time; matplotlib's shared
    state once broke one of them (its log-scale tick labels failed to parse) and the reply lost its chart."""
    from concurrent.futures import ThreadPoolExecutor

    from scoring.chart import render_chart
    from scoring.compare_chart import render_comparison_chart
    from scoring.score import score_series

    series = hype(5)
    result = score_series(series, protocol="hype")
    rows = [{"name": n, "market_cap_usd": cap, "usage_annualized_usd": use, "score": 40.0, "label": "mixed"}
            for n, cap, use in (("A", 3e8, 2e6), ("B", 2e9, 1e7), ("C", 4e9, None))]

    def draw(i: int):
        if i % 2:
            return render_comparison_chart(rows, tmp_path / f"c{i}.png")
        return render_chart(series, result, tmp_path / f"s{i}.png")

    with ThreadPoolExecutor(max_workers=4) as pool:
        paths = list(pool.map(draw, range(12)))
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
