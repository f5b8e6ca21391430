"""Tools for the people who write policies: the mappings linter (lint), the kinds reference (kinds_reference),
a policy's text read into outline items (policy_text, source_check: `lint --source`), the scaffold
(`new-policy`) and test patients derived from existing ones (`fixtures new`). Used by the command line only;
may import policy/ and fhir/ data modules, never web/ or service/.
"""
