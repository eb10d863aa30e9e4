# The benchmark lines (key=value fields) of ./run bench as aligned tables;
# ratio = attograd / PyTorch (time, or peak RSS); speed-up = attograd's 1-thread time / its
# time on that many threads.  Usage: awk -f tests/bench/table.awk FILE
function field(name,   i, kv) {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
    return ""
}
# bench_peak: one core's peaks and the read bandwidth of 1 and 2 threads
$1 == "peak" { fma = field("fma_gflops"); dpbf16 = field("dpbf16_gflops") }
$1 == "bandwidth" { bw[field("threads")] = field("gb_per_s") }
# bench_generate, pytorch_generate.py: one token with the cache
$1 == "generate" {
    k = field("mode") SUBSEP field("threads")
    if (!(k in genseen)) { genseen[k] = 1; gencases[++ngen] = k }
    gen[field("impl") == "pytorch" ? "pytorch" : "attograd", k] = field("ms_per_token")
    if (field("weight_bytes") != "") genbytes[k] = field("weight_bytes") + field("kv_bytes")
}
# bench_matmul; "of peak": of bench_peak's FMA peak times the threads (the
# bf16 column: its operands are rounded to bf16 and multiplied by FMAs when
# vdpbf16ps is slower, so the FMA peak bounds it too; of the vdpbf16ps peak
# in the raw figures)
function of_peak(g, t) { return fma > 0 && g != "" ? sprintf("%.0f%%", 100 * g / (fma * t)) : "-" }
$1 == "matmul" {
    if (!nm++) printf "%-24s %7s %9s %7s %9s %7s %9s %6s\n", "matmul (GFLOP/s)", "threads",
        "attograd", "of peak", "bf16", "of peak", "OpenBLAS", "ratio"
    c = "n=" field("n") " " field("op") (field("B") != "" ? " B=" field("B") : "")
    t = field("threads") == "" ? 1 : field("threads")
    printf "%-24s %7d %9s %7s %9s %7s %9s %6s\n", c, t, field("attograd_gflops"),
        of_peak(field("attograd_gflops"), t),
        field("attograd_bf16_gflops") != "" ? field("attograd_bf16_gflops") : "-",
        of_peak(field("attograd_bf16_gflops"), t),
        field("openblas_gflops") != "" ? field("openblas_gflops") : "-",
        field("ratio") != "" ? field("ratio") : "-"
}
$1 == "train_step" {
    c = sprintf("%s B=%s T=%s %s->%s%s%s", field("model"), field("B"), field("T"),
                field("d_in"), field("d_out"),
                field("lr") != "" && field("lr") != 0.01 ? " lr=" field("lr") : "",
                field("flush_denormal") == 1 ? " ftz" : "")
    k = c SUBSEP field("threads")
    if (!(c in seen)) { seen[c] = 1; cases[++nc] = c }
    if (field("threads") > maxt) maxt = field("threads")
    us[field("impl") == "pytorch" ? "pytorch" : "attograd", k] = field("us_per_step")
}
$1 == "gpt_step" {
    c = field("config") " B=" field("B") " T=" field("T") (field("mode") == "bf16" ? " bf16" : "")
    k = c SUBSEP field("threads")
    if (!(c in gseen)) { gseen[c] = 1; gcases[++ng] = c }
    if (field("threads") > gmaxt) gmaxt = field("threads")
    impl = field("impl") == "pytorch" ? "pytorch" : "attograd"
    gms[impl, k] = field("ms_per_step"); grss[impl, k] = field("peak_rss_kb")
    if (field("gflop") != "") {
        gflop[k] = field("gflop"); gbf16[k] = field("mode") == "bf16"
        gstate[k] = field("state_kb"); gfwd[k] = field("forward_kb")
    }
}
# accuracy: a bf16 curve's largest relative distance from its fp32 run's,
# and the mean over the steps (both runs' curves from the same impl)
$1 == "accuracy" {
    c = field("config"); impl = field("impl")
    if (!(c in aseen)) { aseen[c] = 1; acases[++na] = c }
    n = split(field("losses"), v, ",")
    if (field("mode") == "fp32") { for (j = 1; j <= n; j++) fp[impl, c, j] = v[j]; next }
    worst = 0; sum = 0
    for (j = 1; j <= n; j++) {
        d = (v[j] - fp[impl, c, j]) / fp[impl, c, j]; if (d < 0) d = -d
        sum += d; if (d > worst) worst = d
    }
    amax[impl, c] = sprintf("%.3f%%", 100 * worst); amean[impl, c] = sprintf("%.3f%%", 100 * sum / n)
    asteps[c] = n
}
$1 == "toy_run" { rss = field("peak_rss_kb"); steps = field("steps") }
# the resident set, not the peak: a process inherits the peak
# (ru_maxrss) of its parent across exec, and under meson that is meson
$1 == "soak" {
    if (field("step") == 100000) soak_early = field("rss_kb")
    soak_steps = field("step"); soak_last = field("rss_kb")
}
END {
    if (nc) printf "\n%-38s %7s %12s %12s %7s %9s\n", "training step (us per step)",
        "threads", "attograd", "PyTorch", "ratio", "speed-up"
    for (i = 1; i <= nc; i++) for (t = 1; t <= maxt; t++) {
        k = cases[i] SUBSEP t; a = us["attograd", k]; p = us["pytorch", k]
        if (a == "" && p == "") continue
        a1 = us["attograd", cases[i] SUBSEP 1]   # speed-up: attograd, 1 thread / t
        printf "%-38s %7d %12s %12s %7s %9s\n", cases[i], t, a == "" ? "-" : a,
            p == "" ? "-" : p, a != "" && p != "" ? sprintf("%.3f", a / p) : "-",
            (t > 1 && a != "" && a1 != "" ? sprintf("%.2fx", a1 / a) : "")
    }
    if (ng) printf "\n%-26s %7s %10s %10s %7s %9s %12s %12s %7s\n", "GPT training step (ms)",
        "threads", "attograd", "PyTorch", "ratio", "speed-up", "RSS attograd", "RSS PyTorch",
        "ratio"
    for (i = 1; i <= ng; i++) for (t = 1; t <= gmaxt; t++) {
        k = gcases[i] SUBSEP t; a = gms["attograd", k]; p = gms["pytorch", k]
        if (a == "" && p == "") continue
        a1 = gms["attograd", gcases[i] SUBSEP 1]   # speed-up: attograd, 1 thread / t
        ra = grss["attograd", k]; rp = grss["pytorch", k]
        printf "%-26s %7d %10s %10s %7s %9s %12s %12s %7s\n", gcases[i], t, a == "" ? "-" : a,
            p == "" ? "-" : p, a != "" && p != "" ? sprintf("%.3f", a / p) : "-",
            (t > 1 && a != "" && a1 != "" ? sprintf("%.2fx", a1 / a) : ""),
            ra == "" ? "-" : sprintf("%.1f MB", ra / 1024), rp == "" ? "-" : sprintf("%.1f MB", rp / 1024),
            ra != "" && rp != "" ? sprintf("%.3f", ra / rp) : "-"
    }
    if (ng && fma != "") {
        printf "\n%-26s %7s %9s %9s %11s %11s %11s\n", "GPT step: products, memory", "threads",
            "GFLOP/s", "of peak", "state MB", "forward MB", "RSS/needed"
        for (i = 1; i <= ng; i++) for (t = 1; t <= gmaxt; t++) {
            k = gcases[i] SUBSEP t; a = gms["attograd", k]
            if (a == "" || gflop[k] == "") continue
            # bf16's peak: the faster of vdpbf16ps and FMAs on rounded values
            pk = (gbf16[k] && dpbf16 > fma ? dpbf16 : fma) * t
            rate = gflop[k] / (a / 1000)
            printf "%-26s %7d %9.1f %8.0f%% %11.1f %11.1f %11.2f\n", gcases[i], t, rate,
                100 * rate / pk, gstate[k] / 1024, gfwd[k] / 1024,
                grss["attograd", k] / (gstate[k] + gfwd[k])
        }
    }
    if (ngen) printf "\n%-26s %7s %10s %10s %7s %12s %9s\n", "GPT-124M token, ctx 1000 (ms)",
        "threads", "attograd", "PyTorch", "ratio", "stream (ms)", "/stream"
    for (i = 1; i <= ngen; i++) {
        k = gencases[i]; split(k, mt, SUBSEP); a = gen["attograd", k]; p = gen["pytorch", k]
        st = genbytes[k] != "" && bw[mt[2]] != "" ? genbytes[k] / (bw[mt[2]] * 1e6) : ""
        printf "%-26s %7d %10s %10s %7s %12s %9s\n", mt[1], mt[2], a == "" ? "-" : a,
            p == "" ? "-" : p, a != "" && p != "" ? sprintf("%.3f", a / p) : "-",
            st == "" ? "-" : sprintf("%.1f", st), st != "" && a != "" ? sprintf("%.2f", a / st) : "-"
    }
    if (gen["attograd", "bf16" SUBSEP 1] != "" && gen["attograd", "fp32" SUBSEP 1] != "")
        printf "bf16 / fp32 token time (attograd, 1 thread): %.3f\n",
            gen["attograd", "bf16" SUBSEP 1] / gen["attograd", "fp32" SUBSEP 1]
    if (fma != "") {
        printf "\nmachine: one core's FMA peak %.1f GFLOP/s, vdpbf16ps peak %.1f GFLOP/s", fma, dpbf16
        for (t = 1; t <= 8; t++) if (bw[t] != "") printf(", read bandwidth %d thread%s %.1f GB/s", t,
            (t > 1 ? "s" : ""), bw[t])
        printf "\n"
    }
    if (na) printf "\n%-26s %6s %14s %14s %14s %14s\n", "bf16 loss vs fp32 (rel.)", "steps",
        "attograd max", "attograd mean", "PyTorch max", "PyTorch mean"
    for (i = 1; i <= na; i++) {
        c = acases[i]
        printf "%-26s %6s %14s %14s %14s %14s\n", c, asteps[c],
            amax["attograd", c] == "" ? "-" : amax["attograd", c],
            amean["attograd", c] == "" ? "-" : amean["attograd", c],
            amax["pytorch", c] == "" ? "-" : amax["pytorch", c],
            amean["pytorch", c] == "" ? "-" : amean["pytorch", c]
    }
    if (rss != "") printf "\ntoy training run (%s steps): peak RSS %.1f MB\n", steps, rss / 1024
    if (soak_early != "")
        printf "soak (toy task): RSS %.1f MB after 100000 steps, %.1f MB after %s\n",
            soak_early / 1024, soak_last / 1024, soak_steps
}
