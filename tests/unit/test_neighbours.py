"""The neighbours registry, the allow-list and the address classification (as functions: no
traffic leaves loopback; names that need resolving are loopback or never resolved)."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from localoffer.config import load_settings
from localoffer.errors import ConfigError, HarvestError
from localoffer.http import check_target, classify_address
from localoffer.neighbours import allow_list, host_key, load_registry, read_registry, select

TOML = """
[[neighbour]]
gss = "e06000013"
name = "North Lincolnshire Council"
sparql = "https://localoffer.northlincs.test/sparql"
dump = "https://dumps.northlincs.test/dumps/authority/E06000013.nq.gz"

[[neighbour]]
gss = "E06000024"
name = "North Somerset Council"
oruk = "http://127.0.0.1:8123/api/v1"
"""
YAML = """
neighbours:
  - gss: E06000013
    name: North Lincolnshire Council
    sparql: https://localoffer.northlincs.test/sparql
  - {gss: E06000024, name: North Somerset Council, dump: "https://ns.test:8443/d.nq"}
"""


@pytest.fixture
def toml_registry(tmp_path):
    path = tmp_path / "neighbours.toml"
    path.write_text(TOML)
    return path


def test_toml_and_yaml_registries_read_alike(toml_registry, tmp_path):
    from_toml = read_registry(toml_registry)
    assert [(n.gss, n.name) for n in from_toml] == [
        ("E06000013", "North Lincolnshire Council"),
        ("E06000024", "North Somerset Council"),
    ]
    assert from_toml[0].sparql == "https://localoffer.northlincs.test/sparql" and from_toml[1].oruk
    yaml_path = tmp_path / "neighbours.yaml"
    yaml_path.write_text(YAML)
    from_yaml = read_registry(yaml_path)
    assert [n.gss for n in from_yaml] == ["E06000013", "E06000024"] and from_yaml[1].dump


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ('gss = "Bristol"\nname = "x"\nsparql = "https://a.test/sparql"', "field 'gss'"),
        ('gss = "E06000023"\nsparql = "https://a.test/sparql"', "field 'name'"),
        ('gss = "E06000023"\nname = "x"', "at least one of sparql, dump, oruk"),
        (
            'gss = "E06000023"\nname = "x"\nsparql = "file:///etc/passwd"',
            "field 'sparql' must be an http(s) URL",
        ),
        (
            'gss = "E06000023"\nname = "x"\nsparql = "https://a.test/"\nendpoint = "x"',
            "unknown field endpoint",
        ),
    ],
)
def test_bad_entries_name_the_file_entry_and_field(tmp_path, entry, says):
    path = tmp_path / "n.toml"
    path.write_text(f"[[neighbour]]\n{entry}\n")
    with pytest.raises(ConfigError) as err:
        read_registry(path)
    assert str(path) in str(err.value) and "neighbour 1" in str(err.value) and says in str(err.value)


def test_duplicates_and_unreadable_files_are_errors(tmp_path):
    path = tmp_path / "n.toml"
    path.write_text('[[neighbour]]\ngss="E06000023"\nname="a"\nsparql="https://a.test/"\n' * 2)
    with pytest.raises(ConfigError, match="E06000023 listed more than once"):
        read_registry(path)
    with pytest.raises(ConfigError, match="cannot read"):
        read_registry(tmp_path / "missing.toml")
    path.write_text("[[neighbour]\n")
    with pytest.raises(ConfigError, match="not valid TOML/YAML"):
        read_registry(path)


def test_registry_is_found_through_the_setting_and_gives_the_allow_list(toml_registry):
    settings = load_settings(
        {"store": "/tmp/x"},
        environ={
            "LOCALOFFER_NEIGHBOURS": str(toml_registry),
            "LOCALOFFER_ALLOWED_HOSTS": "127.0.0.1:8123, Other:99",
        },
    )
    assert [n.gss for n in load_registry(settings)] == ["E06000013", "E06000024"]
    allowed = allow_list(settings)
    assert allowed.hosts == {"localoffer.northlincs.test:443", "dumps.northlincs.test:443", "127.0.0.1:8123"}
    assert allowed.explicit == {"127.0.0.1:8123", "other:99"}
    assert load_registry(load_settings({"store": "/tmp/x"}, environ={})) == []
    assert host_key("http://EXAMPLE.test/x") == "example.test:80"


def test_select_by_code_or_name(toml_registry):
    registry = read_registry(toml_registry)
    assert [n.gss for n in select(registry, ["north somerset council"])] == ["E06000024"]
    assert [n.gss for n in select(registry, ["e06000013", "E06000013"])] == ["E06000013"]
    assert len(select(registry, [])) == 2
    with pytest.raises(HarvestError, match="no neighbour 'E09000001'.*E06000013 \\(North Lincolnshire"):
        select(registry, ["E09000001"])
    with pytest.raises(HarvestError, match="LOCALOFFER_NEIGHBOURS"):
        select([], [])


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.9.9.9", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("169.254.169.254", "cloud-metadata"),
        ("100.100.100.200", "cloud-metadata"),
        ("fd00:ec2::254", "cloud-metadata"),
        ("192.0.0.192", "cloud-metadata"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "cloud-metadata"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "reserved or shared"),
        ("240.0.0.1", "reserved or shared"),
        ("8.8.8.8", None),
        ("151.101.1.1", None),
        ("2a00:1450:4009:81f::200e", None),
    ],
)
def test_address_classification(address, reason):
    assert classify_address(address) == reason
    assert classify_address(ipaddress.ip_address(address)) == reason


def test_check_target_refuses_hosts_off_the_list_before_resolving_them():
    listed = {"neighbour.test:443"}
    with pytest.raises(HarvestError, match="elsewhere.invalid:443 is not on the allow-list"):
        check_target("https://elsewhere.invalid/sparql", set(), listed)
    with pytest.raises(HarvestError, match="only http:// and https://"):
        check_target("gopher://neighbour.test/", set(), listed)
    with pytest.raises(HarvestError, match="only http:// and https://"):
        check_target("file:///etc/passwd", set(), listed)


def test_check_target_needs_explicit_host_and_port_for_loopback():
    # listed (a registry host) is not enough when it resolves to loopback
    with pytest.raises(
        HarvestError, match="loopback address .* add localhost:8999 to LOCALOFFER_ALLOWED_HOSTS"
    ):
        check_target("http://localhost:8999/sparql", set(), {"localhost:8999"})
    with pytest.raises(HarvestError, match="loopback"):
        check_target("http://127.0.0.1:8999/sparql", {"127.0.0.1:9000"}, {"127.0.0.1:8999"})
    check_target("http://127.0.0.1:8999/sparql", {"127.0.0.1:8999"}, set())  # explicit: allowed
    with pytest.raises(HarvestError, match="link-local|cloud-metadata"):
        check_target("http://169.254.169.254/latest/meta-data/", set(), {"169.254.169.254:80"})
    with pytest.raises(HarvestError, match="unspecified"):
        check_target("http://0.0.0.0:8999/", set(), {"0.0.0.0:8999"})


def test_only_hosts_restricts_every_fetch_in_the_block():
    from localoffer.http import fetch, only_hosts

    with only_hosts({"neighbour.test:443"}), pytest.raises(HarvestError, match="not on the allow-list"):
        fetch("https://elsewhere.invalid/api/services", timeout=1, retries=0, allow=set())
    with pytest.raises(HarvestError, match="loopback"):  # outside the block: the usual guard only
        fetch("http://127.0.0.1:9/", timeout=1, retries=0, allow=set())


@contextmanager
def _local_server(body: bytes, seen: list[str] | None = None) -> Iterator[int]:
    """A real HTTP server on 127.0.0.1 answering every GET with *body* (paths into *seen*);
    yields its port."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if seen is not None:
                seen.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_a_name_that_rebinds_to_loopback_after_the_check_is_refused_at_connect(monkeypatch):
    """DNS rebinding: the name resolves to a public address when checked and to 127.0.0.1 when
    the socket is opened. A real local server stands behind 127.0.0.1 and must see nothing."""
    from localoffer.http import fetch

    seen: list[str] = []
    real = socket.getaddrinfo
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1", "127.0.0.1"])
    with _local_server(b"{}", seen) as port:
        def rebinding(host, *args, **kwargs):  # a hostile DNS server, answer by answer
            if host == "rebind.test":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
            return real(host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        with pytest.raises(HarvestError, match=r"rebind\.test is a loopback address \(127\.0\.0\.1\)"):
            fetch(f"http://rebind.test:{port}/api/services", timeout=2, retries=0, allow=set())
    assert seen == []


def test_the_connect_time_check_lets_an_allow_listed_loopback_host_through():
    from localoffer.http import fetch

    with _local_server(b'{"ok": true}') as port:
        response = fetch(f"http://127.0.0.1:{port}/x", timeout=2, retries=0,
                         allow={f"127.0.0.1:{port}"})
    assert response.json() == {"ok": True}
