"""One CDS Hooks call from parsed request to cards: the request and response contracts (protocol), the hook
table and prefetch templates (hooks), the patient record assembled from prefetch or the EHR's FHIR server
(record_builder), the evaluation of each draft order under the policy that governs it (call), and the cards
and CRD coverage information built from it (cards). Imports fhir/, policy/, dtr/, store/ and security/;
never Flask or web/.
"""
