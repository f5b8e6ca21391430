"""Who may call: EHR JWT verification against the trusted issuers and their keys, audience and replay checks
(tokens). Imports settings and the store's replay record, never Flask."""
