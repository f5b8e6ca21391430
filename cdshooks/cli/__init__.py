"""The `pa-advisor` command line: serve, lint, new-policy, kinds, explain, fixtures, db, hook (commands), and
the EHR the tests and `hook` play (ehr, ehr_cli, ehr_profiles, sandbox). Imports any subpackage; nothing
imports it."""
