"""The payer-side Da Vinci DTR server: Questionnaires generated from the policies (questionnaire, library),
the kept evaluation turned into a pre-answered form (prefill), `$questionnaire-package` (package) and its
Flask blueprint (routes). Imports policy/, fhir/ data and the store it is handed; never service/ or web/."""
