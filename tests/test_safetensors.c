/*
 * Files of named tensors (tensor/io/safetensors.c): round trips, the reference
 * writer's exact bytes, and saves that fail midway without losing the
 * previous file.  Malformed files are in test_bad_input.c's table.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "core/tensor_internal.h"
#include "program_run.h"
#include "testutil.h"

START_TEST(test_round_trip_of_every_kind)
{
    scratch_make("st");
    float w[6] = {1.5f, -2, 3, NAN, INFINITY, -0.0f};
    int64_t step = 1234567890123LL;
    uint32_t mt[4] = {0, 1, 0xdeadbeefu, 0xffffffffu};
    double d[2] = {0.1, -1e300};
    TensorEntry out[] = {
        {.name = "W_query.weight", .dtype = TENSOR_F32, .ndim = 2, .shape = {2, 3}, .data = w},
        {.name = "step", .dtype = TENSOR_I64, .ndim = 0, .data = &step},
        {.name = "generator.mt", .dtype = TENSOR_U32, .ndim = 1, .shape = {4}, .data = mt},
        {.name = "normal", .dtype = TENSOR_F64, .ndim = 1, .shape = {2}, .data = d},
        {.name = "empty", .dtype = TENSOR_F32, .ndim = 2, .shape = {0, 3}, .data = NULL},
        {.name = "h\xc3\xa9\"ad\\s\n", .dtype = TENSOR_F32, .ndim = 1, .shape = {1}, .data = w},
    };
    TensorMeta meta[] = {{"format", "pt"}, {"model", "v2"}, {"quote", "a \"b\" \\ c"}};
    ck_assert_int_eq(tensor_save_entries(scratch_file("a.safetensors"), 6, out, 3, meta), 0);

    TensorFile *f = tensor_file_open(scratch_file("a.safetensors"));
    ck_assert_msg(f != NULL, "%s", tensor_error());
    ck_assert_int_eq(tensor_file_count(f), 6);
    /* Data order: the reference's dtype order reversed (U64, I64, F64, F32,
     * U32, ...: 8-byte types first, so every tensor stays aligned), then by
     * name. */
    static const char *const order[] = {
        "step", "normal", "W_query.weight", "empty", "h\xc3\xa9\"ad\\s\n", "generator.mt"};
    for (int i = 0; i < 6; i++) ck_assert_str_eq(tensor_file_entry(f, i)->name, order[i]);
    ck_assert_ptr_null(tensor_file_entry(f, 6));
    ck_assert_str_eq(tensor_file_meta(f, "model"), "v2");
    ck_assert_str_eq(tensor_file_meta(f, "quote"), "a \"b\" \\ c");
    ck_assert_ptr_null(tensor_file_meta(f, "nothing"));
    ck_assert_int_eq(tensor_file_expect_meta(f, "model", "v2"), 0);

    float w2[6], h2[1];
    int64_t step2;
    uint32_t mt2[4];
    double d2[2];
    TensorEntry in[6];
    memcpy(in, out, sizeof in);
    in[0].data = w2, in[1].data = &step2, in[2].data = mt2, in[3].data = d2, in[5].data = h2;
    ck_assert_msg(tensor_file_read(f, 6, in, "test") == 0, "%s", tensor_error());
    ck_assert_mem_eq(w2, w, sizeof w); /* bits, NaN and -0 included */
    ck_assert(step2 == step);
    ck_assert_mem_eq(mt2, mt, sizeof mt);
    ck_assert_mem_eq(d2, d, sizeof d);
    ck_assert_mem_eq(h2, w, sizeof h2);
    tensor_file_close(f);
    scratch_remove();
}
END_TEST

/* The reference writer's own test vectors: an empty file, with and without
 * metadata, and a header padded with spaces to keep the data aligned. */
START_TEST(test_bytes_match_the_reference_writer)
{
    scratch_make("st");
    size_t n;
    ck_assert_int_eq(tensor_save_entries(scratch_file("e"), 0, NULL, 0, NULL), 0);
    unsigned char *b = (unsigned char *)testutil_read_file(scratch_file("e"), &n);
    ck_assert_uint_eq(n, 16);
    ck_assert_mem_eq(b, "\x08\0\0\0\0\0\0\0{}      ", 16);

    TensorMeta meta = {"framework", "pt"};
    ck_assert_int_eq(tensor_save_entries(scratch_file("m"), 0, NULL, 1, &meta), 0);
    free(b);
    b = (unsigned char *)testutil_read_file(scratch_file("m"), &n);
    ck_assert_uint_eq(n, 48);
    ck_assert_mem_eq(b, "\x28\0\0\0\0\0\0\0{\"__metadata__\":{\"framework\":\"pt\"}}     ", 48);

    float v[6] = {0, 1, 2, 3, 4, 5};
    TensorEntry e = {
        .name = "attn0", .dtype = TENSOR_F32, .ndim = 4, .shape = {1, 1, 2, 3}, .data = v};
    ck_assert_int_eq(tensor_save_entries(scratch_file("a"), 1, &e, 0, NULL), 0);
    free(b);
    b = (unsigned char *)testutil_read_file(scratch_file("a"), &n);
    const char *json = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}"
                       "       ";
    ck_assert_uint_eq(n, 8 + 72 + 24);
    ck_assert_int_eq(b[0], 72);
    ck_assert_mem_eq(b + 8, json, 72);
    ck_assert_mem_eq(b + 80, v, 24);
    free(b);
    scratch_remove();
}
END_TEST

START_TEST(test_entry_of_a_view_is_row_major)
{
    Tensor *a = tensor_arange(0, 6, 1);
    Tensor *t = tensor_t(tensor_view(a, SHAPE(2, 3))); /* (3,2), not contiguous */
    TensorEntry e = tensor_entry("t", t);
    ck_assert_int_eq(e.ndim, 2);
    ck_assert_int_eq(e.shape[0], 3);
    const float *d = e.data;
    static const float expect[6] = {0, 3, 1, 4, 2, 5};
    ck_assert_mem_eq(d, expect, sizeof expect);
    ck_assert_ptr_null(tensor_entry("none", NULL).data);
}
END_TEST

/* Saves old, then fails the nth write of a save of new over it. */
static void fail_save_at(int nth)
{
    float old[4] = {1, 2, 3, 4}, new[4] = {5, 6, 7, 8}, back[4];
    TensorEntry e = {.name = "w", .dtype = TENSOR_F32, .ndim = 1, .shape = {4}, .data = old};
    const char *path = scratch_file("ck.safetensors");
    ck_assert_int_eq(tensor_save_entries(path, 1, &e, 0, NULL), 0);
    e.data = new;
    tensor__fail_write(nth);
    ck_assert_int_eq(tensor_save_entries(path, 1, &e, 0, NULL), -1);
    tensor__fail_write(0);
    char expect[512];
    snprintf(expect, sizeof expect, "save %s: No space left on device", path);
    ck_assert_str_eq(tensor_error(), expect);
    ck_assert_int_eq(scratch_count(), 1); /* no temporary file left */
    TensorFile *f = tensor_file_open(path);
    ck_assert_msg(f != NULL, "%s", tensor_error());
    e.data = back;
    ck_assert_int_eq(tensor_file_read(f, 1, &e, "test"), 0);
    ck_assert_mem_eq(back, old, sizeof old);
    tensor_file_close(f);
}

/* Writes 1, 2 and 3 are the length, the header and the data. */
START_TEST(test_failed_save_keeps_the_old_file)
{
    scratch_make("st");
    fail_save_at(_i + 1);
    scratch_remove();
}
END_TEST

START_TEST(test_save_into_a_missing_folder_or_over_a_folder)
{
    scratch_make("st");
    TensorEntry e = {.name = "w", .dtype = TENSOR_F32, .ndim = 0, .data = &(float){1}};
    char path[256], expect[512];
    snprintf(path, sizeof path, "%s/no/such/dir/x.safetensors", scratch_dir());
    ck_assert_int_eq(tensor_save_entries(path, 1, &e, 0, NULL), -1);
    snprintf(expect, sizeof expect, "save %s: the folder %s/no/such/dir does not exist", path,
             scratch_dir());
    ck_assert_str_eq(tensor_error(), expect);
    /* The target is a folder: refused before anything is written. */
    snprintf(path, sizeof path, "%s/sub", scratch_dir());
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_int_eq(tensor_save_entries(path, 1, &e, 0, NULL), -1);
    snprintf(expect, sizeof expect, "save %s: is a folder; only a regular file is replaced", path);
    ck_assert_str_eq(tensor_error(), expect);
    ck_assert_int_eq(scratch_count(), 1);
    rmdir(path);
    scratch_remove();
}
END_TEST

/* The read checks' file, opened: "f" in a new folder, tensors a and b. */
static float saved_a[2] = {1, 2}, saved_b[3] = {3, 4, 5};

static TensorFile *open_a_and_b(void)
{
    scratch_make("st");
    TensorEntry out[2] = {
        {.name = "a", .dtype = TENSOR_F32, .ndim = 1, .shape = {2}, .data = saved_a},
        {.name = "b", .dtype = TENSOR_F32, .ndim = 1, .shape = {3}, .data = saved_b},
    };
    ck_assert_int_eq(tensor_save_entries(scratch_file("f"), 2, out, 0, NULL), 0);
    TensorFile *f = tensor_file_open(scratch_file("f"));
    ck_assert_msg(f != NULL, "%s", tensor_error());
    return f;
}

START_TEST(test_read_checks_everything_before_copying)
{
    TensorFile *f = open_a_and_b();
    float a2[2] = {-1, -1}, b2[3] = {-1, -1, -1};
    /* b's shape is wrong, but a comes first: a must not be written. */
    TensorEntry in[2] = {
        {.name = "a", .dtype = TENSOR_F32, .ndim = 1, .shape = {2}, .data = a2},
        {.name = "b", .dtype = TENSOR_F32, .ndim = 2, .shape = {3, 1}, .data = b2},
    };
    ck_assert_int_eq(tensor_file_read(f, 2, in, "module"), -1);
    char expect[512];
    snprintf(expect, sizeof expect, "load %s: b: shape (3) in file, (3,1) in module",
             scratch_file("f"));
    ck_assert_str_eq(tensor_error(), expect);
    ck_assert(a2[0] == -1 && a2[1] == -1);
    in[1].ndim = 1;
    ck_assert_int_eq(tensor_file_read(f, 2, in, "module"), 0);
    ck_assert_mem_eq(b2, saved_b, sizeof saved_b);
    tensor_file_close(f);
    scratch_remove();
}
END_TEST

/* One tensor out of a file that holds more: the others stay unread; a
 * NULL destination checks only; the messages are tensor_file_read's. */
START_TEST(test_read_one_of_many)
{
    TensorFile *f = open_a_and_b();
    float b2[3] = {-1, -1, -1};
    TensorEntry want = {.name = "b", .dtype = TENSOR_F32, .ndim = 1, .shape = {3}};
    ck_assert_int_eq(tensor_file_read_one(f, &want, "model"), 0);   /* checks only */
    want.data = b2;
    ck_assert_int_eq(tensor_file_read_one(f, &want, "model"), 0);
    ck_assert_mem_eq(b2, saved_b, sizeof saved_b);
    char expect[512];
    want.shape[0] = 4;
    ck_assert_int_eq(tensor_file_read_one(f, &want, "model"), -1);
    snprintf(expect, sizeof expect, "load %s: b: shape (3) in file, (4) in model", scratch_file("f"));
    ck_assert_str_eq(tensor_error(), expect);
    want.name = "c";
    ck_assert_int_eq(tensor_file_read_one(f, &want, "model"), -1);
    snprintf(expect, sizeof expect, "load %s: c is missing from the file (it holds a, b)",
             scratch_file("f"));
    ck_assert_str_eq(tensor_error(), expect);
    ck_assert_float_eq(b2[0], 3);
    tensor_file_close(f);
    scratch_remove();
}
END_TEST

static Suite *safetensors_suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("files");
    tcase_add_test(tc, test_round_trip_of_every_kind);
    tcase_add_test(tc, test_bytes_match_the_reference_writer);
    tcase_add_test(tc, test_entry_of_a_view_is_row_major);
    tcase_add_loop_test(tc, test_failed_save_keeps_the_old_file, 0, 3);
    tcase_add_test(tc, test_save_into_a_missing_folder_or_over_a_folder);
    tcase_add_test(tc, test_read_checks_everything_before_copying);
    tcase_add_test(tc, test_read_one_of_many);
    suite_add_tcase(s, tc);
    return s;
}

TESTUTIL_MAIN(safetensors_suite)
