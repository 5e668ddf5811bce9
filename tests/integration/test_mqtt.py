#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The MQTT service against Debian's mosquitto started here (127.0.0.1, free ports, a password
file, an ACL and a TLS listener with a test CA made by openssl), watched with python3-paho-mqtt:
every topic with its retain flag and QoS, the state at once on an alarm, a stale string
unavailable within stale_after_ms + 1 s (the daemon's own measure), the last will after kill -9,
reconnecting after a broker restart, alert events kept while the broker is away, Home Assistant
discovery checked against the rules with every value_template rendered by Jinja2 against a real
state message, three gateways on one broker without a shared unique_id, obsolete entities and
string topics removed at start, commands clamping, expiring and refused (by the ACL, malformed,
out of range, a raise, a TTL too long), a wrong password, a loose password file and a wrong CA
reported as degraded with the reason.

Waits are give-up limits (GIVE_UP), never what is measured.

usage: test_mqtt.py BUILD_DIR SOURCE_DIR [TestName ...]
"""
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import unittest

import jinja2
import paho.mqtt.client as paho

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bmsgwtest  # noqa: E402
from bmsgwtest import GIVE_UP, Daemon, Mosquitto, TinyBMS, wait_until  # noqa: E402

BUILD, SOURCE = sys.argv[1], sys.argv[2]
SELECT = [a for a in sys.argv[3:] if not a.startswith("--")]
STALE_MS = 2000
USERS = {"gw1": "pw-gw1", "gw2": "pw-gw2", "gw3": "pw-gw3", "ha": "pw-ha", "viewer": "pw-view"}
# each gateway writes under its own prefix and discovery; ha may do anything; viewer only reads
ACL = "".join(f"user {g}\ntopic readwrite bmsgw/{g}/#\ntopic readwrite homeassistant/#\n"
              for g in ("gw1", "gw2", "gw3")) + "user ha\ntopic readwrite #\n" \
    "user viewer\ntopic read #\n"


class Watcher:
    """A paho client subscribed to topics: every message kept as (topic, payload, retain, qos)."""

    def __init__(self, port, topics, user="ha", tls=None):
        self.msgs, self.lock = [], threading.Lock()
        self.c = paho.Client(protocol=paho.MQTTv311)
        self.c.username_pw_set(user, USERS[user])
        self.c.on_message = self._on_message
        subscribed = threading.Event()
        self.c.on_subscribe = lambda *a: subscribed.set()
        self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.loop_start()
        self.c.subscribe([(t, 2) for t in topics])
        if not subscribed.wait(GIVE_UP):
            raise AssertionError("no SUBACK from the broker")

    def _on_message(self, client, userdata, m):
        with self.lock:
            self.msgs.append((m.topic, m.payload.decode(errors="replace"), bool(m.retain), m.qos))

    def all(self, topic=None):
        with self.lock:
            return [m for m in self.msgs if topic is None or m[0] == topic]

    def wait(self, what, pred, timeout=GIVE_UP, topic=None, since=0):
        """The first message after index since (of topic) for which pred(msg) holds."""
        def find():
            for m in self.all()[since:]:
                if (topic is None or m[0] == topic) and pred(m):
                    return m
            return None
        return wait_until(what, find, timeout)

    def mark(self):
        return len(self.all())

    def publish(self, topic, payload, retain=False):
        info = self.c.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish()  # the PUBACK: the broker has taken (or dropped) it

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def mqtt_keys(broker, gw, folder, extra="", password=None):
    pw = os.path.join(folder, f"{gw}.pw")
    with open(pw, "w") as f:
        f.write((password or USERS[gw]) + "\n")
    os.chmod(pw, 0o600)
    return (f'enabled = true; host = "127.0.0.1"; port = {broker.port}; gateway_id = "{gw}"; '
            f'username = "{gw}"; password_file = "{pw}"; {extra}')


def modules(port):
    return {m["name"]: m for m in bmsgwtest.http_get_json(port, "/api/system/modules")}


class Gateway:
    """A simulated TinyBMS and a daemon publishing to the broker as gateway gw."""

    def __init__(self, folder, broker, gw, mqtt_extra="", sim_args=("--current", "20"),
                 password=None, mqtt=None):
        self.folder = tempfile.mkdtemp(prefix=gw + "-", dir=folder)
        os.makedirs(self.folder, exist_ok=True)
        self.tty = os.path.join(self.folder, "tty")
        self.sim = TinyBMS(BUILD, self.folder, self.tty, list(sim_args))
        self.http = bmsgwtest.free_port()
        keys = mqtt if mqtt is not None else mqtt_keys(broker, gw, self.folder, mqtt_extra,
                                                       password)
        text = bmsgwtest.config(self.folder, [("house", self.tty)],
                                bms=f"stale_after_ms = {STALE_MS};",
                                http=bmsgwtest.rest_keys(self.folder, self.http), mqtt=keys)
        self.daemon = Daemon(BUILD, self.folder, text, ready=GIVE_UP)
        self.prefix = f"bmsgw/{gw}"

    def module(self):
        return modules(self.http)["mqtt"]

    def announced(self):
        """How many discovery documents the daemon says it announced with its 16 cells known
        (0 before it did)."""
        for line in self.daemon.text().splitlines():
            if "mqtt: announced " in line and "(1 strings, 16 cells)" in line:
                return int(line.split("mqtt: announced ")[1].split()[0])
        return 0

    def close(self):
        """Stop the daemon (SIGTERM): a clean exit, so sanitizer and leak findings fail."""
        running = self.daemon.proc.poll() is None
        rc = self.daemon.stop()
        self.sim.close()
        if running and rc != 0:
            raise AssertionError(f"the daemon exited with {rc}:\n{self.daemon.text()}")


def render(template, state):
    return jinja2.Environment().from_string(template).render(value_json=state).strip()


class Broker(unittest.TestCase):
    """One broker for the class; each test starts what it needs."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="bmsgw-mqtt-")
        cls.ca = bmsgwtest.make_test_ca(cls.dir)
        cls.broker = Mosquitto(cls.dir, USERS, ACL, tls=cls.ca)

    @classmethod
    def tearDownClass(cls):
        cls.broker.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.closers = []

    def tearDown(self):
        for c in reversed(self.closers):
            c.close()

    def gateway(self, gw, **kw):
        g = Gateway(self.dir, self.broker, gw, **kw)
        self.closers.append(g)
        return g

    def watcher(self, topics, user="ha"):
        w = Watcher(self.broker.port, topics, user)
        self.closers.append(w)
        return w

    def broker_away(self, g):
        """Stop the broker; returns once gateway g says it is degraded."""
        self.broker.stop()
        wait_until("mqtt degraded", lambda: g.module()["state"] == "degraded", GIVE_UP)

    def broker_back(self, users=USERS):
        """Start the broker again on the same ports, with users."""
        old = self.broker
        type(self).broker = Mosquitto(self.dir, users, ACL, port=old.port, tls=self.ca,
                                      tls_port=old.tls_port)

    def clear_retained(self, watcher, prefix):
        """Remove what an earlier test left retained under prefix."""
        for topic, payload, retain, _ in watcher.all():
            if payload and topic.startswith(prefix) and "/cmd/" not in topic \
                    and not topic.endswith("/event"):
                watcher.publish(topic, "", retain=True)


class Topics(Broker):
    def test_topics_retain_qos_and_alarm_at_once(self):
        g = self.gateway("gw1", mqtt_extra="state_interval_ms = 600000; ha_discovery = false;")
        p = g.prefix
        live = self.watcher([p + "/#"])
        live.wait("string availability online", lambda m: m[1] == "online",
                  topic=p + "/string/1/availability")
        live.wait("a state with data", lambda m: json.loads(m[1])["system"]["soc_pct"] is not None,
                  topic=p + "/state")
        # a late subscriber gets exactly the retained topics, flagged retained, at their QoS
        late = self.watcher([p + "/#"])
        want = {"/status": 1, "/state": 0, "/string/1/state": 0, "/string/1/availability": 1,
                "/alerts": 1}
        for suffix, qos in want.items():
            m = late.wait(p + suffix, lambda m: True, topic=p + suffix)
            self.assertTrue(m[2], f"{suffix} is retained")
            self.assertEqual(m[3], qos, f"{suffix} QoS")
        self.assertEqual(late.all(p + "/status")[0][1], "online")
        state = json.loads(late.all(p + "/state")[0][1])
        api = bmsgwtest.http_get_json(g.http, "/api/status")
        self.assertEqual(sorted(state), sorted(api))
        self.assertIn("age_ms", state)
        s1 = json.loads(late.all(p + "/string/1/state")[0][1])
        self.assertEqual(len(s1["cells_mv"]), 16)
        self.assertIn("limits_share", s1)
        self.assertEqual(json.loads(late.all(p + "/alerts")[0][1]), [])
        # an alarm: the event (not retained, QoS 1) and a state with it long before the interval
        mark = live.mark()
        g.sim.ctl.ok("set cell 3 3700")
        ev = live.wait("an alert event", lambda m: json.loads(m[1])["type"] == "raised",
                       topic=p + "/event", since=mark)
        self.assertFalse(ev[2])
        self.assertEqual(ev[3], 1)
        live.wait("a state with the alarm (the interval is 10 minutes)",
                  lambda m: any(a["level"] == "alarm" for a in json.loads(m[1])["alarms"]),
                  topic=p + "/state", since=mark)
        alerts = live.wait("the active alerts", lambda m: json.loads(m[1]) != [],
                           topic=p + "/alerts", since=mark)
        self.assertTrue(any(a["type"] == "high_voltage" for a in json.loads(alerts[1])))
        self.assertEqual(g.module()["state"], "running")
        self.clear_retained(late, p)

    def test_stale_string_unavailable_in_time(self):
        g = self.gateway("gw2", mqtt_extra="ha_discovery = false;")
        w = self.watcher([g.prefix + "/string/1/availability", g.prefix + "/string/1/state"])
        w.wait("online", lambda m: m[1] == "online", topic=g.prefix + "/string/1/availability")
        mark = w.mark()
        g.sim.ctl.ok("fault noreply on")
        w.wait("offline", lambda m: m[1] == "offline", since=mark,
               topic=g.prefix + "/string/1/availability")
        # the daemon's own measure: how old the data was when it said unavailable
        g.daemon.wait_log("mqtt: string 1 unavailable, its data", GIVE_UP)
        line = [x for x in g.daemon.text().splitlines() if "string 1 unavailable" in x][0]
        age_ms = int(line.split("its data ")[1].split(" ms")[0])
        self.assertLessEqual(age_ms, STALE_MS + 1000, line)
        st = w.wait("a stale string state", lambda m: json.loads(m[1])["stale"], since=mark,
                    topic=g.prefix + "/string/1/state")
        self.assertGreater(json.loads(st[1])["age_ms"], STALE_MS)
        g.sim.ctl.ok("fault noreply off")
        w.wait("online again", lambda m: m[1] == "online", since=mark,
               topic=g.prefix + "/string/1/availability")

    def test_last_will_after_kill9_and_reconnect_after_broker_restart(self):
        g = self.gateway("gw3", mqtt_extra="ha_discovery = false;")
        w = self.watcher([g.prefix + "/status"])
        w.wait("online", lambda m: m[1] == "online")
        # the broker restarts: the gateway is degraded with the reason, then back by itself
        w.close()
        self.broker_away(g)
        self.assertIn("127.0.0.1", g.module()["last_error"])
        self.broker_back()
        w = self.watcher([g.prefix + "/status"])
        w.wait("online after the restart", lambda m: m[1] == "online")
        wait_until("mqtt running", lambda: g.module()["state"] == "running", GIVE_UP)
        self.assertGreaterEqual(g.module()["counters"]["connects_total"], 2)
        metrics = bmsgwtest.urllib.request.urlopen(
            f"http://127.0.0.1:{g.http}/metrics", timeout=10).read().decode()
        self.assertIn("bmsgw_mqtt_connects_total ", metrics)
        self.assertIn('bmsgw_service_degraded{service="mqtt",reason=""} 0', metrics)
        # kill -9: the broker publishes the retained last will
        mark = w.mark()
        g.daemon.kill()
        m = w.wait("the last will", lambda m: m[1] == "offline", since=mark)
        late = self.watcher([g.prefix + "/status"])
        m = late.wait("retained offline", lambda m: True)
        self.assertEqual(m[1:3], ("offline", True))

    def test_alert_events_kept_while_disconnected(self):
        g = self.gateway("gw1", mqtt_extra="ha_discovery = false;")
        w = self.watcher([g.prefix + "/status"])
        w.wait("online", lambda m: m[1] == "online")
        w.close()
        self.broker_away(g)
        # an alarm while the broker is away: the alert engine raises it, the event is kept
        g.sim.ctl.ok("set cell 3 3700")
        wait_until("the alert raised", lambda: any(
            a["type"] == "high_voltage"
            for a in bmsgwtest.http_get_json(g.http, "/api/alerts/active")), GIVE_UP)
        # the broker comes back refusing gw1 until a watcher listens, so none of it is missed
        self.broker_back(dict(USERS, gw1="not-the-password"))
        w = self.watcher([g.prefix + "/event", g.prefix + "/status"])
        passwd = os.path.join(self.dir, "mosquitto.passwd")
        bmsgwtest.subprocess.run(["mosquitto_passwd", "-b", passwd, "gw1", USERS["gw1"]],
                                 check=True)
        self.broker.proc.send_signal(bmsgwtest.signal.SIGHUP)  # mosquitto reloads its users
        ev = w.wait("the alert event kept while disconnected",
                    lambda m: json.loads(m[1])["alert"]["type"] == "high_voltage",
                    topic=g.prefix + "/event")
        self.assertEqual(json.loads(ev[1])["type"], "raised")
        self.assertFalse(ev[2])
        wait_until("mqtt running", lambda: g.module()["state"] == "running", GIVE_UP)
        self.assertEqual(g.module()["counters"]["events_dropped_total"], 0)
        late = self.watcher([g.prefix + "/#"])
        alerts = late.wait("the retained active alerts", lambda m: True, topic=g.prefix + "/alerts")
        self.assertTrue(any(a["type"] == "high_voltage" for a in json.loads(alerts[1])))
        self.clear_retained(late, g.prefix)

class Reload(Broker):
    def test_reload_moves_the_prefix(self):
        g = self.gateway("gw2", mqtt_extra="ha_discovery = false;")
        w = self.watcher(["bmsgw/gw2/#"])
        w.wait("online", lambda m: m[1] == "online", topic="bmsgw/gw2/status")
        # a new prefix (the ACL allows it for gw2): SIGHUP reconnects under it, the old one offline
        text = open(g.daemon.conf).read().replace(
            'gateway_id = "gw2";', 'gateway_id = "gw2"; topic_prefix = "bmsgw/gw2/moved";')
        self.assertNotEqual(text, open(g.daemon.conf).read())
        g.daemon.write_config(text)
        mark = w.mark()
        g.daemon.proc.send_signal(bmsgwtest.signal.SIGHUP)
        w.wait("the old prefix offline", lambda m: m[1] == "offline", topic="bmsgw/gw2/status",
               since=mark)
        w.wait("the new prefix online", lambda m: m[1] == "online",
               topic="bmsgw/gw2/moved/status", since=mark)
        w.wait("state under the new prefix", lambda m: True, topic="bmsgw/gw2/moved/state",
               since=mark)
        self.assertEqual(g.module()["state"], "running")
        self.clear_retained(w, "bmsgw/gw2")


class Discovery(Broker):
    def announced(self, w, g, gw, skip=()):
        """The discovery documents of gateway g (id gw) once all it announced have arrived."""
        def docs():
            last = {t: p for t, p, _, _ in w.all()
                    if t.startswith("homeassistant/") and f"/{gw}/" in t and t not in skip}
            return {t: json.loads(p) for t, p in last.items() if p}  # "" = removed
        n = wait_until(f"{gw} announcing", g.announced, GIVE_UP)
        wait_until(f"{n} documents of {gw}", lambda: len(docs()) == n, GIVE_UP)
        return docs()

    def test_documents_rules_and_templates(self):
        w = self.watcher(["homeassistant/#", "bmsgw/gw1/#"])
        g = self.gateway("gw1", mqtt_extra="commands = true;")
        docs = self.announced(w, g, "gw1")
        states = {}
        wait_until("states", lambda: all(w.all(t) for t in ("bmsgw/gw1/state",
                                                              "bmsgw/gw1/string/1/state")),
                   GIVE_UP)
        for t in ("bmsgw/gw1/state", "bmsgw/gw1/string/1/state"):
            states[t] = json.loads(w.all(t)[-1][1])
        units = {"voltage": {"V", "mV"}, "current": {"A"}, "power": {"W"}, "battery": {"%"},
                 "temperature": {"°C"}, "energy": {"kWh"}, "duration": {"s"}}
        devices = set()
        for topic, d in docs.items():
            comp = topic.split("/")[1]
            self.assertTrue(topic.endswith("/config"), topic)
            self.assertTrue(topic.startswith(f"homeassistant/{comp}/gw1/"), topic)
            self.assertTrue(d["unique_id"].startswith("bmsgw_gw1_"), topic)
            self.assertEqual(d["availability_mode"], "all")
            topics = [a["topic"] for a in d["availability"]]
            self.assertEqual(topics[0], "bmsgw/gw1/status")
            if "/s1_" in topic:
                self.assertEqual(topics[1:], ["bmsgw/gw1/string/1/availability"])
                self.assertEqual(d["device"]["via_device"], "bmsgw_gw1")
            dev = d["device"]
            devices.add(dev["identifiers"][0])
            self.assertEqual(dev["manufacturer"], "bmsgw")
            if comp in ("button", "number"):
                self.assertTrue(d["command_topic"].startswith("bmsgw/gw1/cmd/"))
                continue
            self.assertEqual(d["expire_after"], 30)
            if d.get("device_class") in units:
                self.assertIn(d["unit_of_measurement"], units[d["device_class"]], topic)
            if d.get("device_class") == "energy":
                self.assertEqual(d["state_class"], "total_increasing")
            value = render(d["value_template"], states[d["state_topic"]])
            if comp == "binary_sensor":
                self.assertEqual(d["device_class"], "problem")
                self.assertIn(value, ("ON", "OFF"), topic)
            elif "unit_of_measurement" in d and value != "None":
                float(value)  # a number, as Home Assistant needs it
            elif "unit_of_measurement" in d:
                self.assertIn(d["object_id"].split("_")[-1], ("full", "empty"), topic)
        self.assertEqual(devices, {"bmsgw_gw1", "bmsgw_gw1_s1"})
        kinds = {t.split("/")[1] for t in docs}
        self.assertEqual(kinds, {"sensor", "binary_sensor", "number", "button"})
        self.assertTrue(any(d.get("entity_category") == "diagnostic" for d in docs.values()))
        self.assertEqual(sum(bool(re.search(r"/s1_cell\d+/", t)) for t in docs), 16)
        # Home Assistant restarts: everything is announced again
        mark = w.mark()
        w.publish("homeassistant/status", "online")
        w.wait("a re-announcement", lambda m: m[0].endswith("/gw1/soc/config"), since=mark)
        g.close()
        self.clear_retained(w, "homeassistant/")
        self.clear_retained(w, "bmsgw/gw1")

    def test_fleet_unique_ids_and_removal_at_start(self):
        w = self.watcher(["homeassistant/#"])
        # an entity of a string this gateway no longer has, retained from an earlier life
        old = "homeassistant/sensor/gw3/s4_soc/config"
        w.publish(old, json.dumps({"unique_id": "bmsgw_gw3_s4_soc"}), retain=True)
        # and that string's retained state and availability
        ws = self.watcher(["bmsgw/gw3/string/#"])
        gone = ("bmsgw/gw3/string/4/state", "bmsgw/gw3/string/4/availability")
        ws.publish(gone[0], json.dumps({"soc_pct": 50}), retain=True)
        ws.publish(gone[1], "online", retain=True)
        gws = {gw: self.gateway(gw) for gw in ("gw1", "gw2", "gw3")}
        docs = {gw: self.announced(w, g, gw, skip=(old,)) for gw, g in gws.items()}
        ids = [d["unique_id"] for per in docs.values() for d in per.values()]
        self.assertEqual(len(ids), len(set(ids)), "a unique_id shared between gateways")
        wait_until("the obsolete entity removed",
                   lambda: w.all(old) and w.all(old)[-1][1] == "", GIVE_UP)
        late = self.watcher([old])
        late.publish("bmsgw/probe", "x")
        self.assertEqual(late.all(old), [])  # nothing retained any more
        for topic in gone:
            wait_until(f"{topic} cleared", lambda: ws.all(topic)[-1][1] == "", GIVE_UP)
        late = self.watcher(list(gone) + ["bmsgw/gw3/string/1/state"])
        late.wait("string 1 still retained", lambda m: m[1] != "",
                  topic="bmsgw/gw3/string/1/state")
        self.assertEqual([m for m in late.all() if m[0] in gone], [])
        for c in self.closers[:]:
            if isinstance(c, Gateway):
                c.close()
        self.clear_retained(w, "homeassistant/")


class Commands(Broker):
    def result(self, w, mark):
        m = w.wait("a command result", lambda m: True, topic=self.p + "/cmd/result", since=mark)
        self.assertEqual((m[2], m[3]), (False, 1))  # not retained, QoS 1
        return json.loads(m[1])

    def test_clamp_expire_and_refusals(self):
        g = self.gateway("gw1", mqtt_extra="ha_discovery = false; commands = true; "
                                           "command_max_ttl_s = 600;")
        self.p = g.prefix
        w = self.watcher([self.p + "/#"])

        def ccl():
            return bmsgwtest.http_get_json(g.http, "/api/status")["limits"]["ccl_a"]
        wait_until("the full charge limit", lambda: (ccl() or 0) >= 40, GIVE_UP)
        full = ccl()
        refused = [
            ("charge_limit_a", "not json", "malformed JSON"),
            ("charge_limit_a", '{"value": -3}', "0..100000 A"),
            ("charge_limit_a", json.dumps({"value": full + 10}), "would raise"),
            ("charge_limit_a", '{"value": 5, "ttl_s": 601}', "ttl_s must be 1..600"),
            ("discharge_limit_a", '{"value": 5, "extra": 1}', "unknown member"),
            ("self_destruct", "{}", "unknown command"),
        ]
        for name, payload, why in refused:
            mark = w.mark()
            w.publish(f"{self.p}/cmd/{name}", payload)
            r = self.result(w, mark)
            self.assertEqual((r["command"], r["ok"]), (name, False), payload)
            self.assertIn(why, r["error"], payload)
        # a user the ACL does not let publish commands: the broker drops it, nothing happens
        viewer = self.watcher([self.p + "/cmd/result"], user="viewer")
        viewer.publish(f"{self.p}/cmd/charge_limit_a", '{"value": 1, "ttl_s": 600}')
        status = bmsgwtest.http_get_json(g.http, "/api/status")
        self.assertIsNone(status["control"]["charge_clamp"])
        # accepted: clamped at once, in the reason, and expiring by itself
        mark = w.mark()
        w.publish(f"{self.p}/cmd/charge_limit_a", '{"value": 12.5, "ttl_s": 3}')
        r = self.result(w, mark)
        self.assertEqual(r, {"command": "charge_limit_a", "ok": True})
        self.assertEqual(len(w.all(self.p + "/cmd/result")), len(refused) + 1)  # none from viewer
        st = w.wait("a clamped state", lambda m: json.loads(m[1])["limits"]["ccl_a"] == 12.5,
                    topic=self.p + "/state", since=mark)
        st = json.loads(st[1])
        self.assertIn("clamped by mqtt", st["limits"]["ccl_reason"])
        self.assertEqual(st["control"]["charge_clamp"]["limit_a"], 12.5)
        wait_until("the clamp expired", lambda: bmsgwtest.http_get_json(
            g.http, "/api/status")["control"]["charge_clamp"] is None, GIVE_UP)
        wait_until("the limit back above the clamp", lambda: (ccl() or 0) > 12.5, GIVE_UP)
        # acknowledge
        g.sim.ctl.ok("set cell 2 3700")
        w.wait("an alert", lambda m: json.loads(m[1])["type"] == "raised", topic=self.p + "/event")
        mark = w.mark()
        w.publish(f"{self.p}/cmd/ack_alerts", "{}")
        self.assertTrue(self.result(w, mark)["ok"])
        w.wait("acknowledged", lambda m: json.loads(m[1])["type"] == "acknowledged",
               topic=self.p + "/event", since=mark)
        self.assertGreaterEqual(g.module()["counters"]["commands_refused_total"], len(refused))
        self.clear_retained(w, self.p)

    def test_commands_off_by_default(self):
        g = self.gateway("gw2", mqtt_extra="ha_discovery = false;")
        w = self.watcher([g.prefix + "/#"])
        w.wait("online", lambda m: m[1] == "online", topic=g.prefix + "/status")
        w.publish(f"{g.prefix}/cmd/charge_limit_a", '{"value": 1}')
        w.publish(f"{g.prefix}/cmd/ack_alerts", '{}')
        w.publish("bmsgw/probe", "x")
        self.assertEqual(w.all(g.prefix + "/cmd/result"), [])
        self.assertIsNone(bmsgwtest.http_get_json(g.http, "/api/status")["control"]["charge_clamp"])
        self.clear_retained(w, g.prefix)


class Refused(Broker):
    def degraded_with(self, g, needle):
        wait_until(f"degraded with {needle!r}", lambda: g.module()["state"] == "degraded"
                   and needle in g.module()["last_error"], GIVE_UP)

    def test_wrong_password(self):
        g = self.gateway("gw1", password="wrong")
        self.degraded_with(g, "not authorised")
        self.assertNotIn("wrong", g.daemon.text())  # never logged

    def test_password_file_readable_by_others(self):
        folder = os.path.join(self.dir, "loose")
        os.makedirs(folder, exist_ok=True)
        keys = mqtt_keys(self.broker, "gw2", folder)
        os.chmod(os.path.join(folder, "gw2.pw"), 0o644)
        g = self.gateway("gw2", mqtt=keys)
        self.degraded_with(g, "must be 0600")
        cfg = bmsgwtest.http_get_json(g.http, "/api/config")["mqtt"]
        self.assertNotIn(USERS["gw2"], json.dumps(cfg))
        os.chmod(os.path.join(folder, "gw2.pw"), 0o600)  # fixed: taken at the next attempt
        wait_until("running once the file is fixed", lambda: g.module()["state"] == "running",
                   GIVE_UP)

    def test_tls_verified_and_wrong_ca(self):
        other = bmsgwtest.make_test_ca(self.dir, "other")
        base = (f'enabled = true; host = "127.0.0.1"; port = {self.broker.tls_port}; '
                f'gateway_id = "gw3"; username = "gw3"; ')
        folder = os.path.join(self.dir, "tls")
        os.makedirs(folder, exist_ok=True)
        pw = os.path.join(folder, "pw")
        with open(pw, "w") as f:
            f.write(USERS["gw3"])
        os.chmod(pw, 0o600)
        good = self.gateway("gw3", mqtt=base + f'password_file = "{pw}"; '
                            f'tls = {{ enabled = true; ca_file = "{self.ca["ca"]}"; }};')
        wait_until("TLS connection", lambda: good.module()["state"] == "running", GIVE_UP)
        good.close()
        bad = self.gateway("gw3", mqtt=base + f'password_file = "{pw}"; '
                           f'tls = {{ enabled = true; ca_file = "{other["ca"]}"; }};')
        self.degraded_with(bad, "TLS")
        self.assertEqual(bad.module()["counters"]["connects_total"], 0)


if __name__ == "__main__":
    loader = unittest.TestLoader()
    suite = (unittest.TestSuite(loader.loadTestsFromName(n, sys.modules[__name__]) for n in SELECT)
             if SELECT else loader.loadTestsFromModule(sys.modules[__name__]))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
