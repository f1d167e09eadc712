"""The g++-only integer fast paths of the C-simulation (templates/hls: ``project_token``, ``token_embed``,
``dense_seq``, ``layernorm_seq``, ``gelu_lut``, ``had_attention_core``, ``fp_attention_core`` and the fixed-point
conversions they use) give the same bits as the ap_fixed code they replace.

One testbench is compiled twice, as is and with ``-DHAD_HLS_NO_FAST_CSIM`` (every layer then runs its ap_fixed body),
and run on edge values: random raw bit patterns (extremes of every type), outputs that saturate or round negative
values (AP_RND/AP_SAT result types, an unsigned result), a wrapping accumulator, constant LayerNorm rows (variance
0), GELU inputs at and next to +-2^RB, AV / normalisation / score signals wider than 64 bits (__int128), odd shapes
(L = 11, 9, 13; n_in = 13, 9; d = 4, 16, 32, 64), padding masks including a sample with every key padded, and weight
arrays refilled between calls (the weight cache must notice).
The fast build must take the fast path for every layer under test, the other build none of them; the printed output
bits must be identical.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import hls4ml
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]

TB = r"""// Both builds (default and -DHAD_HLS_NO_FAST_CSIM) print the raw bits of every output; the test compares them.
#include "ap_fixed.h"
#include "ap_int.h"
#include "nnet_had_attention.h"
#include "nnet_fp_attention.h"
#include "nnet_had_encoder.h"
#include <cstdio>
#include <random>

static std::mt19937_64 rng(12345);
static double gauss(double s) { return std::normal_distribution<double>(0, s)(rng); }
template <class T> void fill(T *a, unsigned n, double s) {
    for (unsigned i = 0; i < n; i++) a[i] = gauss(s);
}
template <class T> void raw_fill(T *a, unsigned n) { // any bit pattern: extremes, saturation, negative rounding
    for (unsigned i = 0; i < n; i++) a[i].V = (unsigned long long)rng();
}
template <class T> void put(const char *name, const T *a, unsigned n) {
    printf("%s", name);
    for (unsigned i = 0; i < n; i++) printf(" %llx", (unsigned long long)a[i].V.to_uint64());
    printf("\n");
}
static void flag(const char *name, bool ok) { printf("fast %s %d\n", name, (int)ok); }

// ---- LayerNorm: odd width, saturating output, constant rows (variance 0), huge and tiny variances
struct ln_cfg : nnet::layernorm_seq_config {
    static const unsigned seq_len = 7, n_in = 9, table_bits = 6, var_width = 48, var_frac = 30;
    typedef ap_fixed<40, 16> accum_t;
    typedef ap_ufixed<48, 18> var_t;
    typedef ap_ufixed<32, 1> inv_n_t;
    typedef ap_ufixed<18, 1> table_t;
    typedef ap_ufixed<32, 10> inv_std_t;
    typedef ap_fixed<40, 16> norm_t;
    typedef ap_fixed<16, 4> scale_t;
    typedef ap_fixed<16, 6> bias_t;
};
struct ln_cfg_rnd : ln_cfg { // rounding, saturating internal types
    typedef ap_fixed<30, 12, AP_RND, AP_SAT> accum_t;
    typedef ap_ufixed<40, 16, AP_RND, AP_SAT> var_t;
    typedef ap_ufixed<24, 10, AP_RND, AP_WRAP> inv_std_t;
    typedef ap_fixed<28, 10, AP_RND, AP_SAT> norm_t;
    static const unsigned var_width = 40, var_frac = 24;
};
template <class CFG, class X, class Y> void run_layernorm(const char *name, int trials) {
    const unsigned N = CFG::seq_len * CFG::n_in;
    static X x[N];
    static Y y[N];
    typename CFG::scale_t sc[CFG::n_in];
    typename CFG::bias_t bi[CFG::n_in];
    typename CFG::var_t eps[1];
    typename CFG::table_t tab[2 << CFG::table_bits];
    flag(name, nnet::layernorm_fast<X, Y, CFG>::ok);
    for (int t = 0; t < trials; t++) {
        fill(sc, CFG::n_in, 2);
        fill(bi, CFG::n_in, 1);
        eps[0] = t % 2 ? 1e-5 : 0.0;
        for (unsigned i = 0; i < (2u << CFG::table_bits); i++)
            tab[i] = std::uniform_real_distribution<double>(0.5, 1)(rng);
        if (t % 4 == 0) raw_fill(x, N);
        else fill(x, N, t % 4 == 1 ? 0.01 : 30);
        for (unsigned i = 0; i < CFG::n_in; i++) x[2 * CFG::n_in + i] = x[2 * CFG::n_in]; // a constant row
        nnet::layernorm_seq<X, Y, CFG>(x, y, sc, bi, eps, tab);
        put(name, y, N);
    }
}

// ---- GELU table: values at and around +-2^RB, saturating output
struct gelu_cfg : nnet::gelu_lut_config {
    static const unsigned n_in = 37, table_bits = 9;
    static const int range_bits = 2;
    typedef ap_fixed<18, 5> table_t;
};
template <class X, class Y> void run_gelu(const char *name, int trials) {
    static X x[gelu_cfg::n_in];
    static Y y[gelu_cfg::n_in];
    typename gelu_cfg::table_t tab[1 << gelu_cfg::table_bits];
    flag(name, nnet::gelu_fast<X, Y, gelu_cfg>::ok);
    for (int t = 0; t < trials; t++) {
        fill(tab, 1 << gelu_cfg::table_bits, 3);
        if (t % 3 == 0) raw_fill(x, gelu_cfg::n_in);
        else fill(x, gelu_cfg::n_in, 4);
        x[0] = 4;
        x[1] = -4;
        x[2] = 3.999;
        x[3] = -4.001;
        nnet::gelu_lut<X, Y, gelu_cfg>(x, y, tab);
        put(name, y, gelu_cfg::n_in);
    }
}

// ---- Linear per token and token embedding with a CLS row: odd shapes, wrapping accumulator, saturating output
struct dense_cfg : nnet::dense_seq_config {
    static const unsigned seq_len = 5, n_in = 13, n_out = 7;
    typedef ap_fixed<16, 4> weight_t;
    typedef ap_fixed<16, 6> bias_t;
    typedef ap_fixed<34, 10> accum_t; // wraps on large inputs
};
struct embed_cfg : nnet::token_embed_config {
    static const unsigned seq_in = 4, seq_len = 5, n_in = 11, n_out = 6;
    static const bool cls = true;
    typedef ap_fixed<16, 4> weight_t;
    typedef ap_fixed<16, 6> bias_t;
    typedef ap_fixed<40, 16> accum_t;
};
template <class X, class Y> void run_dense(const char *name, int trials) {
    static X x[dense_cfg::seq_len * dense_cfg::n_in];
    static Y y[dense_cfg::seq_len * dense_cfg::n_out];
    static dense_cfg::weight_t w[dense_cfg::n_in * dense_cfg::n_out];
    static dense_cfg::bias_t b[dense_cfg::n_out];
    static X xe[embed_cfg::seq_in * embed_cfg::n_in];
    static Y ye[embed_cfg::seq_len * embed_cfg::n_out];
    static embed_cfg::weight_t we[embed_cfg::n_in * embed_cfg::n_out];
    static embed_cfg::bias_t be[embed_cfg::seq_len * embed_cfg::n_out];
    flag(name, nnet::dense_fast<X, Y, dense_cfg>::ok && nnet::dense_fast<X, Y, embed_cfg>::ok);
    for (int t = 0; t < trials; t++) {
        raw_fill(w, dense_cfg::n_in * dense_cfg::n_out); // new contents of the same arrays: the cache must notice
        raw_fill(b, dense_cfg::n_out);
        raw_fill(we, embed_cfg::n_in * embed_cfg::n_out);
        raw_fill(be, embed_cfg::seq_len * embed_cfg::n_out);
        if (t % 2) {
            raw_fill(x, dense_cfg::seq_len * dense_cfg::n_in);
            raw_fill(xe, embed_cfg::seq_in * embed_cfg::n_in);
        } else {
            fill(x, dense_cfg::seq_len * dense_cfg::n_in, 1);
            fill(xe, embed_cfg::seq_in * embed_cfg::n_in, 1);
        }
        nnet::dense_seq<X, Y, dense_cfg>(x, y, w, b);
        put(name, y, dense_cfg::seq_len * dense_cfg::n_out);
        nnet::token_embed<X, Y, embed_cfg>(xe, ye, we, be);
        put(name, ye, embed_cfg::seq_len * embed_cfg::n_out);
    }
}

// ---- HAD attention: odd L, E = H * d, padding masks (including all keys padded), saturating value/context/result
template <unsigned L_, unsigned H_, unsigned D_, unsigned N_> struct att_cfg : nnet::had_attention_config {
    static const unsigned seq_len = L_, embed_dim = H_ * D_, num_heads = H_, head_dim = D_, top_n = N_;
    static const unsigned recip_index_bits = 10, value_width = 16, value_frac = 10, recip_frac = 17;
    static const unsigned context_width = 16, context_frac = 10, sum_width = 22;
    typedef ap_fixed<16, 4> weight_t;
    typedef ap_fixed<16, 6> bias_t;
    typedef ap_fixed<44, 18> accum_t;
    typedef ap_fixed<16, 6, AP_RND, AP_SAT> value_t;
    typedef ap_fixed<16, 6, AP_RND, AP_SAT> context_t;
    typedef ap_uint<18> exp_t;
    typedef ap_uint<18> recip_t;
    typedef ap_uint<22> sum_t;
    typedef ap_int<40> av_acc_t;
    typedef ap_int<59> norm_prod_t;
    typedef ap_uint<7> ham_t;
    typedef ap_uint<6> count_t;
};
template <class CFG, class X, class Y> void run_attention(const char *name, int trials, double scale) {
    const unsigned L = CFG::seq_len, E = CFG::embed_dim;
    static X x[L * E];
    static Y y[L * E];
    static bool valid[L];
    static typename CFG::weight_t w[4][E * E];
    static typename CFG::bias_t b[4][E];
    typename CFG::exp_t et[CFG::head_dim + 1];
    static typename CFG::recip_t rt[1 << CFG::recip_index_bits];
    flag(name, nnet::had_fast<X, Y, CFG>::ok);
    for (int t = 0; t < trials; t++) {
        for (int k = 0; k < 4; k++) {
            fill(w[k], E * E, 0.3);
            fill(b[k], E, 0.3);
        }
        for (unsigned i = 0; i <= CFG::head_dim; i++) et[i] = (unsigned)(rng() % (1u << 18));
        for (unsigned i = 0; i < (1u << CFG::recip_index_bits); i++) rt[i] = (unsigned)(rng() % (1u << 18));
        if (t % 5 == 4) raw_fill(x, L * E);
        else fill(x, L * E, scale);
        const unsigned pad = t % 4 == 3 ? L : (unsigned)(rng() % (L / 2 + 1)); // t % 4 == 3: every key padded
        for (unsigned j = 0; j < L; j++) valid[j] = j + pad < L;
        nnet::had_attention_core<X, Y, CFG>(x, valid, y, w[0], b[0], w[1], b[1], w[2], b[2], w[3], b[3], et, rt);
        put(name, y, L * E);
    }
}

// ---- FP attention baseline: the same shapes and edge cases (padding, all keys padded, raw bit patterns)
template <unsigned L_, unsigned H_, unsigned D_> struct fp_cfg : att_cfg<L_, H_, D_, L_> {
    static const unsigned qk_width = 16, exp_table_size = 1024, index_shift = 31;
    static const unsigned long inv_sqrt_d = 131072 / (D_ == 4 ? 2 : (D_ == 16 ? 4 : 6));
    typedef ap_fixed<16, 6, AP_RND, AP_SAT> qk_t;
    typedef ap_int<2 * 16 + 7> score_t;
    typedef ap_int<2 * 16 + 8> score_diff_t;
    typedef ap_int<2 * 16 + 8 + 18> index_prod_t;
    typedef ap_uint<30> sum_t;
    static const unsigned sum_width = 30;
};
template <class CFG, class X, class Y> void run_fp(const char *name, int trials, double scale) {
    const unsigned L = CFG::seq_len, E = CFG::embed_dim;
    static X x[L * E];
    static Y y[L * E];
    static bool valid[L];
    static typename CFG::weight_t w[4][E * E];
    static typename CFG::bias_t b[4][E];
    static typename CFG::exp_t et[CFG::exp_table_size];
    static typename CFG::recip_t rt[1 << CFG::recip_index_bits];
    flag(name, nnet::fp_fast<X, Y, CFG>::ok);
    for (int t = 0; t < trials; t++) {
        for (int k = 0; k < 4; k++) {
            fill(w[k], E * E, 0.3);
            fill(b[k], E, 0.3);
        }
        for (unsigned i = 0; i < CFG::exp_table_size; i++) et[i] = (unsigned)(rng() % (1u << 18));
        for (unsigned i = 0; i < (1u << CFG::recip_index_bits); i++) rt[i] = (unsigned)(rng() % (1u << 18));
        if (t % 5 == 4) raw_fill(x, L * E);
        else fill(x, L * E, scale);
        const unsigned pad = t % 4 == 3 ? L : (unsigned)(rng() % (L / 2 + 1));
        for (unsigned j = 0; j < L; j++) valid[j] = j + pad < L;
        nnet::fp_attention_core<X, Y, CFG>(x, valid, y, w[0], b[0], w[1], b[1], w[2], b[2], w[3], b[3], et, rt);
        put(name, y, L * E);
    }
}

// ---- signals wider than 64 bits (long L on the default types: norm_prod_t ap_int<67> at L = 8192), in __int128
template <unsigned L_, unsigned H_, unsigned D_, unsigned N_> struct att_wide_cfg : att_cfg<L_, H_, D_, N_> {
    typedef ap_int<70> av_acc_t;
    typedef ap_int<89> norm_prod_t;
};
template <unsigned L_, unsigned H_, unsigned D_> struct fp_wide_cfg : fp_cfg<L_, H_, D_> {
    static const unsigned qk_width = 31, index_shift = 2 * 20 + 17 - 6;
    typedef ap_fixed<31, 11, AP_RND, AP_SAT> qk_t;
    typedef ap_int<2 * 31 + 7> score_t;
    typedef ap_int<2 * 31 + 8> score_diff_t;
    typedef ap_int<2 * 31 + 8 + 18> index_prod_t;
    typedef ap_int<48> av_acc_t;
    typedef ap_int<67> norm_prod_t;
};

// ---- conversions: random raw bits of a wide accumulator into rounding / saturating / unsigned / wrapping types
template <class S, class D> void run_copy(const char *name, int n) {
    flag(name, nnet::fixed_traits<S>::ok && nnet::fixed_traits<D>::convertible);
    long bad = 0;
    for (int i = 0; i < n; i++) {
        S s;
        s.V = (unsigned long long)rng();
        if (i % 3 == 0) s = gauss(3);
        D fast, plain;
        nnet::fixed_copy<S, D>::run(s, fast);
        plain = s;
        bad += fast != plain || fast.V.to_uint64() != plain.V.to_uint64();
    }
    printf("copy %s %ld\n", name, bad);
}

int main() {
    run_layernorm<ln_cfg, ap_fixed<18, 8>, ap_fixed<16, 6> >("ln", 12);
    run_layernorm<ln_cfg, ap_fixed<18, 8>, ap_fixed<8, 3, AP_RND, AP_SAT> >("ln_sat", 12);
    run_layernorm<ln_cfg_rnd, ap_fixed<14, 7, AP_RND, AP_SAT>, ap_ufixed<9, 2, AP_RND, AP_SAT> >("ln_rnd", 12);
    run_gelu<ap_fixed<18, 8>, ap_fixed<18, 8> >("gelu", 10);
    run_gelu<ap_fixed<12, 5>, ap_fixed<7, 2, AP_RND, AP_SAT> >("gelu_sat", 10);
    run_dense<ap_fixed<18, 8>, ap_fixed<18, 8> >("dense", 8);
    run_dense<ap_fixed<16, 6>, ap_fixed<9, 3, AP_RND, AP_SAT> >("dense_sat", 8);
    run_attention<att_cfg<11, 3, 4, 5>, ap_fixed<16, 6>, ap_fixed<16, 6, AP_RND, AP_SAT> >("att", 10, 1);
    typedef ap_fixed<16, 6, AP_RND, AP_SAT> in_sat_t;
    run_attention<att_cfg<9, 2, 32, 9>, in_sat_t, ap_fixed<12, 3, AP_TRN, AP_SAT> >("att_d32", 10, 8);
    run_attention<att_cfg<13, 1, 64, 1>, ap_fixed<16, 6>, ap_fixed<16, 6> >("att_d64", 6, 2);
    run_fp<fp_cfg<11, 3, 4>, ap_fixed<16, 6>, ap_fixed<16, 6, AP_RND, AP_SAT> >("fp", 10, 1);
    run_fp<fp_cfg<9, 2, 16>, in_sat_t, ap_fixed<12, 3, AP_TRN, AP_SAT> >("fp_d16", 10, 8);
    run_attention<att_wide_cfg<11, 2, 16, 4>, ap_fixed<16, 6>, ap_fixed<16, 6, AP_RND, AP_SAT> >("att_wide", 10, 4);
    run_fp<fp_wide_cfg<11, 2, 16>, ap_fixed<16, 6>, ap_fixed<16, 6, AP_RND, AP_SAT> >("fp_wide", 10, 4);
    run_copy<ap_fixed<40, 16>, ap_fixed<8, 3, AP_RND, AP_SAT> >("rnd_sat", 20000);
    run_copy<ap_fixed<40, 16>, ap_ufixed<7, 2, AP_RND, AP_SAT> >("u_rnd_sat", 20000);
    run_copy<ap_fixed<40, 16>, ap_fixed<10, 4> >("trn_wrap", 20000);
    run_copy<ap_fixed<40, 16>, ap_ufixed<9, 9, AP_TRN, AP_SAT> >("u_int_sat", 20000);
    run_copy<ap_ufixed<20, 3>, ap_fixed<30, 20, AP_RND, AP_WRAP> >("widen", 20000);
    run_copy<ap_fixed<62, 40>, ap_fixed<64, 10, AP_RND, AP_SAT> >("wide", 20000);
}
"""

LAYERS = (
    "ln", "ln_sat", "ln_rnd", "gelu", "gelu_sat", "dense", "dense_sat", "att", "att_d32", "att_d64", "fp", "fp_d16",
    "att_wide", "fp_wide",
)  # fmt: skip


def _build_and_run(tmp_path: Path) -> tuple[list[str], list[str]]:
    ap_types = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    src = tmp_path / "tb.cpp"
    src.write_text(TB)
    base = ["g++", "-O1", "-std=c++17", "-w", f"-I{ap_types}", f"-I{REPO / 'templates' / 'hls'}", str(src)]
    builds = {"fast": [], "plain": ["-DHAD_HLS_NO_FAST_CSIM"]}
    procs = {k: subprocess.Popen([*base, *flags, "-o", str(tmp_path / k)], stderr=subprocess.PIPE, text=True)
             for k, flags in builds.items()}  # fmt: skip
    for name, proc in procs.items():
        _, err = proc.communicate()
        assert proc.returncode == 0, f"{name} build failed: {err[-2000:]}"
    outs = [subprocess.run([str(tmp_path / k)], check=True, capture_output=True, text=True).stdout for k in builds]
    return outs[0].splitlines(), outs[1].splitlines()


def test_fast_csim_paths_equal_ap_fixed_bit_for_bit(tmp_path: Path) -> None:
    fast, plain = _build_and_run(tmp_path)
    flags_fast = {line.split()[1]: line.split()[2] for line in fast if line.startswith("fast ")}
    flags_plain = {line.split()[1]: line.split()[2] for line in plain if line.startswith("fast ")}
    assert all(flags_fast[k] == "1" for k in flags_fast), flags_fast  # the fast build really is fast
    assert all(flags_plain[k] == "0" for k in LAYERS), flags_plain  # the other one really runs ap_fixed
    data_fast = [line for line in fast if not line.startswith("fast ")]
    data_plain = [line for line in plain if not line.startswith("fast ")]
    assert len(data_fast) == len(data_plain) > 100
    for layer in LAYERS:
        rows = [(a, b) for a, b in zip(data_fast, data_plain, strict=True) if a.split()[0] == layer]
        assert rows, layer
        bad = sum(a != b for a, b in rows)
        assert bad == 0, f"{layer}: {bad} of {len(rows)} outputs differ between the fast path and ap_fixed"
    copies = [line.split() for line in data_fast if line.startswith("copy ")]
    assert len(copies) == 6 and all(c[2] == "0" for c in copies), copies
