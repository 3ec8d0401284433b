"""How exported data is written (CSV, XLSX, JSON), apart from how it is read.

Pure: frames and documents in, text or bytes out; no database, no Streamlit. `data_access`
reads what the viewer may export and hands it here; the command line and the pages write
the files and show the notice from `exports.formats`.
"""
