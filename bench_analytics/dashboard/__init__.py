"""The Panel dashboard: ``panel serve bench_analytics/dashboard/app.py`` or
``bench-analytics dashboard``. A data layer over the public API, one module per tab, an app
that only assembles them."""
