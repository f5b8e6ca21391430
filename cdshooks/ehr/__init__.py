"""The EHR side of CDS Hooks, played: hook requests built the way a client builds them (request.py) and the
real clients' observed habits — the CDS Hooks Sandbox, the CRD request generator (profiles.py). Used by the
command line, the console, the tests and the benchmarks, which all import it from here. It may import the hook
table and prefetch templates (service/hooks.py), never the web layer, the command line or the store."""
