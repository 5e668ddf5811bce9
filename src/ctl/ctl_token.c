/* SPDX-License-Identifier: MIT */
/* ctl_token.c — bmsctl token: the REST API token of the local install, read, never created. */
#include <errno.h>
#include <string.h>

#include "bmsgw/auth.h"
#include "bmsgw/config.h"
#include "bmsgw/ctl.h"

static int token_failed(FILE *err, const char *path, int rc)
{
    switch (rc) {
    case -ENOENT:
        fprintf(err, "bmsctl: no API token at %s yet (bmsgw creates it when it first starts)\n",
                path);
        break;
    case -EACCES:
    case -EPERM:
        fprintf(err,
                "bmsctl: cannot read %s: %s (the token is readable by root and the bmsgw user "
                "only)\n",
                path, strerror(-rc));
        break;
    case -EINVAL:
        fprintf(err, "bmsctl: %s holds no usable token (%d..%d printable characters)\n", path,
                AUTH_TOKEN_MIN, AUTH_TOKEN_MAX - 1);
        break;
    default:
        fprintf(err, "bmsctl: cannot read %s: %s\n", path, strerror(-rc));
        break;
    }
    return CTL_EXIT_IO;
}

int ctl_token(const char *config, int format, FILE *out, FILE *err)
{
    struct bmsgw_config cfg;
    struct cfg_error e;
    char token[AUTH_TOKEN_MAX], msg[700];
    bool loose;
    const char *path = config ? config : CFG_DEFAULT_FILE;
    if (config_load(&cfg, path, NULL, &e) != 0) {
        fprintf(err, "bmsctl: %s\n", cfg_error_str(&e, msg, sizeof(msg)));
        return CTL_EXIT_IO;
    }
    int rc = auth_token_read(cfg.http.api_token_file, token, sizeof(token), &loose);
    if (rc)
        return token_failed(err, cfg.http.api_token_file, rc);
    if (loose)
        fprintf(err, "bmsctl: warning: %s is readable by other users (chmod 600 it)\n",
                cfg.http.api_token_file);
    if (format == CTL_FMT_JSON) {
        json_t *o = json_pack("{s:s, s:s}", "token", token, "file", cfg.http.api_token_file);
        rc = o ? ctl_json_print(out, o) : -ENOMEM;
        json_decref(o);
    } else {
        rc = fprintf(out, "%s\n", token) < 0 ? -EIO : 0;
    }
    explicit_bzero(token, sizeof(token));
    return rc ? CTL_EXIT_IO : CTL_EXIT_OK;
}
