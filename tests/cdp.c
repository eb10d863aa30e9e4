/*
 * The DevTools protocol over a pipe (see cdp.h).
 */
#define _GNU_SOURCE
#include "cdp.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* A command's answer may take this long (a page's first load included). */
enum { TIMEOUT_MS = 30000 };

struct Cdp {
    pid_t pid;
    int to, from;                  /* our ends: its fd 3 (commands), its fd 4 (answers) */
    char profile[64];              /* the fresh profile folder */
    char *buf;                     /* bytes read and not yet split into messages */
    size_t len, cap;
    int next_id;
    char session[128];             /* the page's session */
    char error[512];
};

static int fail(Cdp *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    return -1;
}

const char *cdp_error(const Cdp *c) { return c->error; }

const char *cdp_browser(void)
{
    static char found[4096];
    const char *env = getenv("ATTOGRAD_CHROMIUM");
    if (env && *env) return access(env, X_OK) == 0 ? env : NULL;
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(found, sizeof found, "%.*s/chromium", (int)n, p);
        if (n && access(found, X_OK) == 0) return found;
        p += n + (p[n] == ':');
    }
    return NULL;
}

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* The next whole message (NUL-terminated in buf), read within the
 * deadline; NULL with a message. */
static json_object *next_message(Cdp *c, long deadline)
{
    for (;;) {
        char *end = c->len ? memchr(c->buf, '\0', c->len) : NULL;
        if (end) {
            json_object *m = json_tokener_parse(c->buf);
            size_t used = (size_t)(end - c->buf) + 1;
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            if (!m) fail(c, "the browser sent a message that is not JSON");
            return m;
        }
        long left = deadline - now_ms();
        if (left <= 0) return fail(c, "no answer from the browser within %d s", TIMEOUT_MS / 1000),
                              NULL;
        struct pollfd p = {.fd = c->from, .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        if (c->cap - c->len < 65536) {
            char *bigger = realloc(c->buf, c->cap * 2 + 65536);
            if (!bigger) return fail(c, "out of memory"), NULL;
            c->buf = bigger;
            c->cap = c->cap * 2 + 65536;
        }
        ssize_t got = read(c->from, c->buf + c->len, c->cap - c->len);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return fail(c, "the browser closed its pipe (it exited)"), NULL;
        c->len += (size_t)got;
    }
}

static const char *str_of(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* Sends method(params) (params taken over; NULL: none), in the page's
 * session when page; waits for its answer: the "result" object (the caller
 * puts the whole message with json_object_put(*message)), or NULL. */
static json_object *call(Cdp *c, bool page, const char *method, json_object *params,
                         json_object **message)
{
    int id = ++c->next_id;
    json_object *m = json_object_new_object();
    json_object_object_add(m, "id", json_object_new_int(id));
    json_object_object_add(m, "method", json_object_new_string(method));
    json_object_object_add(m, "params", params ? params : json_object_new_object());
    if (page) json_object_object_add(m, "sessionId", json_object_new_string(c->session));
    const char *text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
    size_t n = strlen(text) + 1;                                   /* with its NUL */
    for (size_t off = 0; off < n;) {
        ssize_t w = write(c->to, text + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            json_object_put(m);
            return fail(c, "%s: cannot write to the browser", method), NULL;
        }
        off += (size_t)w;
    }
    json_object_put(m);
    long deadline = now_ms() + TIMEOUT_MS;
    for (json_object *a; (a = next_message(c, deadline));) {
        json_object *v, *err;
        if (!json_object_object_get_ex(a, "id", &v) || json_object_get_int(v) != id) {
            json_object_put(a);                                     /* an event */
            continue;
        }
        if (json_object_object_get_ex(a, "error", &err)) {
            fail(c, "%s: %s", method, json_object_to_json_string(err));
            json_object_put(a);
            return NULL;
        }
        *message = a;
        return json_object_object_get_ex(a, "result", &v) ? v : NULL;
    }
    return NULL;
}

/* call() for a command whose result is not read. */
static int command(Cdp *c, bool page, const char *method, json_object *params)
{
    json_object *whole = NULL;
    json_object *r = call(c, page, method, params, &whole);
    json_object_put(whole);
    return r ? 0 : -1;
}

/* Removes the profile folder (chromium's files in it, several levels). */
static void remove_tree(const char *dir)
{
    pid_t pid;
    char *argv[] = {"rm", "-rf", "--", (char *)dir, NULL};
    if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ) == 0) waitpid(pid, NULL, 0);
}

Cdp *cdp_start(int width, int height, char *why, size_t why_cap)
{
    const char *browser = cdp_browser();
    if (!browser) {
        snprintf(why, why_cap, "no chromium on the PATH (./run test installs Debian's chromium)");
        return NULL;
    }
    Cdp *c = calloc(1, sizeof *c);
    if (!c) return snprintf(why, why_cap, "out of memory"), NULL;
    c->to = c->from = -1;
    snprintf(c->profile, sizeof c->profile, "/tmp/attograd-chromium-XXXXXX");
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || !mkdtemp(c->profile)) {
        snprintf(why, why_cap, "cannot make pipes or a profile folder: %s", strerror(errno));
        for (int i = 0; i < 2; i++) {
            if (in[i] >= 0) close(in[i]);
            if (out[i] >= 0) close(out[i]);
        }
        if (!strstr(c->profile, "XXXXXX")) remove_tree(c->profile);
        free(c);
        return NULL;
    }
    char profile_flag[96], size_flag[64];
    snprintf(profile_flag, sizeof profile_flag, "--user-data-dir=%s", c->profile);
    snprintf(size_flag, sizeof size_flag, "--window-size=%d,%d", width, height);
    char *argv[] = {(char *)browser, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    "--remote-debugging-pipe", "--hide-scrollbars", profile_flag, size_flag,
                    "about:blank", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 3);
    posix_spawn_file_actions_adddup2(&fa, out[1], 4);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&c->pid, browser, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    c->to = in[1];
    c->from = out[0];
    if (rc != 0) {
        snprintf(why, why_cap, "cannot start %s: %s", browser, strerror(rc));
        c->pid = 0;
        cdp_stop(c);
        return NULL;
    }
    signal(SIGPIPE, SIG_IGN);
    /* A page of our own, attached in flat mode: its commands carry a sessionId. */
    json_object *p = json_object_new_object(), *whole = NULL;
    json_object_object_add(p, "url", json_object_new_string("about:blank"));
    json_object *r = call(c, false, "Target.createTarget", p, &whole);
    const char *target = r ? str_of(r, "targetId") : NULL;
    json_object *whole2 = NULL, *r2 = NULL;
    if (target) {
        p = json_object_new_object();
        json_object_object_add(p, "targetId", json_object_new_string(target));
        json_object_object_add(p, "flatten", json_object_new_boolean(1));
        r2 = call(c, false, "Target.attachToTarget", p, &whole2);
    }
    const char *session = r2 ? str_of(r2, "sessionId") : NULL;
    if (session) snprintf(c->session, sizeof c->session, "%s", session);
    json_object_put(whole);
    json_object_put(whole2);
    if (!session) {
        snprintf(why, why_cap, "%s started but did not open a page: %s", browser, c->error);
        cdp_stop(c);
        return NULL;
    }
    p = json_object_new_object();
    json_object_object_add(p, "width", json_object_new_int(width));
    json_object_object_add(p, "height", json_object_new_int(height));
    json_object_object_add(p, "deviceScaleFactor", json_object_new_int(1));
    json_object_object_add(p, "mobile", json_object_new_boolean(0));
    if (command(c, true, "Page.enable", NULL) ||
        command(c, true, "Emulation.setDeviceMetricsOverride", p)) {
        snprintf(why, why_cap, "%s: %s", browser, c->error);
        cdp_stop(c);
        return NULL;
    }
    return c;
}

int cdp_open(Cdp *c, const char *url)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "url", json_object_new_string(url));
    if (command(c, true, "Page.navigate", p)) return -1;
    long deadline = now_ms() + TIMEOUT_MS;
    for (json_object *m; (m = next_message(c, deadline));) {
        const char *method = str_of(m, "method");
        bool loaded = method && strcmp(method, "Page.loadEventFired") == 0;
        json_object_put(m);
        if (loaded) return 0;
    }
    return -1;
}

char *cdp_eval(Cdp *c, const char *expression)
{
    json_object *p = json_object_new_object(), *whole = NULL, *v, *ex;
    json_object_object_add(p, "expression", json_object_new_string(expression));
    json_object_object_add(p, "returnByValue", json_object_new_boolean(1));
    json_object *r = call(c, true, "Runtime.evaluate", p, &whole);
    char *text = NULL;
    if (r && json_object_object_get_ex(r, "exceptionDetails", &ex))
        fail(c, "%s threw: %s", expression, json_object_to_json_string(ex));
    else if (r && json_object_object_get_ex(r, "result", &v) &&
             json_object_object_get_ex(v, "value", &v))
        text = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    else if (r)
        fail(c, "%s: no value", expression);
    json_object_put(whole);
    return text;
}

int cdp_center(Cdp *c, const char *element, double xy[2])
{
    char js[2048];
    snprintf(js, sizeof js,
             "(() => { const e = (%s); if (!e) return null; e.scrollIntoView({block: 'center', "
             "inline: 'center'}); const r = e.getBoundingClientRect(); "
             "return [r.x + r.width / 2, r.y + r.height / 2]; })()",
             element);
    char *text = cdp_eval(c, js);
    if (!text) return -1;
    int n = sscanf(text, "[%lf,%lf]", &xy[0], &xy[1]);
    free(text);
    return n == 2 ? 0 : fail(c, "no element: %s", element);
}

int cdp_click(Cdp *c, double x, double y)
{
    static const char *const kinds[] = {"mouseMoved", "mousePressed", "mouseReleased"};
    for (int i = 0; i < 3; i++) {
        json_object *p = json_object_new_object();
        json_object_object_add(p, "type", json_object_new_string(kinds[i]));
        json_object_object_add(p, "x", json_object_new_double(x));
        json_object_object_add(p, "y", json_object_new_double(y));
        json_object_object_add(p, "button", json_object_new_string(i ? "left" : "none"));
        json_object_object_add(p, "clickCount", json_object_new_int(i ? 1 : 0));
        if (command(c, true, "Input.dispatchMouseEvent", p)) return -1;
    }
    return 0;
}

/* Decodes base64 text into a malloc'd buffer; its length in *n. */
static unsigned char *base64_decode(const char *s, size_t *n)
{
    size_t len = strlen(s);
    unsigned char *out = malloc(len / 4 * 3 + 3);
    if (!out) return NULL;
    unsigned v = 0;
    int bits = 0;
    *n = 0;
    for (const char *p = s; *p; p++) {
        const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *at = strchr(a, *p);
        if (*p == '=' || !at) continue;
        v = (v << 6) | (unsigned)(at - a);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[(*n)++] = (unsigned char)(v >> bits);
        }
    }
    return out;
}

int cdp_screenshot(Cdp *c, const char *path)
{
    json_object *p = json_object_new_object(), *whole = NULL;
    json_object_object_add(p, "format", json_object_new_string("png"));
    json_object *r = call(c, true, "Page.captureScreenshot", p, &whole);
    const char *b64 = r ? str_of(r, "data") : NULL;
    size_t n = 0;
    unsigned char *png = b64 ? base64_decode(b64, &n) : NULL;
    json_object_put(whole);
    if (!png) return c->error[0] ? -1 : fail(c, "no screenshot");
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(png, 1, n, f) == n ? 0 : -1;
    if (f && fclose(f) != 0) rc = -1;
    free(png);
    return rc ? fail(c, "%s: cannot write the screenshot", path) : 0;
}

void cdp_stop(Cdp *c)
{
    if (!c) return;
    if (c->pid > 0 && c->session[0]) command(c, false, "Browser.close", NULL);
    if (c->to >= 0) close(c->to);
    if (c->from >= 0) close(c->from);
    if (c->pid > 0) {
        /* Browser.close ends it; a browser that hangs is ended after 5 s. */
        long deadline = now_ms() + 5000;
        while (waitpid(c->pid, NULL, WNOHANG) == 0) {
            if (now_ms() > deadline) {
                kill(c->pid, SIGKILL);
                waitpid(c->pid, NULL, 0);
                break;
            }
            usleep(20000);
        }
    }
    if (c->profile[0]) remove_tree(c->profile);
    free(c->buf);
    free(c);
}
