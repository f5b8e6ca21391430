"""The HTTP face of the service: the Flask app factory (app), the CDS Hooks endpoints (api), the OpenAPI
document (openapi), HTTP helpers (http), the DTR endpoints (dtr_routes) and the tester's console (console/).
May import every other subpackage; only the command line imports it.
"""
