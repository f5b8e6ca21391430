"""The tester's console (`/console`): the EHR played in a browser, on the bundled fixtures or a FHIR server."""
