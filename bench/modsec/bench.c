/*
 * The peer of sekisho's WAF bench (crates/sekisho-waf/benches/crs.rs), on libmodsecurity 3:
 * the same setup directives, the same CRS files in the same order, the same five requests
 * byte for byte, the same small response, one whole transaction per iteration (connection,
 * URI, request headers, request body, response headers, response body, logging).
 *
 * Build: cc -O2 -o modsec-bench bench/modsec/bench.c $(pkg-config --cflags --libs modsecurity)
 *
 * Usage: modsec-bench [-n N] [-c CHUNK] [-w WARMUP_S] [-t MAX_S] CRS_DIR PL REQUEST
 *        modsec-bench -d REQUEST            (writes the request, serialized, to stdout)
 *   CRS_DIR  the CRS (crs-setup.conf.example, then rules/NAME.conf sorted, as crs.rs loads them)
 *   PL       the blocking paranoia level, 1..4
 *   REQUEST  benign_get, json_post_2k, form_post_10k, multipart_100k or sqli_get
 *   -n N     transactions timed (default 20000; a whole number of chunks, at least one)
 *   -c CHUNK transactions per timed chunk (default 1000; 0: as many as take about 0.2 s,
 *            from the warm-up's rate, so that slow requests still give many chunks)
 *   -w S     warm-up seconds before timing (default 2, as criterion's --warm-up-time 2)
 *   -t S     stop after the chunk that ends past S seconds of timing (default: no limit)
 *
 * Before timing it runs every request once and prints its interruption status; it fails
 * when the SQLi request is not intercepted or the benign GET is, so a figure is only ever
 * printed for a CRS that loaded and runs. Then one line:
 *   modsec pl1 benign_get n=20000 chunks=20 chunk=1000 mean_us=... fastest_us=... median_us=...
 * (per transaction; mean over all timed transactions, fastest and median chunk).
 *
 * No audit log (SecAuditEngine Off is appended to the setup), no debug log (no SecDebugLog;
 * SecDebugLogLevel 0), and the server-log callback discards its message: nothing is written
 * to a file or a terminal while timing.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <modsecurity/intervention.h>
#include <modsecurity/modsecurity.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>

/* ---- small helpers ------------------------------------------------------------------- */

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("modsec-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory");
    return p;
}

/* A growable byte buffer. */
typedef struct {
    char *p;
    size_t len, cap;
} Buf;

static void buf_add(Buf *b, const void *data, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) die("out of memory");
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(Buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_fmt(Buf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) die("internal: formatted piece too long");
    buf_add(b, tmp, (size_t)n);
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s);
    char *p = xmalloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

static double now_s(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) die("clock_gettime: %s", strerror(errno));
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the requests (as crs.rs builds them) ---------------------------------------------- */

#define MAX_HEADERS 16

typedef struct {
    const char *name;
    const char *method;
    char *uri;
    int nheaders;
    char *hname[MAX_HEADERS];
    char *hvalue[MAX_HEADERS];
    Buf body;
} Req;

static void add_header(Req *r, const char *k, const char *v) {
    if (r->nheaders == MAX_HEADERS) die("internal: too many headers");
    r->hname[r->nheaders] = xstrdup(k);
    r->hvalue[r->nheaders] = xstrdup(v);
    r->nheaders++;
}

static void browser_headers(Req *r) {
    add_header(r, "Host", "shop.example.com");
    add_header(r, "User-Agent",
               "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/131.0.0.0 Safari/537.36");
    add_header(r, "Accept",
               "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
               "image/apng,*/*;q=0.8");
    add_header(r, "Accept-Language", "en-US,en;q=0.9,ja;q=0.8");
    add_header(r, "Accept-Encoding", "gzip, deflate, br, zstd");
    add_header(r, "Cookie",
               "session=3f9a1c0e7b2d4a6f8e1c3b5d7f9a2c4e; theme=dark; _ga=GA1.1.123456789.1700000000");
}

/* Browser headers, then Content-Type and Content-Length of the body already built. */
static void body_headers(Req *r, const char *content_type) {
    char len[32];
    browser_headers(r);
    add_header(r, "Content-Type", content_type);
    snprintf(len, sizeof len, "%zu", r->body.len);
    add_header(r, "Content-Length", len);
}

static void benign_get(Req *r) {
    r->method = "GET";
    r->uri = xstrdup("/products/shoes/running?color=blue&size=42&page=2");
    browser_headers(r);
}

static void json_2k(Req *r) {
    /* Items until their lengths, each plus one, reach 1950; joined with ','. */
    Buf items = {0};
    size_t total = 0;
    for (int n = 0; total < 1950; n++) {
        Buf item = {0};
        buf_fmt(&item, "{\"sku\":\"SKU-%05d\",\"name\":\"Running shoe model %d\",\"qty\":%d,\"price\":%d.99}",
                n, n, n % 5 + 1, 40 + n);
        if (n > 0) buf_str(&items, ",");
        buf_add(&items, item.p, item.len);
        total += item.len + 1;
        free(item.p);
    }
    buf_str(&r->body, "{\"order\":{\"customer\":\"alice@example.com\",\"items\":[");
    buf_add(&r->body, items.p, items.len);
    buf_str(&r->body, "]}}");
    free(items.p);
    r->method = "POST";
    r->uri = xstrdup("/api/orders");
    body_headers(r, "application/json");
}

static void form_10k(Req *r) {
    for (int n = 0; r->body.len < 10000; n++) {
        if (r->body.len > 0) buf_str(&r->body, "&");
        buf_fmt(&r->body, "field_%d=some+ordinary+text+value+number+%d+for+the+form", n, n);
    }
    r->method = "POST";
    r->uri = xstrdup("/account/profile");
    body_headers(r, "application/x-www-form-urlencoded");
}

static void multipart_100k(Req *r) {
    const char *boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
    const char *line = "The quick brown fox jumps over the lazy dog near the river bank.\r\n";
    char ct[128];
    buf_fmt(&r->body, "--%s\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHoliday photos\r\n",
            boundary);
    buf_fmt(&r->body,
            "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n",
            boundary);
    while (r->body.len < 100000) buf_str(&r->body, line);
    buf_fmt(&r->body, "\r\n--%s--\r\n", boundary);
    r->method = "POST";
    r->uri = xstrdup("/upload");
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", boundary);
    body_headers(r, ct);
}

static void sqli(Req *r) {
    r->method = "GET";
    r->uri = xstrdup("/products?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--%20-");
    browser_headers(r);
}

static const struct {
    const char *name;
    void (*build)(Req *);
} REQUESTS[] = {
    {"benign_get", benign_get},     {"json_post_2k", json_2k}, {"form_post_10k", form_10k},
    {"multipart_100k", multipart_100k}, {"sqli_get", sqli},
};
#define NREQUESTS (sizeof REQUESTS / sizeof REQUESTS[0])

static const char RESPONSE_BODY[] =
    "<!DOCTYPE html><html><head><title>Shop</title></head><body><h1>Running shoes</h1>"
    "<p>12 results</p></body></html>";

static void free_req(Req *r) {
    for (int i = 0; i < r->nheaders; i++) {
        free(r->hname[i]);
        free(r->hvalue[i]);
    }
    free(r->uri);
    free(r->body.p);
}

/* ---- ModSecurity ----------------------------------------------------------------------- */

/* The server-log callback: counts messages (to report them once) and writes nothing. */
static unsigned long log_messages;
static void log_cb(void *data, const void *msg) {
    (void)data;
    (void)msg;
    log_messages++;
}

/* crs.rs's setup(), plus the harness's two logging directives (no audit log, no debug log). */
static char *setup(int paranoia) {
    Buf b = {0};
    buf_str(&b,
            "SecRuleEngine On\n"
            "SecRequestBodyAccess On\n"
            "SecResponseBodyAccess On\n"
            "SecResponseBodyMimeType text/plain text/html text/xml application/json\n"
            "SecRequestBodyLimit 13107200\n"
            "SecRequestBodyNoFilesLimit 131072\n"
            "SecRule REQUEST_HEADERS:Content-Type \"@rx ^(?:application(?:/soap\\+|/)|text/)xml\" "
            "\"id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML\"\n"
            "SecRule REQUEST_HEADERS:Content-Type \"@rx ^application/json\" "
            "\"id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\n");
    buf_fmt(&b,
            "SecAction \"id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=%d\"\n",
            paranoia);
    buf_str(&b, "SecAuditEngine Off\nSecDebugLogLevel 0\n");
    return b.p;
}

static int ends_with_conf(const char *name) {
    size_t n = strlen(name);
    /* As Rust's Path::extension: ".conf" alone has no extension. */
    return n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds one rules file; dies with ModSecurity's message when it does not load. */
static int add_file(RulesSet *rules, const char *path) {
    const char *error = NULL;
    int n = msc_rules_add_file(rules, path, &error);
    if (n < 0) die("the CRS failed to load on libmodsecurity (%s):\n%s", path, error ? error : "(no message)");
    free((void *)error);
    return n;
}

static RulesSet *load(int paranoia, const char *crs, int *nrules) {
    RulesSet *rules = msc_create_rules_set();
    if (!rules) die("msc_create_rules_set failed");
    const char *error = NULL;
    char *conf = setup(paranoia);
    int total = msc_rules_add(rules, conf, &error);
    if (total < 0) die("the bench setup failed to load:\n%s", error ? error : "(no message)");
    free((void *)error);
    free(conf);

    Buf path = {0};
    buf_fmt(&path, "%s/crs-setup.conf.example", crs);
    if (access(path.p, R_OK) != 0) die("missing %s: %s", path.p, strerror(errno));
    total += add_file(rules, path.p);
    free(path.p);

    Buf dir = {0};
    buf_fmt(&dir, "%s/rules", crs);
    DIR *d = opendir(dir.p);
    if (!d) die("missing CRS rules in `%s`: %s", crs, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!ends_with_conf(e->d_name)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof *names);
            if (!names) die("out of memory");
        }
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n == 0) die("no rules/*.conf in `%s`", crs);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        Buf p = {0};
        buf_fmt(&p, "%s/%s", dir.p, names[i]);
        total += add_file(rules, p.p);
        free(p.p);
        free(names[i]);
    }
    free(names);
    free(dir.p);
    *nrules = total;
    return rules;
}

/* Returns 1 and fills *status when ModSecurity asks to interrupt; frees what it returned. */
static int intervention(Transaction *tx, int *status) {
    ModSecurityIntervention it;
    it.status = 200;
    it.pause = 0;
    it.url = NULL;
    it.log = NULL;
    it.disruptive = 0;
    int hit = msc_intervention(tx, &it);
    free(it.url);
    free(it.log);
    if (hit && it.disruptive) {
        *status = it.status;
        return 1;
    }
    return 0;
}

#define CHECK(call)                                                  \
    do {                                                             \
        if ((call) != 1) die("%s failed (returned not 1)", #call); \
    } while (0)

/* One whole transaction, as crs.rs's transaction(); returns the interruption status (0: none). */
static int transaction(ModSecurity *ms, RulesSet *rules, const Req *r, const char *resp_len) {
    Transaction *tx = msc_new_transaction(ms, rules, NULL);
    if (!tx) die("msc_new_transaction failed");
    int status = 0;
    CHECK(msc_process_connection(tx, "192.0.2.10", 51000, "192.0.2.1", 443));
    /* ModSecurity takes the HTTP version alone: REQUEST_PROTOCOL becomes "HTTP/1.1". */
    CHECK(msc_process_uri(tx, r->uri, r->method, "1.1"));
    for (int i = 0; i < r->nheaders; i++)
        CHECK(msc_add_n_request_header(tx, (const unsigned char *)r->hname[i], strlen(r->hname[i]),
                                       (const unsigned char *)r->hvalue[i], strlen(r->hvalue[i])));
    CHECK(msc_process_request_headers(tx));
    int stop = intervention(tx, &status);
    if (!stop && r->body.len > 0) {
        CHECK(msc_append_request_body(tx, (const unsigned char *)r->body.p, r->body.len));
        stop = intervention(tx, &status);
    }
    if (!stop) {
        CHECK(msc_process_request_body(tx));
        stop = intervention(tx, &status);
    }
    if (!stop) {
        CHECK(msc_add_n_response_header(tx, (const unsigned char *)"Content-Type", 12,
                                        (const unsigned char *)"text/html; charset=utf-8", 24));
        CHECK(msc_add_n_response_header(tx, (const unsigned char *)"Content-Length", 14,
                                        (const unsigned char *)resp_len, strlen(resp_len)));
        CHECK(msc_process_response_headers(tx, 200, "HTTP/1.1"));
        stop = intervention(tx, &status);
    }
    if (!stop) {
        CHECK(msc_append_response_body(tx, (const unsigned char *)RESPONSE_BODY, sizeof RESPONSE_BODY - 1));
        stop = intervention(tx, &status);
    }
    if (!stop) {
        CHECK(msc_process_response_body(tx));
        stop = intervention(tx, &status);
    }
    CHECK(msc_process_logging(tx));
    msc_transaction_cleanup(tx);
    return status;
}

/* ---- main -------------------------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr,
            "usage: modsec-bench [-n N] [-c CHUNK] [-w WARMUP_S] [-t MAX_S] CRS_DIR PL REQUEST\n"
            "       modsec-bench -d REQUEST\n"
            "REQUEST: benign_get json_post_2k form_post_10k multipart_100k sqli_get\n");
    exit(2);
}

static int find_request(const char *name) {
    for (size_t i = 0; i < NREQUESTS; i++)
        if (strcmp(REQUESTS[i].name, name) == 0) return (int)i;
    fprintf(stderr, "modsec-bench: unknown request '%s'\n", name);
    usage();
    return -1;
}

static long parse_long(const char *s, const char *what, long min) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min) die("bad %s '%s' (at least %ld)", what, s, min);
    return v;
}

static double parse_seconds(const char *s, const char *what) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || v < 0) die("bad %s '%s'", what, s);
    return v;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    long n = 20000, chunk = 1000;
    double warmup = 2.0, max_s = 0.0;
    const char *dump = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "n:c:w:t:d:")) != -1) {
        switch (opt) {
        case 'n': n = parse_long(optarg, "N", 1); break;
        case 'c': chunk = parse_long(optarg, "CHUNK", 0); break;
        case 'w': warmup = parse_seconds(optarg, "warm-up seconds"); break;
        case 't': max_s = parse_seconds(optarg, "time limit"); break;
        case 'd': dump = optarg; break;
        default: usage();
        }
    }

    if (dump) {
        /* The request as "METHOD URI", "Name: value" lines, an empty line, the body. */
        Req r = {0};
        REQUESTS[find_request(dump)].build(&r);
        printf("%s %s\n", r.method, r.uri);
        for (int i = 0; i < r.nheaders; i++) printf("%s: %s\n", r.hname[i], r.hvalue[i]);
        printf("\n");
        if (r.body.len && fwrite(r.body.p, 1, r.body.len, stdout) != r.body.len) die("write failed");
        free_req(&r);
        return fflush(stdout) == 0 ? 0 : 1;
    }

    if (argc - optind != 3) usage();
    const char *crs = argv[optind];
    int paranoia = (int)parse_long(argv[optind + 1], "paranoia level", 1);
    if (paranoia > 4) die("bad paranoia level %d (1..4)", paranoia);
    int which = find_request(argv[optind + 2]);

    ModSecurity *ms = msc_init();
    if (!ms) die("msc_init failed");
    msc_set_connector_info(ms, "sekisho-peer-bench");
    msc_set_log_cb(ms, log_cb);

    int nrules = 0;
    RulesSet *rules = load(paranoia, crs, &nrules);

    Req reqs[NREQUESTS];
    memset(reqs, 0, sizeof reqs);
    for (size_t i = 0; i < NREQUESTS; i++) {
        reqs[i].name = REQUESTS[i].name;
        REQUESTS[i].build(&reqs[i]);
    }
    char resp_len[32];
    snprintf(resp_len, sizeof resp_len, "%zu", sizeof RESPONSE_BODY - 1);

    /* Once each, untimed: the statuses prove the CRS loaded and runs. */
    fprintf(stderr,
            "modsec: %s, %d rules loaded from %s at PL%d; audit log off, debug log off; "
            "response body %zu bytes\n",
            msc_who_am_i(ms), nrules, crs, paranoia, sizeof RESPONSE_BODY - 1);
    int statuses[NREQUESTS];
    for (size_t i = 0; i < NREQUESTS; i++) {
        log_messages = 0;
        statuses[i] = transaction(ms, rules, &reqs[i], resp_len);
        fprintf(stderr, "modsec: check pl%d %s status=%d (%s) log_messages=%lu\n", paranoia, reqs[i].name,
                statuses[i], statuses[i] ? "intercepted" : "passed", log_messages);
    }
    if (statuses[0] != 0) die("the benign GET was intercepted (status %d)", statuses[0]);
    if (statuses[NREQUESTS - 1] == 0) die("the SQLi GET was not intercepted: the CRS does not run");

    const Req *r = &reqs[which];
    volatile int sink = 0;
    long warm_tx = 0;
    double start = now_s(), warm_s;
    do {
        sink += transaction(ms, rules, r, resp_len);
        warm_tx++;
    } while ((warm_s = now_s() - start) < warmup);
    if (chunk == 0) {
        chunk = (long)(0.2 / (warm_s / (double)warm_tx));
        if (chunk < 1) chunk = 1;
    }
    long chunks = (n + chunk - 1) / chunk;

    double *per_tx = xmalloc((size_t)chunks * sizeof *per_tx);
    long done_chunks = 0, done_tx = 0;
    double total = 0.0, began = now_s();
    while (done_chunks < chunks) {
        double t0 = now_s();
        for (long i = 0; i < chunk; i++) sink += transaction(ms, rules, r, resp_len);
        double t = now_s() - t0;
        per_tx[done_chunks++] = t / (double)chunk;
        done_tx += chunk;
        total += t;
        if (max_s > 0 && now_s() - began >= max_s) break;
    }
    double mean = total / (double)done_tx;
    qsort(per_tx, (size_t)done_chunks, sizeof *per_tx, cmp_double);
    double median = done_chunks % 2 ? per_tx[done_chunks / 2]
                                    : (per_tx[done_chunks / 2 - 1] + per_tx[done_chunks / 2]) / 2.0;
    printf("modsec pl%d %s n=%ld chunks=%ld chunk=%ld mean_us=%.1f fastest_us=%.1f median_us=%.1f status=%d\n",
           paranoia, r->name, done_tx, done_chunks, chunk, mean * 1e6, per_tx[0] * 1e6, median * 1e6,
           statuses[which]);
    fflush(stdout);

    free(per_tx);
    for (size_t i = 0; i < NREQUESTS; i++) free_req(&reqs[i]);
    msc_rules_cleanup(rules);
    msc_cleanup(ms);
    return sink == -1; /* never: keeps the results alive */
}
