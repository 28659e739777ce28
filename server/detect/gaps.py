"""How long a resident's silences usually are: a per-home histogram of gaps between activity.

Gaps are kept by time of day (eight three-hour bands) and by where the
resident was (up and about, in the bathroom, in bed, in the chair), in log-spaced bins from
one minute to a day, with forgetting so an old routine fades. A population
prior stands in until the home has its own history (cold start), and never
quite goes away, so one odd fortnight cannot teach the detector to wait for
ever. Pure (a flat array of counts, numpy for the quantiles); 12 KiB per home.

>>> model = GapModel()
>>> round(model.quantile(band=3, place=UP, q=0.999) / 60)  # minutes, from the prior alone
65
>>> for _ in range(500):
...     model.learn(band=3, place=UP, gap_s=10 * 60)
>>> round(model.quantile(band=3, place=UP, q=0.999) / 60) < 30
True
"""

from __future__ import annotations

import math
from array import array

import numpy as np
import numpy.typing as npt

__all__ = ["BANDS", "BATHROOM", "IN_BED", "IN_CHAIR", "PLACES", "UP", "GapModel", "band_of"]

UP, BATHROOM, IN_BED, IN_CHAIR = 0, 1, 2, 3
PLACES = ("up", "bathroom", "in bed", "in the chair")
BANDS = 8
_BINS = 48
_MIN_S, _MAX_S = 30.0, 36 * 3600.0
_EDGES = np.geomspace(_MIN_S, _MAX_S, _BINS + 1)
_LOG_STEP = math.log(_MAX_S / _MIN_S) / _BINS
_PLACE_COUNT = len(PLACES)
_CELLS = BANDS * _PLACE_COUNT
_SHAPE = (BANDS, _PLACE_COUNT, _BINS)
# Typical gap medians and spreads (log-normal) for the prior: from the simulator's
# population, rounded; a real deployment would take them from its first homes.
_PRIOR_MEDIAN_S = {UP: 4 * 60.0, BATHROOM: 60.0, IN_BED: 90 * 60.0, IN_CHAIR: 6 * 60.0}
_PRIOR_SIGMA = {UP: 0.9, BATHROOM: 0.9, IN_BED: 1.0, IN_CHAIR: 1.2}
_PRIOR_WEIGHT = 10.0


def band_of(local_hour: float) -> int:
    """The three-hour band of a local clock hour."""
    return int(local_hour // 3) % BANDS


def _prior() -> npt.NDArray[np.float64]:
    centres = np.sqrt(_EDGES[:-1] * _EDGES[1:])
    prior = np.zeros((BANDS, len(PLACES), _BINS))
    for place, median in _PRIOR_MEDIAN_S.items():
        z = (np.log(centres) - math.log(median)) / _PRIOR_SIGMA[place]
        shape = np.exp(-0.5 * z * z)
        prior[:, place, :] = _PRIOR_WEIGHT * shape / shape.sum()
    return prior


_PRIOR = _prior()


class GapModel:
    """Counts of gaps by band, place and length, forgetting slowly (``half_life`` gaps per cell)."""

    def __init__(self, *, half_life: float = 2000.0) -> None:
        # Forgetting is lazy: a cell's counts are ``_raw / _scale``, and each new gap
        # weighs a little more than the last instead of every older one shrinking.
        # The counts are a flat array (band, place, bin), viewed through numpy when
        # summed: adding one gap to a Python array costs a fraction of a numpy item.
        self._raw = array("d", [0.0]) * (_CELLS * _BINS)
        self._scale = [[1.0] * len(PLACES) for _ in range(BANDS)]
        self._growth = 1 / 0.5 ** (1 / half_life)

    def learn(self, *, band: int, place: int, gap_s: float) -> None:
        """One completed gap."""
        if not (_MIN_S <= gap_s < _MAX_S):
            return
        scales = self._scale[band]
        scale = scales[place] = scales[place] * self._growth
        bin_ = min(int(math.log(gap_s / _MIN_S) / _LOG_STEP), _BINS - 1)
        self._raw[(band * _PLACE_COUNT + place) * _BINS + bin_] += scale
        if scale > 1e6:
            self._cells()[band, place] /= scale
            scales[place] = 1.0

    def _cells(self) -> npt.NDArray[np.float64]:
        """The raw counts as a (band, place, bin) numpy view: writing to it writes them."""
        return np.frombuffer(self._raw, dtype=np.float64).reshape(_SHAPE)

    def _counts(self, band: int, place: int) -> npt.NDArray[np.float64]:
        counts: npt.NDArray[np.float64] = self._cells()[band, place] / self._scale[band][place]
        return counts

    def seen(self, *, band: int, place: int) -> float:
        """How many gaps (after forgetting) this cell has learned from."""
        return float(self._counts(band, place).sum())

    def quantile(self, *, band: int, place: int, q: float) -> float:
        """The gap length (seconds) that a share ``q`` of this resident's gaps are under."""
        counts = self._counts(band, place) + _PRIOR[band, place]
        cumulative = np.cumsum(counts)
        target = q * cumulative[-1]
        i = int(np.searchsorted(cumulative, target))
        i = min(i, _BINS - 1)
        # Interpolate inside the bin on the log scale.
        before = cumulative[i - 1] if i else 0.0
        share = (target - before) / counts[i] if counts[i] else 0.0
        low, high = math.log(_EDGES[i]), math.log(_EDGES[i + 1])
        return math.exp(low + share * (high - low))

    def state(self) -> bytes:
        """The learned counts, for a checkpoint."""
        counts: npt.NDArray[np.float64] = self._cells() / np.array(self._scale)[:, :, None]
        return counts.tobytes()

    @classmethod
    def restore(cls, state: bytes, *, half_life: float = 2000.0) -> GapModel:
        """A model from :meth:`state`."""
        model = cls(half_life=half_life)
        counts = np.frombuffer(state, dtype=np.float64).reshape(_SHAPE)  # refuses a wrong size
        model._raw = array("d", counts.tobytes())
        return model
