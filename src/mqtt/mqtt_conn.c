/* SPDX-License-Identifier: MIT */
/* mqtt_conn.c — the libmosquitto client: set-up, connecting with backoff, socket I/O. */
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bmsgw/log.h"
#include "mqtt_priv.h"

#define MQTT_PASSWORD_MAX 256

/* The password from password_file: mode 0600 (no group or other bits), first line. */
static int read_password(const char *path, char *out, size_t size, char *why, size_t why_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(why, why_size, "mqtt.password_file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -EINVAL;
    }
    if (st.st_mode & 077) {
        snprintf(why, why_size, "mqtt.password_file %s: mode %04o, must be 0600 (chmod 600)", path,
                 (unsigned)(st.st_mode & 07777));
        close(fd);
        return -EPERM;
    }
    ssize_t n = read(fd, out, size - 1);
    close(fd);
    if (n < 0) {
        snprintf(why, why_size, "mqtt.password_file %s: %s", path, strerror(errno));
        return -EINVAL;
    }
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int set_tls(struct mqtt_svc *m, char *why, size_t why_size)
{
    const struct cfg_mqtt_tls *t = &m->cfg->mqtt.tls;
    const char *ca = t->ca_file[0] ? t->ca_file : NULL;
    int rc = mosquitto_tls_set(m->mosq, ca, ca ? NULL : "/etc/ssl/certs",
                               t->cert_file[0] ? t->cert_file : NULL,
                               t->key_file[0] ? t->key_file : NULL, NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_tls_opts_set(m->mosq, t->verify ? 1 : 0, NULL, NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_tls_insecure_set(m->mosq, !t->verify);
    if (rc != MOSQ_ERR_SUCCESS)
        snprintf(why, why_size, "TLS set-up (mqtt.tls): %s", mosquitto_strerror(rc));
    return rc == MOSQ_ERR_SUCCESS ? 0 : -EINVAL;
}

static void schedule_retry(struct mqtt_svc *m, int64_t now_ms, const char *why)
{
    m->sock_open = false;
    m->connected = false;
    atomic_store(&m->cnt.connected, false);
    m->next_attempt_ms = now_ms + m->backoff_ms;
    service_set_state(m->svc, SERVICE_DEGRADED, "broker %s:%d: %s (retry in %d s)",
                      m->cfg->mqtt.host, mqtt_port(&m->cfg->mqtt), why, m->backoff_ms / 1000);
    m->backoff_ms =
        m->backoff_ms * 2 > MQTT_BACKOFF_MAX_MS ? MQTT_BACKOFF_MAX_MS : m->backoff_ms * 2;
}

/* The callbacks only record what happened; mqtt_conn_io acts on it after the loop call. */
static void on_connect(struct mosquitto *mosq, void *ctx, int rc)
{
    struct mqtt_svc *m = ctx;
    (void)mosq;
    m->connack = rc;
}

static void handle_connack(struct mqtt_svc *m, int rc, int64_t now)
{
    if (rc != 0) {
        atomic_fetch_add(&m->cnt.connect_failures, 1);
        mosquitto_disconnect(m->mosq);
        schedule_retry(m, now, mosquitto_connack_string(rc));
        return;
    }
    m->connected = true;
    atomic_store(&m->cnt.connected, true);
    atomic_fetch_add(&m->cnt.connects, 1);
    m->backoff_ms = MQTT_BACKOFF_MIN_MS;
    service_set_state(m->svc, SERVICE_RUNNING, "%s", "");
    log_info("mqtt: connected to %s:%d as %s, prefix %s", m->cfg->mqtt.host,
             mqtt_port(&m->cfg->mqtt), m->ids.client_id, m->ids.prefix);
    mqtt_on_online(m, now);
}

static void on_disconnect(struct mosquitto *mosq, void *ctx, int rc)
{
    struct mqtt_svc *m = ctx;
    (void)mosq;
    if (!m->connected)
        return;
    atomic_fetch_add(&m->cnt.disconnects, 1);
    if (!atomic_load(&m->stop))
        schedule_retry(m, clock_mono_ms(), rc ? "connection lost" : "disconnected");
}

static void on_message(struct mosquitto *mosq, void *ctx, const struct mosquitto_message *msg)
{
    struct mqtt_svc *m = ctx;
    (void)mosq;
    if (m->in_n == m->in_cap) {
        unsigned cap = m->in_cap ? 2 * m->in_cap : 64;
        struct mqtt_inmsg *in = cap <= MQTT_INBOX_MAX ? realloc(m->inbox, cap * sizeof(*in)) : NULL;
        if (!in)
            return; /* out of room (MQTT_INBOX_MAX between two loop calls): dropped */
        m->inbox = in;
        m->in_cap = cap;
    }
    int len =
        msg->payloadlen < MQTT_CMD_PAYLOAD_MAX + 1 ? msg->payloadlen : MQTT_CMD_PAYLOAD_MAX + 1;
    struct mqtt_inmsg *e = &m->inbox[m->in_n];
    e->topic = strdup(msg->topic);
    e->payload = malloc((size_t)len + 1);
    if (!e->topic || !e->payload) {
        free(e->topic);
        free(e->payload);
        return;
    }
    if (len > 0) /* an empty message (a retained topic being cleared) has no payload */
        memcpy(e->payload, msg->payload, (size_t)len);
    e->payload[len] = '\0';
    e->len = len;
    e->retained = msg->retain;
    m->in_n++;
}

/* Hand the kept messages to mqtt_on_message (while connected) and forget them. */
static void drain_inbox(struct mqtt_svc *m)
{
    for (unsigned i = 0; i < m->in_n; i++) {
        struct mqtt_inmsg *e = &m->inbox[i];
        if (m->connected)
            mqtt_on_message(m, e->topic, e->payload, e->len, e->retained);
        free(e->topic);
        free(e->payload);
    }
    m->in_n = 0;
}

int mqtt_conn_new(struct mqtt_svc *m, char *why, size_t why_size)
{
    char will[MQTT_TOPIC_MAX], password[MQTT_PASSWORD_MAX] = "";
    const struct cfg_mqtt *c = &m->cfg->mqtt;
    m->connack = -1;
    m->mosq = mosquitto_new(m->ids.client_id, true, m);
    if (!m->mosq) {
        snprintf(why, why_size, "cannot create the MQTT client: %s", strerror(errno));
        return -ENOMEM;
    }
    mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(m->mosq, on_connect);
    mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
    mosquitto_message_callback_set(m->mosq, on_message);
    mqtt_topic(&m->ids, "status", will, sizeof(will));
    mosquitto_will_set(m->mosq, will, 7, "offline", 1, true);
    int rc = 0;
    if (c->password_file[0])
        rc = read_password(c->password_file, password, sizeof(password), why, why_size);
    if (!rc && c->username[0])
        rc = mosquitto_username_pw_set(m->mosq, c->username, password[0] ? password : NULL)
                 ? -EINVAL
                 : 0;
    explicit_bzero(password, sizeof(password));
    if (!rc && c->tls.enabled)
        rc = set_tls(m, why, why_size);
    return rc;
}

void mqtt_conn_free(struct mqtt_svc *m)
{
    bool was = m->connected;
    m->connected = false;
    drain_inbox(m); /* frees */
    m->connected = was;
    free(m->inbox);
    m->inbox = NULL;
    m->in_cap = 0;
    if (m->mosq)
        mosquitto_destroy(m->mosq);
    m->mosq = NULL;
    m->sock_open = m->connected = m->ever_tried = false;
    atomic_store(&m->cnt.connected, false);
}

static const char *conn_error(int rc)
{
    return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

void mqtt_conn_attempt(struct mqtt_svc *m, int64_t now_ms)
{
    const struct cfg_mqtt *c = &m->cfg->mqtt;
    int rc = m->ever_tried
                 ? mosquitto_reconnect_async(m->mosq)
                 : mosquitto_connect_async(m->mosq, c->host, mqtt_port(c), c->keepalive_s);
    m->ever_tried = true;
    if (rc != MOSQ_ERR_SUCCESS) {
        atomic_fetch_add(&m->cnt.connect_failures, 1);
        schedule_retry(m, now_ms, conn_error(rc));
        return;
    }
    m->sock_open = true;
}

static const char *io_error(int rc)
{
    if (rc == MOSQ_ERR_TLS)
        return "TLS handshake failed (check mqtt.tls.ca_file and the broker's certificate)";
    if (rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_NO_CONN)
        return "connection lost";
    return conn_error(rc);
}

void mqtt_conn_io(struct mqtt_svc *m, short revents, int64_t now_ms)
{
    int rc = MOSQ_ERR_SUCCESS;
    if (revents & (POLLIN | POLLHUP | POLLERR))
        rc = mosquitto_loop_read(m->mosq, 1);
    if (rc == MOSQ_ERR_SUCCESS && m->sock_open && mosquitto_want_write(m->mosq))
        rc = mosquitto_loop_write(m->mosq, 1);
    if (rc == MOSQ_ERR_SUCCESS && m->sock_open)
        rc = mosquitto_loop_misc(m->mosq);
    int connack = m->connack;
    m->connack = -1;
    if (connack >= 0 && m->sock_open)
        handle_connack(m, connack, now_ms);
    drain_inbox(m);
    if (rc == MOSQ_ERR_SUCCESS || !m->sock_open)
        return;
    bool was_connected = m->connected;
    if (!was_connected)
        atomic_fetch_add(&m->cnt.connect_failures, 1);
    else
        atomic_fetch_add(&m->cnt.disconnects, 1);
    mosquitto_disconnect(m->mosq);
    m->connected = false;
    schedule_retry(m, now_ms, io_error(rc));
}

bool mqtt_pub(struct mqtt_svc *m, const char *topic, const char *payload, int qos, bool retain)
{
    if (!m->connected)
        return false;
    int rc = mosquitto_publish(m->mosq, NULL, topic, payload ? (int)strlen(payload) : 0, payload,
                               qos, retain);
    atomic_fetch_add(rc == MOSQ_ERR_SUCCESS ? &m->cnt.published : &m->cnt.publish_errors, 1);
    return rc == MOSQ_ERR_SUCCESS;
}

bool mqtt_pub_p(struct mqtt_svc *m, const char *suffix, const char *payload, int qos, bool retain)
{
    char topic[MQTT_TOPIC_MAX];
    mqtt_topic(&m->ids, suffix, topic, sizeof(topic));
    return mqtt_pub(m, topic, payload, qos, retain);
}

void mqtt_conn_goodbye(struct mqtt_svc *m)
{
    if (!m->connected)
        return;
    int mid = 0;
    char topic[MQTT_TOPIC_MAX];
    mqtt_topic(&m->ids, "status", topic, sizeof(topic));
    mosquitto_publish(m->mosq, &mid, topic, 7, "offline", 1, true);
    m->connected = false;
    mosquitto_disconnect(m->mosq);
    /* flush what is queued (the offline message and the DISCONNECT) for at most a second */
    for (int i = 0; i < 20 && mosquitto_want_write(m->mosq); i++) {
        struct pollfd p = { .fd = mosquitto_socket(m->mosq), .events = POLLOUT };
        if (p.fd < 0 || poll(&p, 1, 50) < 0 || mosquitto_loop_write(m->mosq, 1) != MOSQ_ERR_SUCCESS)
            break;
    }
}
