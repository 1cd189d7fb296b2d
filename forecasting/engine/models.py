"""The statistical models of the catalogue (FC-20), vectorised across series.

Every model has the signature `forecast(values, h, m, **params) -> (n, h)`: `values` is an (n, T)
panel whose rows are left-padded with NaN (each row's history is its non-NaN tail), `m` is the
season length. Rows a model cannot forecast (too short, fit failure) come back as NaN so the caller
can follow the fallback chain (FC-22). No loop runs over series: recursions loop over time steps
and parameter grids, with every series (and every grid point) carried along as an array axis.

Helpers: `right_align` / `left_align` move each row's history to one end, `interval_scale` is the
FC-20 horizon widening, and `bands` gives the FC-20 "Band" column for a model when no backtest
errors exist (FC-44).
"""

import numpy as np

from forecasting.engine.base import ModelSpec, register

# The smallest history each function can forecast from (below it the row is NaN). These are the
# algorithm limits and the fallback conditions of FC-20, not the catalogue's `min_months` (which
# gates automatic candidates).
MIN_POINTS = {
    "moving_average": 1,
    "ewma": 1,
    "exp_smoothing": 4,
    "seasonal_naive": None,  # m
    "theta": 6,
}

_ALPHA_GRID = np.array([0.05, 0.2, 0.4, 0.6, 0.8, 0.99])
_BETA_GRID = np.array([0.01, 0.1, 0.2, 0.4])
_GAMMA_GRID = np.array([0.01, 0.1, 0.3])
_PHI_GRID = np.array([0.8, 0.9, 0.98])
_SEASONAL_CHOICES = ("auto", "none", "additive", "multiplicative")
# Backtest origins between two grid searches of exp_smoothing's parameters (see ModelSpec.refit_every).
HW_REFIT_EVERY = 6
_SES_ALPHA_GRID = np.round(np.linspace(0.01, 0.99, 99), 2)


# ---------------------------------------------------------------------------------------------
# Helpers


def lengths(values: np.ndarray) -> np.ndarray:
    """History points per row (the non-NaN count)."""
    return np.sum(~np.isnan(values), axis=1)


def right_align(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move each row's non-NaN values (order kept) to the right end, NaN padding to the left.

    Returns (aligned (n, T), lengths (n,)). A panel built as the engine builds it is already right
    aligned; this also accepts trailing or interior NaN.
    """
    values = np.asarray(values, dtype=float)
    order = np.argsort(~np.isnan(values), axis=1, kind="stable")  # NaN (False) first
    return np.take_along_axis(values, order, axis=1), lengths(values)


def left_align(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move each row's non-NaN values (order kept) to the left end, NaN padding to the right.

    Row i then has its history in columns 0..n_i-1, so every row starts at time 0 and a recursion
    over columns treats all rows alike (state updates are masked once t >= n_i).
    """
    values = np.asarray(values, dtype=float)
    order = np.argsort(np.isnan(values), axis=1, kind="stable")  # valid (False) first
    return np.take_along_axis(values, order, axis=1), lengths(values)


def last_values(left: np.ndarray, n: np.ndarray, k: int = 1) -> np.ndarray:
    """(rows, k) of the last k history points of a left-aligned array (NaN where n < k)."""
    idx = n[:, None] - k + np.arange(k)[None, :]
    out = np.take_along_axis(left, np.clip(idx, 0, left.shape[1] - 1), axis=1)
    out[idx < 0] = np.nan
    return out


def interval_scale(i) -> np.ndarray:
    """FC-20 horizon widening: scale(i) = min(2, 1 + 0.15 * sqrt(i - 1)), i = 1, 2, ..."""
    i = np.asarray(i, dtype=float)
    return np.minimum(2.0, 1.0 + 0.15 * np.sqrt(np.maximum(i - 1.0, 0.0)))


def _nan_rows(n_rows: int, h: int) -> np.ndarray:
    return np.full((n_rows, h), np.nan)


def _steps(h: int) -> np.ndarray:
    return np.arange(1, h + 1, dtype=float)[None, :]


# ---------------------------------------------------------------------------------------------
# Moving average and EWMA


def moving_average(values: np.ndarray, h: int, m: int = 12, window: int = 6, trend_weight: float = 0.5) -> np.ndarray:
    """Weighted mean of the last w = min(window, n) points, weights 1..w (newest heaviest), plus a
    trend 0.3 * (y[n] - y[n-1]) scaled by i * trend_weight (FC-20)."""
    vals, n = right_align(values)
    rows, T = vals.shape
    if T == 0:
        return _nan_rows(rows, h)
    w = np.minimum(int(window), n)
    col = np.arange(T)[None, :]
    weight = col - (T - w)[:, None] + 1.0  # 1..w on the last w columns
    weight = np.where(weight >= 1, weight, 0.0)
    wavg = np.nansum(np.where(weight > 0, vals, 0.0) * weight, axis=1) / np.where(w > 0, weight.sum(axis=1), 1.0)
    trend = np.where(n >= 2, 0.3 * (vals[:, -1] - vals[:, -2 if T >= 2 else -1]), 0.0)
    out = wavg[:, None] + trend[:, None] * _steps(h) * float(trend_weight)
    out[n < MIN_POINTS["moving_average"]] = np.nan
    return out


def ewma_level(values: np.ndarray, alpha: float) -> np.ndarray:
    """Non-adjusted EWMA level at the end of each row: l1 = y1, lt = a*yt + (1-a)*l(t-1)."""
    vals, _ = right_align(values)
    level = np.full(vals.shape[0], np.nan)
    for t in range(vals.shape[1]):
        y = vals[:, t]
        level = np.where(np.isnan(level), y, alpha * y + (1.0 - alpha) * level)
    return level


def ewma(values: np.ndarray, h: int, m: int = 12, alpha: float = 0.35, trend_weight: float = 0.4) -> np.ndarray:
    """EWMA level plus the mean of the last 3 first differences (0 if n < 4) times i * trend_weight."""
    vals, n = right_align(values)
    rows, T = vals.shape
    if T == 0:
        return _nan_rows(rows, h)
    level = ewma_level(vals, float(alpha))
    if T >= 4:
        trend = (vals[:, -1] - vals[:, -4]) / 3.0  # mean of the last three first differences
        trend = np.where(n >= 4, trend, 0.0)
    else:
        trend = np.zeros(rows)
    out = level[:, None] + trend[:, None] * _steps(h) * float(trend_weight)
    out[n < MIN_POINTS["ewma"]] = np.nan
    return out


# ---------------------------------------------------------------------------------------------
# Seasonal naive


def seasonal_naive(values: np.ndarray, h: int, m: int = 12, season_length: int | None = None) -> np.ndarray:
    """pred_i = y[n - m + ((i - 1) mod m)] (1-indexed): the same month of the last season."""
    m = int(season_length or m)
    vals, n = right_align(values)
    rows, T = vals.shape
    if m > T or m < 1:
        return _nan_rows(rows, h)
    cols = T - m + (np.arange(h) % m)
    out = vals[:, cols]
    out[n < m] = np.nan
    return out


# ---------------------------------------------------------------------------------------------
# Exponential smoothing (damped Holt / Holt-Winters)


def _param(params: dict, *names):
    for name in names:
        if params.get(name) is not None:
            return float(params[name])
    return None


def _hw_run(y, n, season, alpha, beta, gamma, phi, m, h, keep_resid=False):
    """Run Holt(-Winters) for every (grid point, series) at once.

    y: (N, T) left-aligned; n: (N,); alpha/beta/gamma/phi: (G, 1) for a grid shared by all
    series or (1, N) for one parameter set per series.
    season: None, "additive" or "multiplicative" (then every row has n >= 2m and y > 0).
    Returns sse (G, N), forecasts (G, N, h) and, with keep_resid, residuals (G, N, T) (NaN
    outside the history).
    """
    N, T = y.shape
    a, b_, g, p = alpha, beta, gamma, phi
    G = a.shape[0]
    if season is None:
        b0 = y[:, 1] - y[:, 0]
        l0 = y[:, 0] - b0
        s = None
    else:
        first = y[:, :m].mean(axis=1)
        second = y[:, m : 2 * m].mean(axis=1)
        b0 = (second - first) / m
        l0 = first - b0 * (m + 1) / 2.0  # level one step before the first observation
        base = l0[:, None] + b0[:, None] * np.arange(1, m + 1)[None, :]
        s0 = y[:, :m] - base if season == "additive" else y[:, :m] / base
        # s[j] = index for t % m == j, (G, N) contiguous per season position
        s = np.broadcast_to(s0.T[:, None, :], (m, G, N)).copy()
    level = np.broadcast_to(l0, (G, N)).copy()
    trend = np.broadcast_to(b0, (G, N)).copy()
    sse = np.zeros((G, N))
    resid = np.full((G, N, T), np.nan) if keep_resid else None
    n_min = int(n.min()) if N else 0
    for t in range(T):
        full = t < n_min  # every row is inside its history: the masking below would keep every update
        active = (t < n)[None, :]
        yt = np.where(np.isnan(y[:, t]), 0.0, y[:, t])[None, :]
        base = level + p * trend
        if s is None:
            fit = base
            new_level = a * yt + (1 - a) * base
        else:
            st = s[t % m]
            if season == "additive":
                fit = base + st
                new_level = a * (yt - st) + (1 - a) * base
            else:
                fit = base * st
                new_level = a * (yt / st) + (1 - a) * base
        err = yt - fit
        new_trend = b_ * (new_level - level) + (1 - b_) * p * trend
        if s is not None:
            new_s = g * (yt - new_level) + (1 - g) * st if season == "additive" else g * (yt / new_level) + (1 - g) * st
            s[t % m] = new_s if full else np.where(active, new_s, st)
        if keep_resid:
            resid[:, :, t] = err if full else np.where(active, err, np.nan)
        if full:
            sse += err**2
            level, trend = new_level, new_trend
            continue
        sse += np.where(active, err**2, 0.0)
        level = np.where(active, new_level, level)
        trend = np.where(active, new_trend, trend)
    # damped trend sum: phi + phi^2 + ... + phi^i
    steps = np.arange(1, h + 1)
    damp = np.cumsum(p[:, :, None] ** steps[None, None, :], axis=2)  # (G, 1 or N, h)
    fc = level[:, :, None] + trend[:, :, None] * damp
    if s is not None:
        idx = (n[:, None] + steps[None, :] - 1) % m  # (N, h) season position of each forecast step
        seas = np.take_along_axis(np.moveaxis(s, 0, 2), np.broadcast_to(idx, (G, N, h)), axis=2)
        fc = fc + seas if season == "additive" else fc * seas
    return sse, fc, resid


def _hw_fit(values, h, m, params, fixed=None):
    """Fit exp_smoothing per row; returns (forecast (n, h), residuals (n, T) left-aligned, state (n, 5)).

    state holds each row's (alpha, beta, gamma, phi, seasonal) with seasonal 1 when the row was fitted
    with the seasonal form, NaN for rows not fitted. Given `fixed` (a state of the same rows), a row
    whose fixed parameters are finite and of the same form reuses them instead of the grid search.
    """
    y, n = left_align(values)
    rows, T = y.shape
    out = _nan_rows(rows, h)
    resid_out = np.full((rows, T), np.nan)
    state = np.full((rows, 5), np.nan)
    damped = params.get("damped_trend", True)
    if isinstance(damped, str):
        damped = damped.strip().lower() in ("true", "1", "yes", "on")
    seasonal = str(params.get("seasonal", "auto") or "auto").lower()
    if seasonal not in _SEASONAL_CHOICES:
        raise ValueError(f"seasonal must be one of {', '.join(_SEASONAL_CHOICES)}, got {seasonal!r}")
    alpha = _param(params, "smoothing_level", "alpha")
    beta = _param(params, "smoothing_trend", "beta")
    gamma = _param(params, "smoothing_seasonal", "gamma")
    phi = _param(params, "damping_trend", "phi")
    m = int(m)
    ok = n >= MIN_POINTS["exp_smoothing"]
    seasonal_kind = None if seasonal == "none" else ("additive" if seasonal == "auto" else seasonal)
    use_season = ok & (n >= 2 * m) & (m >= 2) if seasonal_kind else np.zeros(rows, bool)
    if seasonal_kind == "multiplicative":
        positive = np.all((y > 0) | np.isnan(y), axis=1)
        failed = use_season & ~positive  # multiplicative seasonality needs positive data: fit failure
        ok &= ~failed
        use_season &= positive
    groups = [(ok & ~use_season, None, 0.0), (use_season, seasonal_kind, 1.0)]
    for mask, kind, form in groups:
        if not mask.any():
            continue
        grid = np.array(
            np.meshgrid(
                [alpha] if alpha is not None else _ALPHA_GRID,
                [beta] if beta is not None else _BETA_GRID,
                ([gamma] if gamma is not None else _GAMMA_GRID) if kind else [0.0],
                ([phi] if phi is not None else _PHI_GRID) if damped else [1.0],
                indexing="ij",
            )
        ).reshape(4, -1)
        yy, nn = y[mask], n[mask]
        width = int(nn.max())
        yy = yy[:, :width]
        chosen = np.broadcast_to(grid[:, :1], (4, yy.shape[0])).copy()  # (4, N): one parameter set per series
        if grid.shape[1] > 1:
            reuse = np.zeros(yy.shape[0], dtype=bool)
            if fixed is not None:
                prior = fixed[mask]
                reuse = np.all(np.isfinite(prior[:, :4]), axis=1) & (prior[:, 4] == form)
                chosen[:, reuse] = prior[reuse, :4].T
            search = ~reuse
            if search.any():
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    sse = _hw_run(yy[search], nn[search], kind, *grid[:, :, None], m, 1)[0]
                sse = np.where(np.isfinite(sse), sse, np.inf)
                best = np.argmin(sse, axis=0)  # first (smallest-parameter) grid point wins ties
                chosen[:, search] = grid[:, best]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            _, fc, resid = _hw_run(yy, nn, kind, *chosen[:, None, :], m, h, keep_resid=True)
        out[mask] = fc[0]
        resid_out[mask, :width] = resid[0]
        state[mask, :4] = chosen.T
        state[mask, 4] = form
    out[~np.all(np.isfinite(out), axis=1)] = np.nan
    return out, resid_out, state


def exp_smoothing(values: np.ndarray, h: int, m: int = 12, **params) -> np.ndarray:
    """Additive (by default damped) trend exponential smoothing, with yearly seasonality of period
    m when n >= 2m (`seasonal` auto = additive, or none/additive/multiplicative). Smoothing
    parameters not given are estimated per series by minimising the one-step squared error over a
    coarse grid evaluated for all series at once."""
    return _hw_fit(values, h, m, params)[0]


def exp_smoothing_fit(values: np.ndarray, h: int, m: int = 12, **params) -> tuple[np.ndarray, np.ndarray]:
    """exp_smoothing's forecasts and the per-row parameters it chose (the refit schedule's state)."""
    out, _, state = _hw_fit(values, h, m, params)
    return out, state


def exp_smoothing_predict(state: np.ndarray, values: np.ndarray, h: int, m: int = 12, **params) -> np.ndarray:
    """exp_smoothing with each row's parameters taken from `state` (rows of the same panel, possibly with a
    longer history now); rows without parameters of their current form are estimated afresh."""
    return _hw_fit(values, h, m, params, fixed=state)[0]


# ---------------------------------------------------------------------------------------------
# Theta


def _acf(y, n, max_lag):
    """Autocorrelations r_1..r_max_lag of each left-aligned row (rows with n <= lag get NaN)."""
    rows, T = y.shape
    mean = np.nansum(y, axis=1) / np.maximum(n, 1)
    d = np.where(np.isnan(y), 0.0, y - mean[:, None])
    denom = np.sum(d**2, axis=1)
    r = np.full((rows, max_lag), np.nan)
    for k in range(1, max_lag + 1):
        if k < T:
            num = np.sum(d[:, k:] * d[:, :-k], axis=1)
            r[:, k - 1] = np.where((denom > 0) & (n > k), num / np.where(denom > 0, denom, 1.0), np.nan)
    return r


def _seasonal_indices(y, n, m):
    """Classical multiplicative decomposition: indices (rows, m) for position t % m, mean 1."""
    rows, T = y.shape
    filled = np.where(np.isnan(y), 0.0, y)
    csum = np.concatenate([np.zeros((rows, 1)), np.cumsum(filled, axis=1)], axis=1)
    t = np.arange(T)
    if m % 2 == 0:  # 2 x m centred moving average
        half = m // 2
        lo, hi = t - half, t + half  # window [t-half, t+half] with half weights at both ends
        valid = (lo >= 0)[None, :] & (hi[None, :] < n[:, None])
        loc, hic = np.clip(lo, 0, T - 1), np.clip(hi, 0, T - 1)
        inner = csum[:, np.clip(hic, 0, T)] - csum[:, np.clip(loc + 1, 0, T)]  # sum of lo+1..hi-1
        ends = 0.5 * (filled[:, loc] + filled[:, hic])
        cma = (inner + ends) / m
    else:
        half = m // 2
        lo, hi = t - half, t + half
        valid = (lo >= 0)[None, :] & (hi[None, :] < n[:, None])
        cma = (csum[:, np.clip(hi + 1, 0, T)] - csum[:, np.clip(lo, 0, T)]) / m
    ratio = np.where(valid, filled / np.where(valid, cma, 1.0), np.nan)
    pos = t % m
    idx = np.full((rows, m), np.nan)
    for j in range(m):
        cols = ratio[:, pos == j]
        cnt = np.sum(~np.isnan(cols), axis=1)
        idx[:, j] = np.where(cnt > 0, np.nansum(cols, axis=1) / np.maximum(cnt, 1), np.nan)
    return idx / np.nanmean(idx, axis=1, keepdims=True)


def _ses_run(y, n, a, keep_resid=False):
    """SES (l1 = y1) on left-aligned rows for alpha a of shape (G, 1) or (1, N)."""
    rows, T = y.shape
    G = a.shape[0]
    level = np.broadcast_to(y[:, 0], (G, rows)).copy()
    sse = np.zeros((G, rows))
    resid = np.full((G, rows, T), np.nan) if keep_resid else None
    n_min = int(n.min()) if rows else 0
    for t in range(1, T):
        yt = np.where(np.isnan(y[:, t]), 0.0, y[:, t])[None, :]
        err = yt - level
        if t < n_min:  # every row is inside its history: no masking needed
            sse += err**2
            if keep_resid:
                resid[:, :, t] = err
            level = level + a * err
            continue
        active = (t < n)[None, :]
        sse += np.where(active, err**2, 0.0)
        if keep_resid:
            resid[:, :, t] = np.where(active, err, np.nan)
        level = np.where(active, level + a * err, level)
    return sse, level, resid


def _ses_fit(y, n, alpha=None):
    """SES on left-aligned rows, l1 = y1, alpha per row minimising the one-step squared error
    (grid 0.01..0.99). Returns (level at n (rows,), alpha (rows,), residuals (rows, T))."""
    if alpha is not None:
        chosen = np.full(y.shape[0], float(alpha))
    else:
        sse = _ses_run(y, n, _SES_ALPHA_GRID[:, None])[0]
        chosen = _SES_ALPHA_GRID[np.argmin(sse, axis=0)]
    _, level, resid = _ses_run(y, n, chosen[None, :], keep_resid=True)
    return level[0], chosen, resid[0]


def _theta_fit(values, h, m, theta=2.0, seasonal="auto", alpha=None):
    """Returns (forecast (n, h), one-step residuals (n, T) of the SES on the adjusted series)."""
    y, n = left_align(values)
    rows, T = y.shape
    out = _nan_rows(rows, h)
    resid_out = np.full((rows, T), np.nan)
    ok = n >= MIN_POINTS["theta"]
    if not ok.any():
        return out, resid_out
    m = int(m)
    seasonal = str(seasonal or "auto").lower()
    if seasonal not in _SEASONAL_CHOICES:
        raise ValueError(f"seasonal must be one of {', '.join(_SEASONAL_CHOICES)}, got {seasonal!r}")
    season_idx = np.ones((rows, max(m, 1)))
    deseason = np.zeros(rows, bool)
    if seasonal != "none" and m >= 2:
        candidates = ok & (n >= 2 * m) & np.all((y > 0) | np.isnan(y), axis=1)
        if candidates.any():
            r = _acf(y, n, m)
            limit = 1.645 * np.sqrt((1 + 2 * np.nansum(r[:, : m - 1] ** 2, axis=1)) / np.maximum(n, 1))
            test = r[:, m - 1] > limit
            deseason = candidates & (test if seasonal == "auto" else True)
            if deseason.any():
                season_idx[deseason] = _seasonal_indices(y[deseason], n[deseason], m)
    t = np.arange(T)
    pos_hist = np.broadcast_to(t % max(m, 1), (rows, T))
    si_hist = np.take_along_axis(season_idx, pos_hist, axis=1)
    adj = np.where(deseason[:, None], y / si_hist, y)
    yy, nn = adj[ok], n[ok]
    level, a, resid = _ses_fit(yy, nn, alpha)
    # OLS slope of y on t over each row's history
    tt = np.where(np.isnan(yy), np.nan, np.arange(T)[None, :].astype(float))
    tbar = np.nanmean(tt, axis=1, keepdims=True)
    ybar = np.nanmean(yy, axis=1, keepdims=True)
    b0 = np.nansum((tt - tbar) * (yy - ybar), axis=1) / np.nansum((tt - tbar) ** 2, axis=1)
    steps = _steps(h)
    th = float(theta)
    drift = b0 * (th - 1.0) / th
    fc = level[:, None] + drift[:, None] * (steps - 1 + 1 / a[:, None] - (1 - a[:, None]) ** nn[:, None] / a[:, None])
    pos_fc = (nn[:, None] + np.arange(h)[None, :]) % max(m, 1)
    fc *= np.take_along_axis(season_idx[ok], pos_fc, axis=1)
    out[ok] = fc
    resid_out[ok] = resid
    out[~np.all(np.isfinite(out), axis=1)] = np.nan
    return out, resid_out


def theta(values: np.ndarray, h: int, m: int = 12, theta: float = 2.0, seasonal: str = "auto", **extra) -> np.ndarray:
    """Standard Theta method (SES + half the OLS drift for theta = 2), with a multiplicative
    classical decomposition when n >= 2m and the lag-m autocorrelation is significant."""
    return _theta_fit(values, h, m, theta, seasonal, extra.get("alpha"))[0]


# ---------------------------------------------------------------------------------------------
# ARIMA (Hannan-Rissanen estimation, vectorised)


def _lag_stack(z: np.ndarray, k: int) -> np.ndarray:
    """(N, T, k) with [:, t, j] = z[:, t - j - 1] (NaN before the start)."""
    N, T = z.shape
    out = np.full((N, T, k), np.nan)
    for j in range(k):
        out[:, j + 1 :, j] = z[:, : T - j - 1]
    return out


def _batched_ols(X: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per-row least squares over the masked time steps: X (N, T, k), y (N, T) -> (N, k)."""
    Xm = np.where(mask[:, :, None], X, 0.0)
    ym = np.where(mask, y, 0.0)
    xtx = np.einsum("ntk,ntl->nkl", Xm, Xm) + 1e-9 * np.eye(X.shape[2])[None]
    xty = np.einsum("ntk,nt->nk", Xm, ym)
    return np.linalg.solve(xtx, xty[:, :, None])[:, :, 0]


def _max_inverse_root(coef: np.ndarray) -> np.ndarray:
    """Largest |inverse root| of 1 - c1 B - ... - ck B^k per row (companion eigenvalues)."""
    N, k = coef.shape
    if k == 0:
        return np.zeros(N)
    comp = np.zeros((N, k, k))
    comp[:, 0, :] = coef
    if k > 1:
        comp[:, np.arange(1, k), np.arange(k - 1)] = 1.0
    return np.max(np.abs(np.linalg.eigvals(comp)), axis=1)


def _pull_inside(coef: np.ndarray, limit: float = 0.98) -> np.ndarray:
    """Scale c_k by r^k so every inverse root lies within `limit` (stationary / invertible)."""
    if coef.shape[1] == 0:
        return coef
    big = _max_inverse_root(coef)
    r = np.where(np.isfinite(big) & (big > limit), limit / np.where(big > 0, big, 1.0), 1.0)
    return coef * r[:, None] ** np.arange(1, coef.shape[1] + 1)[None, :]


def _arima_fit(values, h, p=1, d=1, q=1):
    """Returns (forecast (n, h), forecast std (n, h)); NaN rows when too short or the fit fails."""
    p, d, q = int(p), int(d), int(q)
    y, n = left_align(values)
    rows = y.shape[0]
    out, sd = _nan_rows(rows, h), _nan_rows(rows, h)
    nz = n - d
    k = max(p + q, 3) + 1  # long autoregression of stage 1
    ok = (n >= 12) & (nz - k - q >= p + q + 3)
    if not ok.any():
        return out, sd
    yy, nn, nzz = y[ok], n[ok], nz[ok]
    z = yy.copy()
    for _ in range(d):
        z = np.diff(z, axis=1)
    Tz = z.shape[1]
    t = np.arange(Tz)[None, :]
    mu = np.nanmean(z, axis=1) if d == 0 else np.zeros(len(nn))
    z = z - mu[:, None]
    inside = t < nzz[:, None]
    # stage 1: long AR by OLS, its residuals stand in for the innovations
    L = _lag_stack(z, k)
    m1 = inside & (t >= k)
    a = _batched_ols(L, z, m1)
    e = np.where(m1, z - np.einsum("ntk,nk->nt", np.nan_to_num(L), a), 0.0)
    # stage 2: regress z_t on its p lags and q lagged innovations
    X = np.concatenate([_lag_stack(z, p), _lag_stack(e, q)], axis=2)
    m2 = inside & (t >= k + q) & (t >= p)
    coef = _batched_ols(np.nan_to_num(X), z, m2) if p + q else np.zeros((len(nn), 0))
    phi, th = coef[:, :p], coef[:, p:]
    bad = ~np.all(np.isfinite(coef), axis=1)
    phi, th = _pull_inside(np.nan_to_num(phi)), -_pull_inside(-np.nan_to_num(th))
    # conditional-sum-of-squares residuals with the final coefficients
    zf = np.where(inside, z, 0.0)
    e = np.zeros_like(zf)
    for s in range(Tz):
        pred = np.zeros(len(nn))
        for i in range(1, p + 1):
            if s - i >= 0:
                pred += phi[:, i - 1] * zf[:, s - i]
        for j in range(1, q + 1):
            if s - j >= 0:
                pred += th[:, j - 1] * e[:, s - j]
        e[:, s] = np.where(inside[:, s] & (s >= p), zf[:, s] - pred, 0.0)
    used = inside & (t >= p)
    sigma2 = np.sum(e**2 * used, axis=1) / np.maximum(used.sum(axis=1), 1)
    # the full model on y: AR polynomial phi(B) (1 - B)^d
    diff_poly = np.array([1.0])
    for _ in range(d):
        diff_poly = np.convolve(diff_poly, [1.0, -1.0])
    full = np.array([np.convolve(np.concatenate([[1.0], -row]), diff_poly) for row in phi]) if p else None
    if full is None:
        full = np.broadcast_to(diff_poly, (len(nn), d + 1))
    ar = -full[:, 1:]  # y_t = sum ar_i y_{t-i} + e_t + sum th_j e_{t-j}
    P = ar.shape[1]
    hist = last_values(yy - (mu[:, None] if d == 0 else 0.0), nn, max(P, 1))
    ehist = last_values(np.where(inside, e, np.nan), nzz, max(q, 1)) if q else np.zeros((len(nn), 1))
    ehist = np.nan_to_num(ehist)
    ys = list(hist.T)  # oldest .. newest
    es = list(ehist.T)
    fc = np.zeros((len(nn), h))
    for i in range(h):
        val = np.zeros(len(nn))
        for j in range(1, P + 1):
            val += ar[:, j - 1] * ys[-j]
        for j in range(1, q + 1):
            if i - j < 0:
                val += th[:, j - 1] * es[len(es) + i - j]
        ys.append(val)
        fc[:, i] = val
    fc += mu[:, None] if d == 0 else 0.0
    # psi weights of the full model -> forecast standard deviation
    psi = np.zeros((len(nn), h))
    psi[:, 0] = 1.0
    for j in range(1, h):
        acc = th[:, j - 1].copy() if j <= q else np.zeros(len(nn))
        for i in range(1, min(j, P) + 1):
            acc += ar[:, i - 1] * psi[:, j - i]
        psi[:, j] = acc
    std = np.sqrt(sigma2[:, None] * np.cumsum(psi**2, axis=1))
    bad |= ~np.all(np.isfinite(fc), axis=1) | ~np.isfinite(sigma2)
    fc[bad], std[bad] = np.nan, np.nan
    out[ok], sd[ok] = fc, std
    return out, sd


def arima(values: np.ndarray, h: int, m: int = 12, p: int = 1, d: int = 1, q: int = 1) -> np.ndarray:
    """ARIMA(p, d, q) fitted per series by Hannan-Rissanen regressions (long autoregression, then
    OLS on lags and lagged innovations) vectorised across series; no constant when d > 0, the mean
    when d = 0. Coefficients whose polynomial has a root on or inside the unit circle are pulled
    back (c_k scaled by r^k, all inverse roots within 0.98) so the fit stays stationary and
    invertible; non-finite fits count as fit failures (NaN rows)."""
    return _arima_fit(values, h, p, d, q)[0]


# ---------------------------------------------------------------------------------------------
# Naive bands (FC-20 "Band" column), used when there are no backtest errors (FC-44)

BAND_Z = {
    "moving_average": 1.96,
    "ewma": 1.64,
    "exp_smoothing": 1.96,
    "seasonal_naive": 1.64,
    "theta": 1.64,
}


def _pop_std(x: np.ndarray) -> np.ndarray:
    cnt = np.sum(~np.isnan(x), axis=1)
    mean = np.nansum(x, axis=1) / np.maximum(cnt, 1)
    var = np.nansum((x - mean[:, None]) ** 2, axis=1) / np.maximum(cnt, 1)
    return np.where(cnt > 0, np.sqrt(var), np.nan)


def band_sigma(values: np.ndarray, model_id: str, m: int = 12, **params) -> np.ndarray:
    """sigma per row for the model's FC-20 band: population std of the history, or of the
    in-sample one-step residuals for exp_smoothing and theta."""
    values = np.asarray(values, dtype=float)
    if model_id == "exp_smoothing":
        resid = _hw_fit(values, 1, m, params)[1]
        return _pop_std(resid)
    if model_id == "theta":
        resid = _theta_fit(values, 1, m, params.get("theta", 2.0), params.get("seasonal", "auto"), params.get("alpha"))[
            1
        ]
        return _pop_std(resid)
    return _pop_std(values)


def bands(
    values: np.ndarray, point: np.ndarray, model_id: str, m: int = 12, z: float | None = None, **params
) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi), each (n, h): point ± z * sigma * scale(i), lower bound floored at 0.

    z defaults to the model's band z of FC-20 (1.96 or 1.64; 1.64 for models not listed here);
    pass z explicitly for another level (e.g. 1.2816 for 80 %). For `arima` the band is the
    model's own interval: point ± z * forecast standard deviation (z 1.96 by default)."""
    point = np.asarray(point, dtype=float)
    if model_id == "arima":  # the model's own prediction interval (95 % unless z is given)
        keys = ("p", "d", "q")
        sd = _arima_fit(values, point.shape[1], **{k: params[k] for k in keys if k in params})[1]
        half = (1.96 if z is None else float(z)) * sd
        return np.maximum(point - half, 0.0), point + half
    z = BAND_Z.get(model_id, 1.64) if z is None else float(z)
    sigma = band_sigma(values, model_id, m, **params)
    half = z * sigma[:, None] * interval_scale(np.arange(1, point.shape[1] + 1))[None, :]
    return np.maximum(point - half, 0.0), point + half


# ---------------------------------------------------------------------------------------------
# Catalogue (FC-20 table order; the intermittent, machine-learning and ensemble entries are
# registered by their own modules)


def _unavailable(values: np.ndarray, h: int, m: int = 12, **params) -> np.ndarray:
    """Models whose optional library is not shipped never produce numbers (FC-22 fallback)."""
    return _nan_rows(np.asarray(values).shape[0], h)


register(ModelSpec("moving_average", "Moving Average", 3, moving_average, {"window": 6, "trend_weight": 0.5}, None, 80))
register(ModelSpec("ewma", "EWMA", 4, ewma, {"alpha": 0.35, "trend_weight": 0.4}, None, 82))
register(
    ModelSpec(
        "exp_smoothing",
        "Exponential Smoothing (Holt-Winters)",
        12,
        exp_smoothing,
        {
            "damped_trend": True,
            "seasonal": "auto",
            "smoothing_level": None,
            "smoothing_trend": None,
            "smoothing_seasonal": None,
        },
        "moving_average",
        85,
        fit=exp_smoothing_fit,
        predict=exp_smoothing_predict,
        refit_every=HW_REFIT_EVERY,
    )
)
register(ModelSpec("seasonal_naive", "Seasonal Naive", 12, seasonal_naive, {"season_length": 12}, "ewma", 78))
register(ModelSpec("arima", "ARIMA", 12, arima, {"p": 1, "d": 1, "q": 1}, "exp_smoothing", 88))
register(
    ModelSpec(
        "prophet",
        "Prophet (optional)",
        24,
        _unavailable,
        {"seasonality_mode": "multiplicative", "changepoint_prior_scale": 0.05},
        "exp_smoothing",
        95,
        available=False,
    )
)
register(
    ModelSpec(
        "lstm",
        "LSTM (optional)",
        18,
        _unavailable,
        {
            "lookback_window": 12,
            "hidden_size": 32,
            "num_layers": 1,
            "dropout": 0.1,
            "epochs": 120,
            "learning_rate": 0.01,
        },
        "exp_smoothing",
        86,
        available=False,
    )
)
register(ModelSpec("theta", "Theta", 6, theta, {"theta": 2.0, "seasonal": "auto"}, "ewma", 84))
