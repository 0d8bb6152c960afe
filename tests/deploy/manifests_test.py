#!/usr/bin/env python3
"""Cross-checks deploy/compose.yaml and deploy/k8s/*.yaml against each other and the programs.

  manifests_test.py --deploy DIR --netpoold BIN --netpool-worker BIN --netpool BIN

Checks: selectors match pod labels; every volume, Secret (and Secret key), port and service
referenced exists; probes are /healthz (liveness, compose health check) and /readyz
(readiness) on the port netpoold's --http is given; every --flag in a command exists in that
program's --help; every file a flag names lies on a volume the container mounts. Then it
breaks one cross-reference at a time in a copy and checks that each is caught.
"""
import argparse
import copy
import pathlib
import re
import shlex
import subprocess
import sys

import yaml

PROGRAMS = ("netpoold", "netpool-worker", "netpool")
FILE_FLAGS = ("--data", "--token-file", "--tls-cert", "--tls-key", "--tls-ca", "--tls-client-ca")
FLAG = re.compile(r"^\s*(?:-\w,)?(--[a-z0-9][a-z0-9-]*)", re.M)


def help_flags(binary, subcommand=None):
    argv = [binary] + ([subcommand] if subcommand else []) + ["--help"]
    text = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return set(FLAG.findall(text))


def invocations(argv):
    """(program, args) for each netpool program an argv runs, directly or in `sh -c SCRIPT`."""
    if argv and argv[0] in ("sh", "bash") and "-c" in argv:
        script = argv[argv.index("-c") + 1]
        words = shlex.split(re.sub(r"(&&|\|\||[;|])", r" ; ", script))
        commands, current = [], []
        for word in words + [";"]:
            if word == ";":
                commands.append(current)
                current = []
            else:
                current.append(word)
        return [c for c in commands if c and c[0] in PROGRAMS]
    return [argv] if argv and argv[0] in PROGRAMS else []


def flag_values(args):
    """{--flag: value} for --flag=value and --flag value (a value is not itself a --flag)."""
    values = {}
    for i, arg in enumerate(args):
        if not arg.startswith("--"):
            continue
        name, eq, value = arg.partition("=")
        if not eq and i + 1 < len(args) and not args[i + 1].startswith("-"):
            value = args[i + 1]
        values[name] = value if (eq or value) else None
    return values


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def under(path, mounts):
    return any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts)


class Checker:
    def __init__(self, known_flags):
        self.known_flags = known_flags
        self.errors = []

    def error(self, where, message):
        self.errors.append(f"{where}: {message}")

    def check_command(self, where, argv, mounts):
        """Flags against --help, files on mounts; returns {program: flag values}."""
        found = {}
        for program, *args in invocations(argv):
            known = self.known_flags[program]
            if program == "netpool" and args and not args[0].startswith("-"):
                known = known | self.known_flags[("netpool", args[0])]
            values = flag_values(args)
            for flag in values:
                if flag not in known:
                    self.error(where, f"{program} has no flag {flag} (not in its --help)")
            for flag in FILE_FLAGS:
                path = values.get(flag)
                if path and not under(path, mounts):
                    self.error(where, f"{program} {flag}={path}: on no volume the container mounts")
            found[program] = values
        for word in argv:
            for path in re.findall(r"(?<![\w.])(/(?:secrets|run|var/lib)/[\w./-]+)", word):
                if not under(path, mounts):
                    self.error(where, f"{path}: on no volume the container mounts")
        return found

    # --- compose -------------------------------------------------------------------------
    def check_compose(self, compose):
        services = compose.get("services", {})
        declared_volumes = set((compose.get("volumes") or {}).keys())
        netpoold = None
        scheduler_targets = []
        for name, service in services.items():
            where = f"compose.yaml services.{name}"
            mounts = {}
            for volume in service.get("volumes", []):
                source, target = volume.split(":")[:2]
                if not source.startswith((".", "/")) and source not in declared_volumes:
                    self.error(where, f"volume {source} is not under the top-level volumes")
                mounts[target] = source
            for dependency in service.get("depends_on", []):
                if dependency not in services:
                    self.error(where, f"depends_on {dependency}: no such service")
            found = self.check_command(where, service.get("command", []), mounts)
            if "netpoold" in found:
                netpoold = (name, service, found["netpoold"])
            if "netpool-worker" in found:
                scheduler_targets.append((where, found["netpool-worker"].get("--scheduler")))
        if netpoold is None:
            self.error("compose.yaml", "no service runs netpoold")
            return
        name, service, flags = netpoold
        where = f"compose.yaml services.{name}"
        listen, http = port_of(flags.get("--listen", ":7340")), port_of(flags.get("--http", ":7341"))
        published = {int(str(p).rsplit(":", 1)[1]) for p in service.get("ports", [])}
        for port in (listen, http):
            if port not in published:
                self.error(where, f"port {port} that netpoold serves is not published")
        test = (service.get("healthcheck") or {}).get("test", [])
        if test[:2] != ["CMD", "http-probe"] or len(test) != 4:
            self.error(where, f"health check {test}: want [CMD, http-probe, HOST:PORT, /healthz]")
        else:
            if port_of(test[2]) != http:
                self.error(where, f"health check port {test[2]} is not --http's port {http}")
            if test[3] != "/healthz":
                self.error(where, f"health check path {test[3]}, want /healthz")
        for where, scheduler in scheduler_targets:
            if scheduler != f"{name}:{listen}":
                self.error(where, f"--scheduler {scheduler}, want {name}:{listen}")

    # --- kubernetes ------------------------------------------------------------------------
    def check_k8s(self, docs, secrets):
        by_kind = {}
        for doc in docs:
            by_kind.setdefault(doc["kind"], []).append(doc)
        workloads = by_kind.get("StatefulSet", []) + by_kind.get("Deployment", [])
        services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
        netpoold_listen = None
        schedulers = []
        for workload in workloads:
            where = f"{workload['kind']} {workload['metadata']['name']}"
            spec = workload["spec"]
            pod = spec["template"]["spec"]
            labels = spec["template"]["metadata"].get("labels", {})
            for key, value in spec["selector"]["matchLabels"].items():
                if labels.get(key) != value:
                    self.error(where, f"selector {key}={value} does not match the pod's labels")
            if workload["kind"] == "StatefulSet":
                governing = services.get(spec.get("serviceName"))
                if governing is None or governing["spec"].get("clusterIP") != "None":
                    self.error(where, f"serviceName {spec.get('serviceName')}: no headless Service")
            volumes = {v["name"]: v for v in pod.get("volumes", [])}
            for claim in spec.get("volumeClaimTemplates", []):
                volumes[claim["metadata"]["name"]] = {"claim": True}
            for volume in volumes.values():
                secret = volume.get("secret", {}).get("secretName")
                if secret is not None and secret not in secrets:
                    self.error(where, f"Secret {secret} is not made in deploy/k8s/README.md")
            for container in pod.get("initContainers", []) + pod["containers"]:
                cwhere = f"{where} container {container['name']}"
                mounts = {}
                for mount in container.get("volumeMounts", []):
                    if mount["name"] not in volumes:
                        self.error(cwhere, f"volumeMount {mount['name']}: no such volume")
                    mounts[mount["mountPath"]] = volumes.get(mount["name"], {})
                argv = container.get("command", []) + container.get("args", [])
                found = self.check_command(cwhere, argv, mounts)
                self.check_secret_keys(cwhere, argv, mounts, secrets)
                ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
                if "netpoold" in found:
                    flags = found["netpoold"]
                    netpoold_listen = port_of(flags.get("--listen", ":7340"))
                    self.check_probes(cwhere, container, ports, port_of(flags.get("--http", ":7341")),
                                      "--tls-cert" in flags)
                if "netpool-worker" in found:
                    schedulers.append((cwhere, found["netpool-worker"].get("--scheduler")))
        for name, service in services.items():
            where = f"Service {name}"
            selected = [w for w in workloads
                        if all(w["spec"]["template"]["metadata"]["labels"].get(k) == v
                               for k, v in service["spec"]["selector"].items())]
            if not selected:
                self.error(where, f"selector {service['spec']['selector']} matches no pod")
            container_ports = {p.get("name"): p["containerPort"]
                               for w in selected for c in w["spec"]["template"]["spec"]["containers"]
                               for p in c.get("ports", [])}
            for port in service["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                if target not in container_ports and target not in container_ports.values():
                    self.error(where, f"targetPort {target}: no such container port")
        for where, scheduler in schedulers:
            host, port = scheduler.rsplit(":", 1)
            service = services.get(host)
            if service is None:
                self.error(where, f"--scheduler {scheduler}: no Service {host}")
            elif int(port) not in [p["port"] for p in service["spec"]["ports"]] or \
                    netpoold_listen != int(port):
                self.error(where, f"--scheduler {scheduler}: not netpoold's --listen port via {host}")

    def check_probes(self, where, container, ports, http_port, tls):
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get = (container.get(probe) or {}).get("httpGet")
            if get is None:
                self.error(where, f"no {probe} httpGet")
                continue
            if get.get("path") != path:
                self.error(where, f"{probe} path {get.get('path')}, want {path}")
            port = ports.get(get["port"], get["port"])
            if port != http_port:
                self.error(where, f"{probe} port {get['port']} is not --http's port {http_port}")
            if get.get("scheme", "HTTP") != ("HTTPS" if tls else "HTTP"):
                self.error(where, f"{probe} scheme {get.get('scheme', 'HTTP')}: --http is "
                                  f"{'HTTPS' if tls else 'HTTP'}")

    def check_secret_keys(self, where, argv, mounts, secrets):
        """A file read from a Secret volume is one of that Secret's keys."""
        for word in argv:
            for path in re.findall(r"/[\w./-]+", word):
                for mount_path, volume in mounts.items():
                    secret = volume.get("secret", {}).get("secretName")
                    if secret in secrets and path.startswith(mount_path.rstrip("/") + "/"):
                        key = path[len(mount_path.rstrip("/")) + 1:]
                        if key not in secrets[secret]:
                            self.error(where, f"{path}: Secret {secret} has no key {key}")


def readme_secrets(readme):
    """{name: {keys}} of the `kubectl create secret generic` lines of deploy/k8s/README.md."""
    secrets = {}
    for line in readme.splitlines():
        words = shlex.split(line) if line.startswith("kubectl create secret generic") else []
        if words:
            secrets[words[4]] = {w.split("=")[1] for w in words if w.startswith("--from-file=")}
    return secrets


def run_checks(known_flags, compose, k8s_docs, secrets):
    checker = Checker(known_flags)
    checker.check_compose(compose)
    checker.check_k8s(k8s_docs, secrets)
    return checker.errors


def find(docs, kind, name):
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


# Each breaks one cross-reference; the checks must then report something.
def mutations():
    def pod(docs, kind, name):
        return find(docs, kind, name)["spec"]["template"]["spec"]

    def netpoold(docs):
        return pod(docs, "StatefulSet", "netpoold")["containers"][0]

    def set_flag(command, flag, value):
        command[:] = [f"{flag}={value}" if a.startswith(flag + "=") else a for a in command]

    yield "pod label", lambda c, k, s: find(k, "Deployment", "netpool-worker")["spec"]["template"][
        "metadata"]["labels"].update({"app.kubernetes.io/name": "other"})
    yield "Service selector", lambda c, k, s: find(k, "Service", "netpoold")["spec"][
        "selector"].update({"app.kubernetes.io/name": "nothing"})
    yield "Service targetPort", lambda c, k, s: find(k, "Service", "netpoold")["spec"]["ports"][
        0].update({"targetPort": "grpcs"})
    yield "Secret name", lambda c, k, s: pod(k, "StatefulSet", "netpoold")["volumes"][0][
        "secret"].update({"secretName": "netpool-token"})
    yield "Secret key", lambda c, k, s: s["netpool-server-tls"].discard("server.key")
    yield "volumeMount", lambda c, k, s: netpoold(k)["volumeMounts"][0].update({"name": "datas"})
    yield "liveness path", lambda c, k, s: netpoold(k)["livenessProbe"]["httpGet"].update(
        {"path": "/health"})
    yield "readiness port", lambda c, k, s: netpoold(k)["readinessProbe"]["httpGet"].update(
        {"port": "grpc"})
    yield "--http port", lambda c, k, s: set_flag(netpoold(k)["command"], "--http", "0.0.0.0:8080")
    yield "unknown flag", lambda c, k, s: netpoold(k)["command"].append("--tls-certificate=x")
    yield "worker --scheduler", lambda c, k, s: set_flag(
        pod(k, "Deployment", "netpool-worker")["containers"][0]["command"], "--scheduler",
        "scheduler:7340")
    yield "file off the mounts", lambda c, k, s: set_flag(
        netpoold(k)["command"], "--token-file", "/etc/netpool/tokens")
    yield "compose volume", lambda c, k, s: c["volumes"].pop("data")
    yield "compose health check", lambda c, k, s: c["services"]["netpoold"]["healthcheck"].update(
        {"test": ["CMD", "http-probe", "127.0.0.1:7340", "/healthz"]})
    yield "compose flag", lambda c, k, s: c["services"]["worker-1"]["command"].append("--tokenfile=x")
    yield "compose sh -c flag", lambda c, k, s: c["services"]["tokens"]["command"].__setitem__(
        2, "netpool-worker --bogus")
    yield "compose port", lambda c, k, s: c["services"]["netpoold"]["ports"].pop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--deploy", required=True, type=pathlib.Path)
    for program in PROGRAMS:
        parser.add_argument(f"--{program}", required=True)
    options = parser.parse_args()
    binaries = {p: getattr(options, p.replace("-", "_")) for p in PROGRAMS}
    known_flags = {p: help_flags(b) for p, b in binaries.items()}
    for subcommand in ("submit", "get", "map", "workers", "stats"):
        known_flags[("netpool", subcommand)] = help_flags(binaries["netpool"], subcommand)

    compose = yaml.safe_load((options.deploy / "compose.yaml").read_text())
    manifests = sorted((options.deploy / "k8s").glob("*.yaml"))
    k8s_docs = [d for m in manifests for d in yaml.safe_load_all(m.read_text()) if d]
    secrets = readme_secrets((options.deploy / "k8s" / "README.md").read_text())
    print(f"compose.yaml: {len(compose['services'])} services; k8s: "
          f"{', '.join(m.name for m in manifests)}: {len(k8s_docs)} objects; "
          f"Secrets from the README: {', '.join(sorted(secrets))}")

    errors = run_checks(known_flags, compose, k8s_docs, secrets)
    for error in errors:
        print(f"FAIL: {error}")
    if not errors:
        print("ok: the manifests agree with each other and with the programs' --help")

    for what, mutate in mutations():
        c, k, s = copy.deepcopy(compose), copy.deepcopy(k8s_docs), copy.deepcopy(secrets)
        mutate(c, k, s)
        caught = run_checks(known_flags, c, k, s)
        if caught:
            print(f"ok: a broken {what} is caught: {caught[0]}")
        else:
            errors.append(f"a broken {what} goes unnoticed")
            print(f"FAIL: a broken {what} goes unnoticed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
