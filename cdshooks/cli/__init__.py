"""The `pa-advisor` command line: serve, lint, new-policy, kinds, explain, fixtures, db, hook, ehr-key, probe
(commands), `hook` playing the EHR (ehr_cli, on the request builder of cdshooks/ehr/) and the FHIR sandbox the
tests run (sandbox). Imports any subpackage; nothing imports it."""
