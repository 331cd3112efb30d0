"""TSH BFF: one call per mobile screen over the TSH ERP domain."""

__version__ = "1.0.0"
API_VERSION = "1.0.0"
