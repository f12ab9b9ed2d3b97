#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A router's management service, as sdk/examples/router-acl speaks to it.

One line per command, one reply line each (show: entry lines, then "end"),
every reply after --delay seconds, as a slow router CLI answers:

  login <password>                           ok | err denied
  add permit <tcp|udp> <src> <port> <remark> ok <seq> | err busy | err invalid <why>
  del <seq>                                  ok | err busy | err invalid <why>
  show                                       acl <seq> permit <proto> <src> <port> <remark>... end
  reboot                                     ok, then every entry is forgotten and
                                             every session dropped
  quit                                       ok, then the session ends

An add of an entry the ACL already holds (same rule, same remark) answers
that entry's number: adds are idempotent, as a router refuses a duplicate
entry. Deleting a number the ACL does not hold is ok. Sequence numbers are
never reused, not even across a reboot. --busy is the fraction of adds and
dels answered "err busy" without doing anything.

  fake_router.py serve --port N --password-file F --state F --log F
                       [--delay S] [--busy P] [--seed N] [--refuse-port N]
  fake_router.py send --port N --password-file F <command...>

serve listens on 127.0.0.1 port N, rewrites --state (atomically) at start
and after each change with one "acl ..." line per entry, and appends every
command (the password replaced by "*") with its reply to --log. send logs
in, sends one command and prints the reply.
"""
import argparse
import ipaddress
import os
import random
import re
import socket
import socketserver
import sys
import threading
import time

REMARK = re.compile(r"^[A-Za-z0-9_.:-]{1,32}$")


class Acl:
    """The router's state, shared by its sessions."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.entries = {}  # seq -> (proto, src, port, remark)
        self.next_seq = 10
        self.sessions = set()
        self.rng = random.Random(args.seed)
        self.dump()

    def dump(self):
        tmp = self.args.state + ".tmp"
        with open(tmp, "w") as f:
            for seq in sorted(self.entries):
                f.write("acl %d permit %s %s %d %s\n" % ((seq,) + self.entries[seq]))
        os.replace(tmp, self.args.state)

    def log(self, cmd, reply):
        with open(self.args.log, "a") as f:
            f.write("%.3f %s -> %s\n" % (time.time(), cmd, reply.replace("\n", " | ")))

    def busy(self):
        return self.rng.random() < self.args.busy

    def add(self, words):
        if len(words) != 6 or words[1] != "permit":
            return "err invalid usage: add permit <proto> <src> <port> <remark>"
        proto, src, port, remark = words[2:]
        if proto not in ("tcp", "udp"):
            return "err invalid protocol " + proto
        try:
            src = str(ipaddress.ip_address(src))
            port = int(port)
        except ValueError:
            return "err invalid address or port"
        if not 0 < port < 65536:
            return "err invalid port %d" % port
        if port in self.args.refuse_port:
            return "err invalid port %d is reserved for management" % port
        if not REMARK.match(remark):
            return "err invalid remark"
        if self.busy():
            return "err busy"
        entry = (proto, src, port, remark)
        for seq, held in self.entries.items():
            if held == entry:
                return "ok %d" % seq
        seq = self.next_seq
        self.next_seq += 10
        self.entries[seq] = entry
        self.dump()
        return "ok %d" % seq

    def delete(self, words):
        if len(words) != 2 or not words[1].isdigit():
            return "err invalid usage: del <seq>"
        if self.busy():
            return "err busy"
        if self.entries.pop(int(words[1]), None):
            self.dump()
        return "ok"

    def show(self):
        lines = ["acl %d permit %s %s %d %s" % ((seq,) + self.entries[seq])
                 for seq in sorted(self.entries)]
        return "\n".join(lines + ["end"])

    def reboot(self, me):
        self.entries.clear()
        self.dump()
        for s in self.sessions - {me}:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Session(socketserver.StreamRequestHandler):
    def handle(self):
        acl = self.server.acl
        with acl.lock:
            acl.sessions.add(self.connection)
        try:
            self.serve(acl)
        finally:
            with acl.lock:
                acl.sessions.discard(self.connection)

    def serve(self, acl):
        logged_in = False
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").strip()
            words = line.split()
            if not words:
                continue
            time.sleep(acl.args.delay)
            reboot = False
            with acl.lock:
                if words[0] == "login":
                    logged_in = line[len("login "):] == acl.args.password
                    reply = "ok" if logged_in else "err denied"
                    line = "login *"
                elif words[0] == "quit":
                    reply = "ok"
                elif not logged_in:
                    reply = "err denied: login first"
                elif words[0] == "add":
                    reply = acl.add(words)
                elif words[0] == "del":
                    reply = acl.delete(words)
                elif words[0] == "show":
                    reply = acl.show()
                elif words[0] == "reboot":
                    reply, reboot = "ok", True
                else:
                    reply = "err invalid unknown command " + words[0]
                acl.log(line, reply)
                if reboot:
                    acl.reboot(self.connection)
            self.wfile.write((reply + "\n").encode())
            self.wfile.flush()
            if words[0] in ("quit", "reboot"):
                return


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def read_password(path):
    with open(path) as f:
        return f.readline().rstrip("\n")


def serve(args):
    args.password = read_password(args.password_file)
    server = Server(("127.0.0.1", args.port), Session)
    server.acl = Acl(args)
    server.serve_forever()


def send(args):
    with socket.create_connection(("127.0.0.1", args.port), timeout=30) as s:
        f = s.makefile("rw")
        f.write("login %s\n%s\n" % (read_password(args.password_file), " ".join(args.command)))
        f.flush()
        if f.readline().strip() != "ok":
            sys.exit("login refused")
        for line in f:
            print(line.rstrip("\n"))
            if args.command[0] != "show" or line.strip() == "end":
                break


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--password-file", required=True)
    s.add_argument("--state", required=True)
    s.add_argument("--log", required=True)
    s.add_argument("--delay", type=float, default=0.2)
    s.add_argument("--busy", type=float, default=0.0)
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--refuse-port", type=int, action="append", default=[])
    c = sub.add_parser("send")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--password-file", required=True)
    c.add_argument("command", nargs="+")
    args = p.parse_args()
    serve(args) if args.mode == "serve" else send(args)


if __name__ == "__main__":
    main()
