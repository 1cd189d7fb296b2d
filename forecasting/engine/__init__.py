"""The forecasting engine: pure numpy/pandas/scikit-learn code, no Django (issue: forecasting).

Everything here works on a `Panel` of many monthly series at once; models forecast the whole
panel in one call, vectorised across series, so a portfolio is not a Python loop per series.
"""
