"""The VM test's network rules, checked for both address families (nixcheck's ``network``).

glibc tries a peer's IPv6 address first: a firewall rule, pg_hba line or bind for one family
only leaves the other attempt hanging, so each rule below must hold for both.
"""

from __future__ import annotations

import ipaddress
import shlex
from collections import defaultdict

#: Applied to the VM test's ``config``: per node, what the checks below read.
NODES_EXPR = """c: builtins.mapAttrs (_: n: {
  ipv4 = n.networking.primaryIPAddress;
  ipv6 = n.networking.primaryIPv6Address;
  hosts = n.networking.extraHosts;
  firewall = n.networking.firewall.extraCommands;
  pgHba = if n.services.postgresql.enable && n.services.postgresql.enableTCPIP
    then n.services.postgresql.authentication else "";
  redis = builtins.mapAttrs (_: s: { inherit (s) enable port bind; }) n.services.redis.servers;
  web = if n.services.duet.web.enable or false then n.services.duet.web.address else null;
}) c.nodes"""

BOTH = frozenset({4, 6})
FAMILY = {"iptables": {4}, "ip6tables": {6}, "ip46tables": {4, 6}}
ACCEPT = {"ACCEPT", "nixos-fw-accept"}
#: Redis's bind words that mean every address of a family (`-` marks one optional).
REDIS_ANY = {"*": 4, "0.0.0.0": 4, "::": 6, "::*": 6, "-::*": 6, "-::": 6}


def _family(address: str) -> int | None:
    try:
        return ipaddress.ip_address(address).version
    except ValueError:
        return None


def _owners(nodes: dict[str, dict], network: str) -> list[tuple[str, int]]:
    """The (node, family) pairs whose address lies in ``network`` (an address or CIDR)."""
    try:
        net = ipaddress.ip_network(network, strict=False)
    except ValueError:
        return []
    found = []
    for name, node in nodes.items():
        for family in (4, 6):
            address = node[f"ipv{family}"]
            if address and ipaddress.ip_address(address) in net:
                found.append((name, family))
    return found


def _only(families: set[int]) -> str:
    return "IPv4 only" if families == {4} else "IPv6 only"


def hosts_problems(nodes: dict[str, dict]) -> list[str]:
    """Every node's /etc/hosts names every node on both its addresses."""
    problems = []
    for name, node in nodes.items():
        lines = [line.split() for line in node["hosts"].splitlines() if line.strip()]
        for other, peer in nodes.items():
            for family in (4, 6):
                if [peer[f"ipv{family}"], other] not in [line[:1] + line[-1:] for line in lines]:
                    problems.append(f"{name}: /etc/hosts has no IPv{family} line for {other}")
    return problems


def firewall_problems(name: str, node: dict, nodes: dict[str, dict]) -> list[str]:
    """extraCommands: each (peer, protocol, port) accepted over one family is over both."""
    accepted: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for line in node["firewall"].splitlines():
        words = shlex.split(line, comments=True)
        if not words or words[0] not in FAMILY:
            continue
        options = {
            flag: value
            for flag, value in zip(words[1:], [*words[2:], ""], strict=True)
            if flag.startswith("-")
        }
        if options.get("-A") != "nixos-fw" or options.get("-j") not in ACCEPT:
            continue
        protocol, port = options.get("-p", "all"), options.get("--dport", "any")
        source = options.get("-s")
        if source is None:
            accepted[("everyone", protocol, port)] |= FAMILY[words[0]]
            continue
        for peer, family in _owners(nodes, source):
            if family in FAMILY[words[0]]:
                accepted[(peer, protocol, port)].add(family)
    return [
        f"{name}: the firewall accepts {peer} on {protocol}/{port} over {_only(families)}"
        for (peer, protocol, port), families in sorted(accepted.items())
        if families != BOTH
    ]


def pg_hba_problems(name: str, node: dict, nodes: dict[str, dict]) -> list[str]:
    """pg_hba: each host line that lets a peer in over one family has its twin for the other."""
    allowed: dict[tuple[str, ...], set[int]] = defaultdict(set)
    for line in node["pgHba"].splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 5 or not fields[0].startswith("host"):
            continue
        kind, database, user, address = fields[:4]
        rest = fields[4:]
        if "/" not in address and rest and _family(rest[0]) is not None:
            address = f"{address}/{ipaddress.ip_address(rest[0])}"
            rest = rest[1:]
        for peer, family in _owners(nodes, address):
            allowed[(peer, kind, database, user, *rest)].add(family)
    return [
        f"{name}: pg_hba lets {key[0]} in ({' '.join(key[1:])}) over {_only(families)}"
        for key, families in sorted(allowed.items())
        if families != BOTH
    ]


def redis_problems(name: str, node: dict) -> list[str]:
    """A Redis server on TCP binds both families, or loopback only."""
    problems = []
    for server, cfg in sorted(node["redis"].items()):
        if not cfg["enable"] or cfg["port"] == 0 or cfg["bind"] is None:
            # No TCP, or Redis's default bind, `* -::*`: both families.
            continue
        families = set()
        for word in cfg["bind"].split():
            if word in REDIS_ANY:
                families.add(REDIS_ANY[word])
            elif word.lstrip("-") in (node["ipv4"], node["ipv6"]):
                families.add(_family(word.lstrip("-")))
        if families and families != BOTH:
            bind = cfg["bind"]
            problems.append(f"{name}: Redis server {server} binds {bind!r}, {_only(families)}")
    return problems


def web_problems(name: str, node: dict) -> list[str]:
    """duet's web, when it listens beyond loopback, answers both families (`::` does)."""
    address = node["web"]
    if address is None or address in ("127.0.0.1", "::1", "localhost"):
        return []
    if address == "::":
        return []
    return [f"{name}: duet's web binds {address!r}, {_only({_family(address) or 4})}"]


def problems(nodes: dict[str, dict]) -> list[str]:
    """Every rule of every node that holds for one address family only."""
    found = hosts_problems(nodes)
    for name, node in sorted(nodes.items()):
        found += firewall_problems(name, node, nodes)
        found += pg_hba_problems(name, node, nodes)
        found += redis_problems(name, node)
        found += web_problems(name, node)
    return found
