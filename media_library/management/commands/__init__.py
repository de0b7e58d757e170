"""`media_import` (a folder of files into the library) and `media_refresh` (ids
that expire soon made again, dead ones marked expired; run it hourly)."""
