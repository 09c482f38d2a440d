"""Usage-vs-speculation scoring: pure functions over a daily Series (chart rendering is the only I/O)."""

from scoring.score import NoUsageDataError, ScoreResult, label_for, score_series
from scoring.series import Series, load_csv
from scoring.sustainability import MonthlySeries, sustainability

__all__ = ["MonthlySeries", "NoUsageDataError", "ScoreResult", "Series", "label_for", "load_csv",
           "score_series", "sustainability"]
