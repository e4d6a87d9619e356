"""``./dev faults partition``: network partitions between the vm-native hosts, while jobs flow."""

from __future__ import annotations

import json
import shlex
import time
import uuid
from collections import Counter
from contextlib import ExitStack

from dev.system import HarnessError, say
from dev.vmdriver import Machine
from dev.vmhosts import Hosts
from faults import DUPLICATED, Outcome

#: The outage of each cut at scale 1 (the issue's 20 s); never below 10 s.
OUTAGE = 20.0
JOBS = 200

SUBMITTER = r"""
import json, sys, time, urllib.request
base, token, title, count, pace, out = sys.argv[1:7]
accepted = []
for number in range(int(count)):
    body = json.dumps({"title": title, "text": "Partitions happen. Jobs survive. %d" % number})
    request = urllib.request.Request(
        base + "/api/documents/", data=body.encode(), method="POST",
        headers={"Authorization": "Token " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            if answer.status == 202:
                accepted.append(json.load(answer)["id"])
    except Exception as exc:
        print("not accepted:", exc, file=sys.stderr)
    time.sleep(float(pace))
json.dump(accepted, open(out, "w"))
"""

CUT_WORKER = ["{t} -w -I INPUT -i host0 -j DROP", "{t} -w -I OUTPUT -o host0 -j DROP"]
CUT_BROKER = ["{t} -w -I OUTPUT -p tcp --dport 6379 -j DROP"]


def _rules(machine: Machine, rules: list[str], action: str) -> None:
    for table in ("iptables", "ip6tables"):
        for rule in rules:
            command = rule.format(t=table)
            if action == "delete":
                command = command.replace(" -I ", " -D ")
            machine.succeed(command)


def _cut(machine: Machine, rules: list[str], outage: float, what: str) -> None:
    """Drop what ``rules`` match for ``outage`` seconds, restored even on failure."""
    say(f"partition: {what} is cut for {outage:.0f} s")
    _rules(machine, rules, "insert")
    try:
        time.sleep(outage)
    finally:
        _rules(machine, rules, "delete")


def _sql(db: Machine, title: str, query: str) -> list[list[str]]:
    """Rows of ``query`` on the database host, over the jobs of ``title`` (``{jobs}``)."""
    jobs = "common_summaryjob j JOIN common_document d ON d.id = j.document_id"
    query = query.format(jobs=jobs, where=f"d.title = '{title}'")
    out = db.succeed(f"runuser -u postgres -- psql -d duet -At -F '|' -c {shlex.quote(query)}")
    return [row.split("|") for row in out.split()]


def bring_up(hosts: Hosts) -> dict[str, Machine]:
    """Boot the four hosts and wait for a migrated web and a ready worker."""
    machines = {name: Machine(host) for name, host in hosts.hosts.items()}
    # As the VM test: the database host first (duet-migrate does not retry).
    db = machines["db"]
    db.start()
    db.wait_for_unit("duet-db-setup.service")
    db.wait_for_open_port(5432)
    db.wait_for_open_port(6379)
    for name in ("web", "worker", "client"):
        machines[name].start()
    machines["web"].wait_for_unit("duet-web.service")
    machines["web"].wait_for_open_port(8000)
    worker = machines["worker"]
    worker.succeed("systemctl restart duet-worker.service")
    worker.wait_until_succeeds("journalctl -u duet-worker.service | grep -q ' ready.'")
    return machines


def partition(scale: float = 1.0, hosts: Hosts | None = None) -> Outcome:
    """The scenario; on ``hosts`` already up (the vm-native suite's), or on its own boot."""
    with ExitStack() as stack:
        if hosts is None:
            from dev.vmnodes import evaluate

            hosts = stack.enter_context(Hosts(evaluate()))
            machines = bring_up(hosts)
        else:
            machines = {name: Machine(host) for name, host in hosts.hosts.items()}
        return _partition(machines, scale)
    raise HarnessError("unreachable")


def _partition(machines: dict[str, Machine], scale: float) -> Outcome:
    db, web, worker, client = (machines[n] for n in ("db", "web", "worker", "client"))
    outage = max(OUTAGE * scale, 10.0)
    jobs = max(int(JOBS * scale), 10)
    title = f"partition-{uuid.uuid4().hex[:8]}"
    token = web.succeed(f"duet-manage create_api_user {title}").strip().splitlines()[-1]
    # Spread the submissions over both outages and some time around them.
    pace = (2 * outage + 20) / jobs
    client.succeed(f"cat >/tmp/{title}.py <<'EOF'\n{SUBMITTER}\nEOF")
    client.succeed(
        f"nohup python3 /tmp/{title}.py http://web:8000 {token} {title} {jobs} {pace:.3f}"
        f" /tmp/{title}.json >/tmp/{title}.log 2>&1 &"
    )
    started = time.monotonic()
    time.sleep(5)
    _cut(worker, CUT_WORKER, outage, "the worker's link")
    _cut(web, CUT_BROKER, outage, "the web's link to the broker")
    say("partition: restored; waiting for the submitter and every job")
    client.wait_until_succeeds(f"test -s /tmp/{title}.json", timeout=600)
    accepted = json.loads(client.succeed(f"cat /tmp/{title}.json"))
    # The sweeper (its timer, minutely) re-publishes jobs queued while the broker was cut
    # once they are stale (DUET_SWEEP_STALE_SECONDS); give it that long and more.
    deadline = time.monotonic() + 600
    while True:
        rows = _sql(db, title, "SELECT j.status, count(*) FROM {jobs} WHERE {where} GROUP BY 1")
        counts = Counter({status: int(n) for status, n in rows})
        terminal = counts["succeeded"] + counts["failed"]
        if terminal == counts.total() >= len(accepted) or time.monotonic() > deadline:
            break
        time.sleep(2)
    known = {row[0] for row in _sql(db, title, "SELECT j.id FROM {jobs} WHERE {where}")}
    lost = counts.total() - terminal + len(set(accepted) - known)
    [[duplicated]] = _sql(db, title, DUPLICATED)
    seconds = time.monotonic() - started
    jobs, succeeded, failed = counts.total(), counts["succeeded"], counts["failed"]
    outcome = Outcome("partition", jobs, succeeded, failed, lost, int(duplicated), seconds)
    outcome.expect(accepted, "no job was accepted")
    status, _ = worker.execute("systemctl is-active duet-worker.service")
    outcome.expect(status == 0, "the worker unit is not active after the partitions")
    return outcome
