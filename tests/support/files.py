"""Files of the repository the tests read: the examples, the plan catalog, test CRDs."""

from __future__ import annotations

from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
EXAMPLES: Final = REPO_ROOT / "examples" / "organization"
CATALOG_FILE: Final = EXAMPLES / "04-billing-plans-configmap.yaml"
E2E_QUOTA_DIR: Final = REPO_ROOT / "tests" / "e2e" / "quota"
"""test data of the quota tests (the EIp CRD, ...)"""
EIP_CRD: Final = E2E_QUOTA_DIR / "eip-crd.yaml"
