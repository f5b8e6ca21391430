"""FHIR R4 data: coding helpers (codes), dates and periods (dates), quantities and their units (quantity), the
patient record the criteria read (record), resource validation (models) and the FHIR client that fetches from
the EHR's server (client). codes, dates, quantity and record are pure data that policy/ may import; they import
only each other. client does the I/O and imports metrics and strict_json.
"""
