"""The only code that touches the database.

Tables (`models`), engine (`engine`), migrations (`schema`), the access policy, audit and
importers. Pages and the command line read student data only through the scoped functions
this package exports; each takes the signed-in principal.
"""

from data_access import busy as _busy  # noqa: E402, F401  (every engine reports a locked SQLite database as DatabaseBusy)
