"""The webhook server with ORGQUOTA_WEBHOOK_CLIENT_CA: a review from anything but a holder of a client
certificate that CA signed (the apiserver) is refused at the TLS handshake, before any body is read."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import kopf

from localcluster.certs import generate_pki, generate_serving_cert, issue_client_cert
from orgquota.controller.kopf_tuning import tune_admission
from orgquota.controller.settings import Settings


def server_context(tmp_path: Path, client_ca: str) -> tuple[ssl.SSLContext, Path]:
    serving = generate_serving_cert(tmp_path / "serving", ["127.0.0.1"])
    config = Settings(webhook_cert=str(serving.cert), webhook_key=str(serving.key), webhook_client_ca=client_ca)
    settings = kopf.OperatorSettings()
    tune_admission(settings, config)
    server = settings.admission.server
    assert isinstance(server, kopf.WebhookServer)
    _, context = server._build_ssl()  # the context Kopf serves the webhooks with
    assert context is not None
    return context, serving.ca_cert


async def handshake(context: ssl.SSLContext, ca: Path, cert: tuple[Path, Path] | None) -> bytes:
    """Connect as a client (with `cert`, or none), send a request line, and read the answer."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"admitted\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    client = ssl.create_default_context(cafile=str(ca))
    if cert is not None:
        client.load_cert_chain(str(cert[0]), str(cert[1]))
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client)
        writer.write(b"POST /validate\n")
        await writer.drain()
        line = await reader.readline()  # TLS 1.3: the server's refusal arrives here
        writer.close()
        return line
    except (ssl.SSLError, ConnectionError):
        return b""
    finally:
        server.close()


def test_without_the_apiservers_client_certificate_a_review_is_refused(tmp_path: Path) -> None:
    pki = generate_pki(tmp_path / "cluster")  # the cluster's CA signs the apiserver's client certificate
    context, ca = server_context(tmp_path, str(pki.ca_cert))
    apiserver = issue_client_cert(pki, "apiserver-webhook-client", "kube-apiserver", ())
    assert asyncio.run(handshake(context, ca, apiserver)) == b"admitted\n"
    assert asyncio.run(handshake(context, ca, None)) == b""  # any other pod: no certificate, no answer
    stranger = generate_pki(tmp_path / "other")  # a certificate of another CA
    assert asyncio.run(handshake(context, ca, issue_client_cert(stranger, "x", "x", ()))) == b""


def test_without_the_setting_any_client_may_connect(tmp_path: Path) -> None:
    context, ca = server_context(tmp_path, "")
    assert context.verify_mode == ssl.CERT_NONE
    assert asyncio.run(handshake(context, ca, None)) == b"admitted\n"
