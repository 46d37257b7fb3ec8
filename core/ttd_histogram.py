"""Time-to-decision histograms: log buckets 5% wide, so a percentile or median read from one is
within 2.5% of the true value. The rollups keep them for windows too long to sort."""
from __future__ import annotations

import math
from collections import Counter

TTD_RATIO = 1.05  # histogram buckets 5% wide: a percentile read from it is within 2.5% of the true one


def ttd_bucket(seconds: float) -> str:
    return "-1" if seconds < 1 else str(math.floor(math.log(seconds) / math.log(TTD_RATIO)))


def ttd_value(bucket: str) -> float:
    """The bucket's geometric middle."""
    b = int(bucket)
    return 0.5 if b < 0 else TTD_RATIO ** (b + 0.5)


def _at_rank(histogram: Counter, rank: int) -> float:
    seen = 0
    for bucket in sorted(histogram, key=int):
        seen += histogram[bucket]
        if seen >= rank:
            return ttd_value(bucket)
    raise ValueError(f"rank {rank} is beyond the histogram's {seen} values")


def ttd_percentile(histogram: Counter, p: float) -> float | None:
    """Nearest rank over the histogram, like metrics.percentile over the values."""
    total = sum(histogram.values())
    return _at_rank(histogram, max(1, math.ceil(p / 100 * total))) if total else None


def ttd_median(histogram: Counter) -> float | None:
    """The middle value, or the mean of the two middle ones, like statistics.median over the values."""
    total = sum(histogram.values())
    if not total:
        return None
    return (_at_rank(histogram, (total + 1) // 2) + _at_rank(histogram, total // 2 + 1)) / 2
