"""A local, real Kubernetes control plane (etcd + kube-apiserver) for end-to-end tests and `make run`.

Like controller-runtime's envtest: real binaries on 127.0.0.1, no kubelet, no controller-manager,
so API validation, RBAC and CRD behaviour are the real thing while start-up stays fast.
"""
