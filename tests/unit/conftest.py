import pytest

from orgquota.core.catalog import Catalog, parse_catalog

CATALOG = """
plans:
  dev-pool:
    displayName: Dev Pool
    requests: {cpu: "4", memory: 8Gi, storage: 60Gi}
    pods: 100
    servicesLB: 2
    limitRange: {defaultCPU: 500m, defaultMemory: 512Mi, maxCPU: "2", maxMemory: 4Gi}
  pro-pool:
    displayName: Pro Pool
    requests: {cpu: "8", memory: 24Gi, storage: 160Gi}
    pods: 200
    servicesLB: 100
    burstRatio: 1.0
    limitRange:
      defaultCPU: "1"
      defaultMemory: 1Gi
      defaultRequestCPU: 100m
      defaultRequestMem: 128Mi
      maxCPU: "4"
      maxMemory: 8Gi
      minCPU: 10m
      minMemory: 16Mi
      maxPodCPU: "8"
      maxPodMemory: 16Gi
      maxPVCStorage: 100Gi
      minPVCStorage: 1Gi
  burst-pool:
    requests: {cpu: "10", memory: 10Gi, storage: 10Gi}
    pods: 10
    servicesLB: 1
    burstRatio: 1.5
    limitRange: {}
suspendedPlan: {cpu: 500m, memory: 1Gi, pods: 10, servicesLB: 0}
systemOverhead: {cpuPerProject: 100, memPerProject: 128}
addons:
  turbo-x1: {cpu: "2", memory: 4Gi, storage: 20Gi}
  turbo-x2: {cpu: "4", memory: 8Gi, storage: 40Gi}
  retired: {cpu: "100", memory: 100Gi, storage: 100Gi, disabled: true}
eipQuota: {pro-pool: 1}
"""


@pytest.fixture
def catalog() -> Catalog:
    return parse_catalog(CATALOG)
