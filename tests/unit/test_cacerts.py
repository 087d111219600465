from path3_sandbox.build.cacerts import host_ca_bundle, host_ca_files

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_no_ca_variables_means_an_empty_bundle():
    assert host_ca_files({}) == []
    assert host_ca_bundle({}) == b""


def test_every_named_pem_file_is_used_once_in_variable_order(tmp_path):
    node, system = tmp_path / "node.pem", tmp_path / "system.pem"
    node.write_bytes(PEM.replace(b"MIIB", b"NODE"))
    system.write_bytes(PEM)
    env = {"NODE_EXTRA_CA_CERTS": str(node), "SSL_CERT_FILE": str(system), "REQUESTS_CA_BUNDLE": str(system)}
    assert host_ca_files(env) == [node, system]
    bundle = host_ca_bundle(env)
    assert bundle.count(b"BEGIN CERTIFICATE") == 2 and bundle.index(b"NODE") < bundle.index(b"MIIB")


def test_missing_and_non_pem_files_are_ignored(tmp_path):
    junk = tmp_path / "junk"
    junk.write_text("not a certificate")
    env = {"SSL_CERT_FILE": str(junk), "NODE_EXTRA_CA_CERTS": str(tmp_path / "absent.pem")}
    assert host_ca_files(env) == []
