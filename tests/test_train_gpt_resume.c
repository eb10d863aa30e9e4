/*
 * train_gpt --save / --resume / --stop-after-steps as a user runs them: a
 * run stopped and resumed (dropout on, shuffled loaders, so the generator's
 * state and the loader's place both matter) prints exactly the lines of the
 * run done in one go, and its CSV (one file given to every piece, or a file
 * per piece) holds the same rows byte for byte, a killed run's too; a
 * checkpoint of another run is refused with one line naming what differs,
 * and nothing is written; the checkpoint's metadata carries the config
 * (nn_gpt_config_to_meta) for gpt_generate --load.  The progress bar is drawn on
 * a terminal only, and stdout stays the same with it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* The bytes fixture of test_train.c: PyTorch's printed lines are
 * tests/reference/train_gpt_bytes.expected.  143 steps an epoch. */
#define ARGS                                                                            \
    "--config book-test --tokenizer bytes --context-length 32 --epochs 2 --batch 4 "    \
    "--eval-freq 10 --eval-iter 2 --lr 5e-4 --seed 7"
enum { STEPS_PER_EPOCH = 143 };

static char dir[64];           /* the suite's scratch directory */
static char whole_csv[128];    /* run A's CSV */
static char ck20[128];         /* a checkpoint at step 20 */

static void run_ok(const char *flags, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/examples/train_gpt " ARGS " %s 2>/dev/null",
             ATTOGRAD_BUILD_DIR, flags);
    ck_assert_msg(testutil_capture(cmd, out, cap) == 0, "train_gpt %s failed", flags);
}

/* Exit status and stderr (one line expected) of a run. */
static int run_err(const char *flags, char *err, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/examples/train_gpt " ARGS " %s 2>&1 >/dev/null",
             ATTOGRAD_BUILD_DIR, flags);
    return testutil_capture(cmd, err, cap);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Run A (the CSV of the uninterrupted run) and a checkpoint at step 20,
 * once for the suite. */
static void setup(void)
{
    static char out[1 << 16];
    snprintf(dir, sizeof dir, "/tmp/train_gpt_resume-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char flags[512];
    snprintf(whole_csv, sizeof whole_csv, "%s/whole.csv", dir);
    snprintf(flags, sizeof flags, "--csv %s", whole_csv);
    run_ok(flags, out, sizeof out);
    ck_assert_str_eq(out, testutil_read_text(ATTOGRAD_REFERENCE_DIR "/train_gpt_bytes.expected"));
    snprintf(ck20, sizeof ck20, "%s/ck20.safetensors", dir);
    snprintf(flags, sizeof flags, "--stop-after-steps 20 --save %s", ck20);
    run_ok(flags, out, sizeof out);
}

static void teardown(void)
{
    remove(whole_csv);
    remove(ck20);
    rmdir(dir);
}

/* Stop points of the pieces a run is cut into (0 ends the list; the last
 * piece runs to the end): inside the first epoch, right after the last
 * step of an epoch (before its sample), after the very first step, and a
 * resumed run stopped and saved again. */
static const int64_t plans[][3] = {
    {37, 0},
    {STEPS_PER_EPOCH, 0},
    {1, STEPS_PER_EPOCH + 57, 0},
};

/* text is whole's first lines (whole lines only). */
static bool is_prefix(const char *text, size_t n, const char *whole, size_t whole_len)
{
    return n <= whole_len && memcmp(text, whole, n) == 0 && (n == 0 || text[n - 1] == '\n');
}

START_TEST(test_pieces_print_the_whole_run)
{
    static char out[1 << 16], all[1 << 16];
    char ck[128], csv[128], flags[1024];
    size_t n_all = 0, whole_len, len;
    snprintf(ck, sizeof ck, "%s/ck%d.safetensors", dir, _i);
    snprintf(csv, sizeof csv, "%s/piece%d.csv", dir, _i);
    char *whole = testutil_read_file(whole_csv, &whole_len);
    for (int piece = 0;; piece++) {
        int64_t stop = plans[_i][piece];
        int at = 0;
        at += snprintf(flags + at, sizeof flags - at, "--csv %s", csv);
        if (piece) at += snprintf(flags + at, sizeof flags - at, " --resume %s", ck);
        if (stop)
            snprintf(flags + at, sizeof flags - at, " --stop-after-steps %lld --save %s",
                     (long long)stop, ck);
        run_ok(flags, out, sizeof out);
        size_t n = strlen(out);
        ck_assert_uint_lt(n_all + n, sizeof all);
        memcpy(all + n_all, out, n + 1);
        n_all += n;
        /* One CSV for the whole run: each piece keeps the rows before it. */
        char *text = testutil_read_file(csv, &len);
        ck_assert_msg(is_prefix(text, len, whole, whole_len), "piece %d: %s", piece, text);
        free(text);
        if (!stop) break;
    }
    /* Every line and sample as in PyTorch's uninterrupted run. */
    ck_assert_str_eq(all, testutil_read_text(ATTOGRAD_REFERENCE_DIR "/train_gpt_bytes.expected"));
    char *text = testutil_read_file(csv, &len);
    ck_assert_str_eq(text, whole); /* the CSV rows byte for byte */
    free(text);
    free(whole);
    remove(ck);
    remove(csv);
}
END_TEST

/* A resumed run given a new --csv name writes its own rows there: the first
 * piece's rows then the second's are the whole run's (the README's a.csv,
 * b.csv). */
START_TEST(test_pieces_in_two_csvs)
{
    static char out[1 << 16];
    char ck[128], a[128], b[128], flags[1024];
    snprintf(ck, sizeof ck, "%s/two.safetensors", dir);
    snprintf(a, sizeof a, "%s/a.csv", dir);
    snprintf(b, sizeof b, "%s/b.csv", dir);
    snprintf(flags, sizeof flags, "--csv %s --stop-after-steps 100 --save %s", a, ck);
    run_ok(flags, out, sizeof out);
    snprintf(flags, sizeof flags, "--csv %s --resume %s", b, ck);
    run_ok(flags, out, sizeof out);
    size_t na, nb, nw;
    char *ta = testutil_read_file(a, &na), *tb = testutil_read_file(b, &nb);
    char *whole = testutil_read_file(whole_csv, &nw);
    const char *body = strchr(tb, '\n') + 1;
    ck_assert_uint_eq(na + nb - (size_t)(body - tb), nw);
    ck_assert(memcmp(ta, whole, na) == 0 && memcmp(body, whole + na, nw - na) == 0);
    free(ta);
    free(tb);
    free(whole);
    remove(a);
    remove(b);
    remove(ck);
}
END_TEST

/* Names in the suite's folder that hold ".tmp-": temporaries left behind. */
static int temporaries(void)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

/* kill -9 in the middle of a run that saves every 20 steps: its CSV holds
 * whole rows up to at least its last checkpoint, and the run resumed from
 * that checkpoint with the same --csv ends with the uninterrupted run's
 * CSV, byte for byte, and no temporary file beside it. */
START_TEST(test_killed_run_resumes_into_its_csv)
{
    static char out[1 << 16];
    char ck[128], csv[128], cmd[2048], flags[1024];
    snprintf(ck, sizeof ck, "%s/killed.safetensors", dir);
    snprintf(csv, sizeof csv, "%s/killed.csv", dir);
    snprintf(cmd, sizeof cmd, "exec %s/examples/train_gpt " ARGS " --csv %s --save %s "
             "--save-every 20 >/dev/null 2>&1", ATTOGRAD_BUILD_DIR, csv, ck);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 6000 && !exists(ck); i++) usleep(10000);
    ck_assert_msg(exists(ck), "no checkpoint after a minute");
    kill(pid, SIGKILL);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status), "the run ended before it was killed");
    size_t len, whole_len;
    char *whole = testutil_read_file(whole_csv, &whole_len);
    char *text = testutil_read_file(csv, &len);
    ck_assert(is_prefix(text, len, whole, whole_len));
    ck_assert_ptr_nonnull(strstr(text, "\n10,"));   /* the rows the checkpoint covers (step 19) */
    free(text);
    snprintf(flags, sizeof flags, "--csv %s --resume %s --save %s", csv, ck, ck);
    run_ok(flags, out, sizeof out);
    text = testutil_read_file(csv, &len);
    ck_assert_str_eq(text, whole);
    ck_assert_int_eq(temporaries(), 0);
    free(text);
    free(whole);
    remove(csv);
    remove(ck);
}
END_TEST

/* Periodic saves leave the printed lines as they are. */
START_TEST(test_save_every_changes_no_line)
{
    static char out[1 << 16];
    char ck[128], flags[512];
    snprintf(ck, sizeof ck, "%s/every.safetensors", dir);
    snprintf(flags, sizeof flags, "--save-every 50 --save %s", ck);
    run_ok(flags, out, sizeof out);
    ck_assert_str_eq(out, testutil_read_text(ATTOGRAD_REFERENCE_DIR "/train_gpt_bytes.expected"));
    ck_assert(exists(ck));
    remove(ck);
}
END_TEST

/* A checkpoint the flags do not fit: one line naming the key and both
 * values, exit 2, and no file written (the CSV, a new --save path, and the
 * checkpoint itself when --save names it). */
static const struct {
    const char *flags, *message;
} other_runs[] = {
    {"--emb-dim 64", "metadata \"emb_dim\" is \"32\" in file, \"64\" expected"},
    {"--n-layers 3", "metadata \"n_layers\" is \"2\" in file, \"3\" expected"},
    {"--context-length 24", "metadata \"context_length\" is \"32\" in file, \"24\" expected"},
    {"--qkv-bias", "metadata \"qkv_bias\" is \"false\" in file, \"true\" expected"},
    {"--lr 1e-3", "metadata \"lr\" is \"0.00050000000000000001\" in file, \"0.001\" expected"},
    {"--batch 2", "metadata \"batch\" is \"4\" in file, \"2\" expected"},
    {"--bf16", "metadata \"autocast\" is \"fp32\" in file, \"bf16\" expected"},
};

START_TEST(test_another_run_is_refused)
{
    char flags[1024], err[1024], csv[128], fresh[128], expect[512];
    size_t before_len, after_len;
    snprintf(csv, sizeof csv, "%s/refused.csv", dir);
    snprintf(fresh, sizeof fresh, "%s/refused.safetensors", dir);
    char *before = testutil_read_file(ck20, &before_len);
    for (int same = 0; same < 2; same++) {
        snprintf(flags, sizeof flags, "%s --resume %s --csv %s --save %s", other_runs[_i].flags,
                 ck20, csv, same ? ck20 : fresh);
        ck_assert_int_eq(run_err(flags, err, sizeof err), 2);
        snprintf(expect, sizeof expect, "train_gpt: --resume: load %s: %s\n", ck20,
                 other_runs[_i].message);
        ck_assert_str_eq(err, expect);
        ck_assert(!exists(csv) && !exists(fresh));
    }
    char *after = testutil_read_file(ck20, &after_len);
    ck_assert(before_len == after_len && memcmp(before, after, before_len) == 0);
    free(before);
    free(after);
}
END_TEST

/* Another training text (the same sizes and flags) is another run. */
START_TEST(test_another_text_is_refused)
{
    char text[128], flags[512], err[1024];
    snprintf(text, sizeof text, "%s/other.txt", dir);
    FILE *f = fopen(text, "w");
    for (int i = 0; i < 400; i++) fprintf(f, "Every effort moves you %d.\n", i);
    fclose(f);
    snprintf(flags, sizeof flags, "--text %s --resume %s", text, ck20);
    ck_assert_int_eq(run_err(flags, err, sizeof err), 2);
    ck_assert_msg(strstr(err, "metadata \"text_fnv1a64\" is \"") && !strchr(err, '\n')[1],
                  "one line naming the text's hash: %s", err);
    remove(text);
}
END_TEST

/* Where entry name's bytes are in a safetensors file's bytes (its header's
 * data_offsets, after the 8-byte length and the header). */
static void data_range(const char *bytes, const char *name, size_t *from, size_t *to)
{
    uint64_t header;
    memcpy(&header, bytes, 8);
    char key[128];
    snprintf(key, sizeof key, "\"%s\":{", name);
    const char *e = strstr(bytes + 8, key), *o = e ? strstr(e, "\"data_offsets\":[") : NULL;
    unsigned long long a, b;
    ck_assert_msg(o && sscanf(o, "\"data_offsets\":[%llu,%llu]", &a, &b) == 2, "no %s", name);
    *from = 8 + header + a;
    *to = 8 + header + b;
}

/* Files that are no checkpoint, or a broken one: exit 1, one line. */
START_TEST(test_missing_or_corrupt_file)
{
    char bad[128], flags[512], err[1024], expect[512];
    size_t len;
    snprintf(flags, sizeof flags, "--resume %s/absent.safetensors", dir);
    ck_assert_int_eq(run_err(flags, err, sizeof err), 1);
    snprintf(expect, sizeof expect,
             "train_gpt: --resume: load %s/absent.safetensors: No such file or directory\n", dir);
    ck_assert_str_eq(err, expect);

    char *bytes = testutil_read_file(ck20, &len);
    /* Each case spoils one thing: cut the file short, make a weight's first
     * float a NaN, zero the generator's MT state, put the loader past its
     * epoch's end. */
    const struct {
        const char *entry;    /* NULL: the file cut to keep bytes */
        size_t keep;
        unsigned char fill;
        const char *part;
    } cases[] = {
        {NULL, 1000, 0, "runs past the end of the file"},
        {NULL, len - 4, 0, "load"},
        {"final_norm.scale", 4, 0xff, "final_norm.scale holds a NaN or an infinity"},
        {"generator.mt", 624 * 4, 0, "generator"},
        {"loader.batch", 2, 0x7f, "the loader's place (epoch 1, batch 32639) does not fit"},
        /* Counters that disagree with each other (20 steps in the file):
         * each would resume with shifted steps. */
        {"step", 1, 0, "its counters disagree: step 0, but the optimizer has taken 20 steps"},
        {"loader.batch", 1, 3, "its counters disagree: step 20, but the loader's place (epoch 1, "
                               "batch 3 of 143) is 3 steps in"},
        {"tokens_seen", 1, 1, "its counters disagree: step 20, but tokens_seen 2561 is not 20 "
                              "steps of 4 x 32 tokens"},
        {"evals", 1, 1, "its counters disagree: step 20, but evals 1, where --eval-freq 10 "
                        "evaluates 2 times in 20 steps"},
    };
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        FILE *f = fopen(bad, "wb");
        char *copy = malloc(len);
        memcpy(copy, bytes, len);
        size_t keep = cases[c].keep;
        if (cases[c].entry) {
            size_t from, to;
            data_range(copy, cases[c].entry, &from, &to);
            ck_assert_uint_le(from + cases[c].keep, to);
            memset(copy + from, cases[c].fill, cases[c].keep);
            keep = len;
        }
        ck_assert_int_eq(fwrite(copy, 1, keep, f), keep);
        free(copy);
        fclose(f);
        snprintf(flags, sizeof flags, "--resume %s", bad);
        ck_assert_int_eq(run_err(flags, err, sizeof err), 1);
        ck_assert_msg(strstr(err, cases[c].part) && !strchr(err, '\n')[1], "case %zu: %s", c,
                      err);
    }
    free(bytes);
    remove(bad);
}
END_TEST

START_TEST(test_nothing_left_to_train)
{
    char flags[512], err[1024], expect[512];
    snprintf(flags, sizeof flags, "--resume %s --stop-after-steps 20", ck20);
    ck_assert_int_eq(run_err(flags, err, sizeof err), 2);
    snprintf(expect, sizeof expect, "train_gpt: --resume: %s is at step 20, epoch 1: --epochs 2 "
             "--stop-after-steps 20 leaves nothing to train\n", ck20);
    ck_assert_str_eq(err, expect);
    ck_assert_int_eq(run_err("--save-every 5", err, sizeof err), 2);
    ck_assert_str_eq(err, "train_gpt: --save-every needs --save FILE\n");
}
END_TEST

static bool same_config(NNGPTConfig a, NNGPTConfig b)
{
    return a.vocab_size == b.vocab_size && a.context_length == b.context_length &&
           a.emb_dim == b.emb_dim && a.n_heads == b.n_heads && a.n_layers == b.n_layers &&
           a.drop_rate == b.drop_rate && a.qkv_bias == b.qkv_bias;
}

/* The metadata gpt_generate --load reads: train_gpt's file gives back the
 * config it trained; to_meta and from_meta round-trip; a bad value is
 * named. */
START_TEST(test_config_in_the_metadata)
{
    NNGPTConfig cfg;
    const char *tok;
    TensorFile *f = tensor_file_open(ck20);
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(nn_gpt_config_from_meta(f, ck20, &cfg, &tok) == 0, "%s", tensor_error());
    tensor_file_close(f);
    NNGPTConfig want = NN_GPT_CONFIG_BOOK_TEST;
    want.vocab_size = 256;
    want.context_length = 32;
    ck_assert(same_config(cfg, want));
    ck_assert_str_eq(tok, "bytes");

    char path[128];
    snprintf(path, sizeof path, "%s/meta.safetensors", dir);
    NNGPTMeta m;
    NNGPTConfig odd = {50257, 1024, 768, 12, 12, 0.3, true};
    nn_gpt_config_to_meta(odd, "gpt2", &m);
    ck_assert_int_eq(tensor_save_entries(path, 0, NULL, NN_GPT_META_COUNT, m.meta), 0);
    f = tensor_file_open(path);
    ck_assert_int_eq(nn_gpt_config_from_meta(f, path, &cfg, &tok), 0);
    tensor_file_close(f);
    ck_assert(same_config(cfg, odd) && strcmp(tok, "gpt2") == 0);

    const struct {
        int key;
        const char *value, *message;
    } bad[] = {
        {2, "0", "metadata \"emb_dim\" is \"0\", not a whole number from 1 to 65536"},
        {5, "1.5", "metadata \"drop_rate\" is \"1.5\", not a number in [0, 1)"},
        {6, "yes", "metadata \"qkv_bias\" is \"yes\", not true or false"},
        {7, "bpe", "metadata \"tokenizer\" is \"bpe\", not gpt2 or bytes"},
        {-1, NULL, "no metadata \"tokenizer\" (not a train_gpt checkpoint?)"},
    };
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
        nn_gpt_config_to_meta(odd, "gpt2", &m);
        int n = NN_GPT_META_COUNT;
        if (bad[b].key < 0) n--;
        else m.meta[bad[b].key].value = bad[b].value;
        ck_assert_int_eq(tensor_save_entries(path, 0, NULL, n, m.meta), 0);
        f = tensor_file_open(path);
        ck_assert_int_eq(nn_gpt_config_from_meta(f, path, &cfg, &tok), -1);
        tensor_file_close(f);
        char expect[512];
        snprintf(expect, sizeof expect, "load %s: %s", path, bad[b].message);
        ck_assert_str_eq(tensor_error(), expect);
    }
    remove(path);
}
END_TEST

/* train_gpt with stderr on a new pseudo-terminal and stdout into out_path;
 * what the terminal showed into tty (NUL-terminated).  Exit status. */
static int run_on_pty(const char *extra, const char *out_path, char *tty, size_t cap)
{
    char prog[512];
    snprintf(prog, sizeof prog, "%s/examples/train_gpt", ATTOGRAD_BUILD_DIR);
    char *argv[32] = {prog};
    char args[512];
    snprintf(args, sizeof args, ARGS " %s", extra);
    int argc = 1;
    for (char *rest = NULL, *t = strtok_r(args, " ", &rest); t && argc < 31;
         t = strtok_r(NULL, " ", &rest))
        argv[argc++] = t;
    argv[argc] = NULL;
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) _exit(127);
        execv(prog, argv);
        _exit(127);
    }
    /* Read to the end (the child blocks on a full terminal otherwise),
     * keeping the first cap - 1 bytes. */
    size_t n = 0;
    char spill[4096];
    for (;;) {
        bool full = n == cap - 1;
        ssize_t got = full ? read(master, spill, sizeof spill) : read(master, tty + n, cap - 1 - n);
        if (got > 0) n += full ? 0 : (size_t)got;
        else if (got < 0 && errno == EINTR) continue;
        else break; /* EIO: the child's side closed */
    }
    tty[n] = '\0';
    close(master);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(test_progress_bar_on_a_terminal_only)
{
    static char tty[1 << 16];
    char out[128], err[128], cmd[1024];
    const char *expected = ATTOGRAD_REFERENCE_DIR "/train_gpt_bytes.expected";
    snprintf(out, sizeof out, "%s/bar.out", dir);
    snprintf(err, sizeof err, "%s/bar.err", dir);
    /* A terminal: the bar, redrawn with \r, tokens/s and ETA; stdout unchanged. */
    ck_assert_int_eq(run_on_pty("", out, tty, sizeof tty), 0);
    ck_assert_msg(strstr(tty, "\r[") && strstr(tty, " tok/s  ETA "), "no bar: %.300s", tty);
    ck_assert_msg(strstr(tty, "/286  "), "no step count of the 286 steps: %.300s", tty);
    ck_assert_msg(strstr(tty, "the first step took"), "no estimate: %.300s", tty);
    size_t len;
    char *got = testutil_read_file(out, &len);
    ck_assert_str_eq(got, testutil_read_text(expected));
    free(got);
    /* --quiet on a terminal: neither bar nor estimate. */
    ck_assert_int_eq(run_on_pty("--quiet", out, tty, sizeof tty), 0);
    ck_assert_str_eq(tty, "");
    /* stderr a file: one line, the estimate, and no bar. */
    snprintf(cmd, sizeof cmd, "%s/examples/train_gpt " ARGS " >%s 2>%s", ATTOGRAD_BUILD_DIR, out,
             err);
    ck_assert_int_eq(system(cmd), 0);
    char *text = testutil_read_file(err, &len);
    ck_assert_msg(!strchr(text, '\r') && strncmp(text, "train_gpt: ", 11) == 0 &&
                      strstr(text, "evaluations left\n") == text + len - 17,
                  "stderr: %s", text);
    ck_assert_int_eq(strchr(text, '\n') - text, (long)len - 1); /* one line */
    free(text);
    got = testutil_read_file(out, &len);
    ck_assert_str_eq(got, testutil_read_text(expected));
    free(got);
    remove(out);
    remove(err);
}
END_TEST

static Suite *resume_suite(void)
{
    Suite *s = suite_create("train_gpt_resume");
    TCase *tc = tcase_create("train_gpt");
    /* Each case runs train_gpt two or three times (seconds each; many times
     * that under the sanitizers). */
    tcase_set_timeout(tc, 1200);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_pieces_print_the_whole_run, 0, sizeof plans / sizeof *plans);
    tcase_add_test(tc, test_pieces_in_two_csvs);
    tcase_add_test(tc, test_killed_run_resumes_into_its_csv);
    tcase_add_test(tc, test_save_every_changes_no_line);
    tcase_add_loop_test(tc, test_another_run_is_refused, 0, sizeof other_runs / sizeof *other_runs);
    tcase_add_test(tc, test_another_text_is_refused);
    tcase_add_test(tc, test_missing_or_corrupt_file);
    tcase_add_test(tc, test_nothing_left_to_train);
    tcase_add_test(tc, test_config_in_the_metadata);
    tcase_add_test(tc, test_progress_bar_on_a_terminal_only);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(resume_suite)
