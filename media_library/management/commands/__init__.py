"""`media_import` (files, or the files under folders, into the library) and
`media_refresh` (ids that expire soon made again, dead ones marked expired; run
it hourly)."""
