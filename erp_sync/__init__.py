"""ERP sync client: the ``daojia-import`` command and the pieces it is made of.

* :mod:`erp_sync.files`: splitting large files at row boundaries, mapping lines back;
* :mod:`erp_sync.api`: a standard-library HTTP client of the sign-in and import routes;
* :mod:`erp_sync.importer`: uploading parts and following their jobs to the end;
* :mod:`erp_sync.cli`: the command line.

It depends on the API's HTTP contract only, never on ``functions/`` code, so it can be
installed on the ERP's machine on its own.
"""

__version__ = "0.1.0"
