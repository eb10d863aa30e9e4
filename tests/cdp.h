/*
 * A headless Chromium driven through its DevTools protocol, for the tests
 * that use a page as a person does (tests/cdp.c, compiled into each test
 * that uses it).
 *
 * Chromium runs with --remote-debugging-pipe: it reads the protocol's JSON
 * messages, each ended by a NUL byte, from its fd 3 and writes its answers
 * and events to its fd 4, so no port, no WebSocket and no client library
 * are involved (json-c, which the text room already needs, builds and reads
 * the messages).  The flags are Debian's chromium's for a headless run as
 * root on a machine without a network: no sandbox (root), no GPU, no
 * background networking, component updates or sync, a fresh profile.
 *
 *     char why[256];
 *     Cdp *c = cdp_start(1500, 1000, why, sizeof why);
 *     if (!c) { printf("skipped: %s\n", why); ... }
 *     cdp_open(c, "file:///tmp/x/page.html");
 *     double xy[2];
 *     cdp_center(c, "document.querySelector('#next')", xy);
 *     cdp_click(c, xy[0], xy[1]);
 *     char *text = cdp_eval(c, "document.title");         (a JSON value; free it)
 *     cdp_screenshot(c, "page.png");
 *     cdp_stop(c);
 *
 * Every call but cdp_start returns 0 / non-NULL, or -1 / NULL with the
 * reason in cdp_error(c).
 */
#ifndef ATTOGRAD_CDP_H
#define ATTOGRAD_CDP_H

#include <stddef.h>

typedef struct Cdp Cdp;

/* The browser: $ATTOGRAD_CHROMIUM, else chromium on the PATH; NULL when
 * there is none. */
const char *cdp_browser(void);
/* Starts it with a page of width x height CSS pixels; NULL with the reason
 * in why. */
Cdp *cdp_start(int width, int height, char *why, size_t why_cap);
/* Opens url and waits for its load event (and the script it runs). */
int cdp_open(Cdp *c, const char *url);
/* The value of a JavaScript expression in the page, as JSON text
 * (malloc'd): "\"text\"", "3", "[1,2]"; NULL when it threw. */
char *cdp_eval(Cdp *c, const char *expression);
/* The centre, in the viewport, of the element an expression returns,
 * scrolled into view first. */
int cdp_center(Cdp *c, const char *element, double xy[2]);
/* A left click at (x, y): the mouse pressed and released there, as a
 * person's click reaches the page. */
int cdp_click(Cdp *c, double x, double y);
/* The page as it is drawn now, a PNG at path. */
int cdp_screenshot(Cdp *c, const char *path);
const char *cdp_error(const Cdp *c);
/* Closes the browser and waits for it; NULL is fine. */
void cdp_stop(Cdp *c);

#endif /* ATTOGRAD_CDP_H */
