"""The g++-only integer fast paths of the C-simulation (templates/hls: ``token_embed``, ``dense_seq``,
``layernorm_seq``, ``gelu_lut``, ``attention`` on ``had_core`` and ``fp_core``, and the fixed-point conversions they
use) give the same bits as the ap_fixed code they replace, which for the attention layers is the DATAFLOW core that
is synthesized.

One testbench is compiled twice, with ``-DHAD_HLS_FAST_CSIM_ENABLE`` (the fast paths, as had-hls's build_lib.sh) and
as Vitis C simulation compiles it (``-std=c++0x``, no define: every layer runs its ap_fixed body), and run on edge
values: random raw bit patterns (extremes of every type), outputs that saturate or round negative
values (AP_RND/AP_SAT result types, an unsigned result), a wrapping accumulator, constant LayerNorm rows (variance
0), GELU inputs at and next to +-2^RB, AV / normalisation / score signals wider than 64 bits (__int128), odd shapes
(L = 11, 9, 13; n_in = 13, 9; d = 4, 16, 32, 64), padding masks including a sample with every key padded, weight
arrays refilled between calls (the weight cache must notice), and every projection schedule (ReuseFactor <= n_in, a
multiple of n_in, Strategy Latency; P = 2, 3, 4 lanes). The attention configs are the ones
had_hls.hls.attention_layers writes (config_struct from a spec and its schedule).
The fast build must take the fast path for every layer under test, the other build none of them; the printed output
bits must be identical.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import hls4ml
import pytest
from conftest import seeded_layer

from had_hls.fixed import FixedType
from had_hls.hls.attention_layers import config_struct
from had_hls.hls.projection_plan import ProjectionPlan
from had_hls.hls.schedule import attention_schedule
from had_hls.precision import Precision
from had_hls.spec import spec_from_module

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
    static const unsigned seq_len = 5;
// DENSE_PLAN
    typedef ap_fixed<16, 4> weight_t;
    typedef ap_fixed<16, 6> bias_t;
    typedef ap_fixed<34, 10> accum_t; // wraps on large inputs
};
struct embed_cfg : nnet::token_embed_config {
    static const unsigned seq_in = 4, seq_len = 5;
// EMBED_PLAN
    static const bool cls = true;
    typedef ap_fixed<16, 4> weight_t;
    typedef ap_fixed<16, 6> bias_t;
    typedef ap_fixed<40, 16> accum_t;
};
template <class X, class Y> void run_dense(const char *name, int trials) {
    static X x[dense_cfg::seq_len * dense_cfg::n_in];
    static Y y[dense_cfg::seq_len * dense_cfg::n_out];
    static dense_cfg::weight_t w[dense_cfg::cycles * dense_cfg::block];
    static dense_cfg::bias_t b[dense_cfg::n_out];
    static X xe[embed_cfg::seq_in * embed_cfg::n_in];
    static Y ye[embed_cfg::seq_len * embed_cfg::n_out];
    static embed_cfg::weight_t we[embed_cfg::cycles * embed_cfg::block];
    static embed_cfg::bias_t be[embed_cfg::seq_len * embed_cfg::n_out];
    flag(name, nnet::dense_fast<X, Y, dense_cfg>::ok && nnet::dense_fast<X, Y, embed_cfg>::ok);
    for (int t = 0; t < trials; t++) {
        raw_fill(w, dense_cfg::cycles * dense_cfg::block); // new contents of the same arrays: the cache must notice
        raw_fill(b, dense_cfg::n_out);
        raw_fill(we, embed_cfg::cycles * embed_cfg::block);
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
// CONFIGS (written by the test from had_hls.hls.attention_layers.config_struct)
// one layer function for both kinds: the config's `core` (had_core / fp_core) picks the core
template <class CFG, class X, class Y, class W, class B, class ET, class RT>
void call_layer(X *x, ap_uint<1> *mask, Y *y, W w[3][CFG::proj_config::cycles * CFG::proj_config::block], W *wo,
                B b[4][CFG::embed_dim], ET *et, RT *rt) {
    nnet::attention_masked<X, ap_uint<1>, Y, CFG>(x, mask, y, w[0], b[0], w[1], b[1], w[2], b[2], wo, b[3], et, rt);
}
template <class CFG, class X, class Y, bool FP>
void run_layer(const char *name, int trials, double scale, const typename CFG::exp_t *et_size_hint) {
    const unsigned L = CFG::seq_len, E = CFG::embed_dim;
    const unsigned NW = CFG::proj_config::cycles * CFG::proj_config::block;
    const unsigned NWO = CFG::wo_config::cycles * CFG::wo_config::block;
    const unsigned T = FP ? 1024 : CFG::head_dim + 1;
    static X x[L * E];
    static Y y[L * E];
    static ap_uint<1> mask[L];
    static typename CFG::weight_t w[3][NW], wo[NWO];
    static typename CFG::bias_t b[4][E];
    static typename CFG::exp_t et[T];
    static typename CFG::recip_t rt[1 << CFG::recip_index_bits];
    (void)et_size_hint;
    for (int t = 0; t < trials; t++) {
        for (int k = 0; k < 3; k++) fill(w[k], NW, 0.3);
        fill(wo, NWO, 0.3);
        for (int k = 0; k < 4; k++) fill(b[k], E, 0.3);
        for (unsigned i = 0; i < T; i++) et[i] = (unsigned)(rng() % (1u << 18));
        for (unsigned i = 0; i < (1u << CFG::recip_index_bits); i++) rt[i] = (unsigned)(rng() % (1u << 18));
        if (t % 5 == 4) raw_fill(x, L * E);
        else fill(x, L * E, scale);
        const unsigned pad = t % 4 == 3 ? L : (unsigned)(rng() % (L / 2 + 1)); // t % 4 == 3: every key padded
        for (unsigned j = 0; j < L; j++) mask[j] = j + pad < L ? 0 : 1;
        call_layer<CFG, X, Y>(x, mask, y, w, wo, b, et, rt);
        put(name, y, L * E);
    }
}
template <class CFG, class X, class Y> void run_attention(const char *name, int trials, double scale) {
    flag(name, nnet::had_fast<X, Y, CFG>::ok);
    run_layer<CFG, X, Y, false>(name, trials, scale, 0);
}
template <class CFG, class X, class Y> void run_fp(const char *name, int trials, double scale) {
    flag(name, nnet::fp_fast<X, Y, CFG>::ok);
    run_layer<CFG, X, Y, true>(name, trials, scale, 0);
}

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
    run_attention<config1, ap_fixed<16, 6>, ap_fixed<16, 6, AP_RND, AP_SAT> >("att", 10, 1);
    typedef ap_fixed<16, 6, AP_RND, AP_SAT> in_sat_t;
    run_attention<config2, in_sat_t, ap_fixed<12, 3, AP_TRN, AP_SAT> >("att_d32", 10, 8);
    run_attention<config3, ap_fixed<16, 6>, ap_fixed<16, 6> >("att_d64", 6, 2);
    run_fp<config4, ap_fixed<16, 6>, ap_fixed<16, 6, AP_RND, AP_SAT> >("fp", 10, 1);
    run_fp<config5, in_sat_t, ap_fixed<12, 3, AP_TRN, AP_SAT> >("fp_d16", 10, 8);
    run_attention<config6, ap_fixed<16, 6>, ap_fixed<16, 6, AP_RND, AP_SAT> >("att_wide", 10, 4);
    run_fp<config7, ap_fixed<16, 6>, ap_fixed<16, 6, AP_RND, AP_SAT> >("fp_wide", 10, 4);
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


# (name, L, E, H, N, kind, lanes, ReuseFactor, Strategy): every projection schedule, P = 2, 3, 4
ATTENTION = [
    ("config1", 11, 12, 3, 5, "had", 4, None, "resource"),
    ("config2", 9, 64, 2, 9, "had", 3, 128, "resource"),  # ReuseFactor 2 n_in: output blocks
    ("config3", 13, 64, 1, 1, "had", 4, 4, "latency"),  # one step of all MACs at II = 4
    ("config4", 11, 12, 3, 11, "fp", 2, None, "resource"),
    ("config5", 9, 32, 2, 9, "fp", 4, 32, "resource"),
    ("config6", 11, 32, 2, 4, "had", 2, None, "resource"),  # av_acc_t 69 bits, norm_prod_t 88 bits (WIDE)
    ("config7", 11, 32, 2, 11, "fp", 2, None, "resource"),  # score_t 67 bits, index_prod_t 86 bits (WIDE)
]
# signals wider than 64 bits (as long L gives on the default types: norm_prod_t ap_int<67> at L = 8192): __int128
WIDE = Precision(
    value=FixedType(40, 20, quant="AP_RND", overflow="AP_SAT"),
    qk=FixedType(31, 11, quant="AP_RND", overflow="AP_SAT"),
    exp_table=FixedType(26, 1, signed=False),
)


def _configs() -> tuple[str, str, str]:
    """The attention config structs (had_hls.hls.attention_layers) and the encoder Linear plans of the TB."""
    structs = []
    for name, seq, embed, heads, top_n, kind, lanes, rf, strategy in ATTENTION:
        layer = seeded_layer(embed, heads, top_n if kind == "had" else None, mode="hard" if kind == "had" else "float")
        spec = spec_from_module(layer, kind, seq, WIDE if name in ("config6", "config7") else Precision(), False)
        sched = attention_schedule(spec, lanes, rf, strategy)
        base = "had_attention_config" if kind == "had" else "fp_attention_config"
        text = config_struct(spec, sched, int(name[6:]), base, "ap_fixed<16,4>", "ap_fixed<16,6>", "io_parallel")
        structs.append(text)
    dense = "\n".join(ProjectionPlan.for_reuse(13, 7, 91, "resource").config_lines())
    embed = "\n".join(ProjectionPlan.for_reuse(11, 6, 1, "resource").config_lines())
    return "\n".join(structs), dense, embed


def _build_and_run(tmp_path: Path) -> tuple[list[str], list[str]]:
    ap_types = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    nnet_utils = Path(hls4ml.__file__).parent / "templates" / "vivado" / "nnet_utils"
    src = tmp_path / "tb.cpp"
    configs, dense, embed = _configs()
    text = TB.replace("// CONFIGS (written by the test from had_hls.hls.attention_layers.config_struct)", configs)
    src.write_text(text.replace("// DENSE_PLAN", dense).replace("// EMBED_PLAN", embed))
    base = ["g++", "-O1", "-w", f"-I{ap_types}", f"-I{nnet_utils}", f"-I{REPO / 'templates' / 'hls'}", str(src)]
    builds = {"fast": ["-std=c++17", "-DHAD_HLS_FAST_CSIM_ENABLE"], "plain": ["-std=c++0x"]}
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
