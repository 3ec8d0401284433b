"""The shared language of Pathwise: vocabularies and small value types.

Nothing here does I/O; `data_access/`, `indicators/`, the pages and the command line all
import their controlled vocabularies from `domain.vocabulary` so that one list is the truth.
"""
