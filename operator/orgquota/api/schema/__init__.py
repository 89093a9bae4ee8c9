"""The shapes of the billing API's answers, as `/api/billing/openapi.json` documents them.

The routes build their JSON by hand (plain dicts, and cached bytes for the organization routes),
so these models are declarations for the document: FastAPI passes a returned Response through
without validating it. tests/unit/api/test_answer_models.py validates every route's real answers
against its model (extra fields forbidden), so the builders and the document cannot drift apart.
"""
