"""PA Advisor: a CDS Hooks 2.0 service that predicts prior-authorization outcomes for specialty drugs."""

__version__ = "0.1.0"
